import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lmad import build_model
from lmad.cli import main
from lmad.predict import AffordanceDetector
from lmad.queries import parse_queries

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def detector(checkpoint):
    return AffordanceDetector.from_pretrained(checkpoint, device="cpu", num_points=64)


def cloud(n=300, seed=0):
    rng = np.random.default_rng(seed)
    points = rng.normal(size=(n, 3)).astype(np.float32)
    points[:, 1] *= 2.0
    return points


def test_result_fields_shapes_and_point_order(detector):
    points = cloud()
    result = detector(points, ["grasp", "pour"])
    assert result.queries == ["grasp", "pour"] and not result.exclusive  # a per-query model: multi-label
    assert result.points.dtype == np.float64 and np.array_equal(result.points, points)  # input order kept
    assert result.valid.all()
    assert result.scores.shape == (300, 2) and result.scores.dtype == np.float32
    assert ((result.scores >= 0) & (result.scores <= 1)).all()
    assert result.labels.shape == (300,) and result.labels.dtype == np.int64
    best = result.scores.argmax(1)
    expected = np.where(result.scores.max(1) >= 0.5, best, -1)  # the best query reaching the threshold, else -1
    assert np.array_equal(result.labels, expected)


def test_a_query_gets_the_same_scores_whatever_else_is_asked(detector):
    points = cloud(seed=5)
    alone = detector(points, ["grasp"])
    among = detector(points, ["contain", "grasp", "where to sit", "pour", "cut"])
    assert np.allclose(alone.scores[:, 0], among.scores[:, 1], atol=1e-5)


def test_threshold_decides_regions_which_may_overlap(checkpoint):
    points = cloud(seed=6)
    low = AffordanceDetector.from_pretrained(checkpoint, device="cpu", num_points=64, threshold=0.01)
    high = AffordanceDetector.from_pretrained(checkpoint, device="cpu", num_points=64, threshold=0.99)
    everywhere, nowhere = low(points, ["grasp", "pour"]), high(points, ["grasp", "pour"])
    assert (everywhere.labels >= 0).all() and (nowhere.labels == -1).all()
    summary = everywhere.summary()["queries"]
    assert summary["grasp"]["points"] == summary["pour"]["points"] == 300  # both regions cover every point
    with pytest.raises(ValueError, match="threshold"):
        AffordanceDetector.from_pretrained(checkpoint, device="cpu", threshold=1.0)


def test_none_asked_explicitly_is_one_minus_the_best_other_query(detector):
    result = detector(cloud(seed=7), ["grasp", "none", "pour"])
    assert result.queries == ["grasp", "none", "pour"]
    assert np.allclose(result.scores[:, 1], 1 - result.scores[:, [0, 2]].max(1), atol=1e-6)
    assert (result.labels >= 0).all()  # points no query reaches are labelled `none` (index 1), not -1


def test_exclusive_mode_is_a_softmax_with_none_appended(checkpoint):
    exclusive = AffordanceDetector.from_pretrained(checkpoint, device="cpu", num_points=64, exclusive=True)
    multi = AffordanceDetector.from_pretrained(checkpoint, device="cpu", num_points=64)
    points = cloud(seed=8)
    a, b = exclusive(points, ["grasp", "pour"]), multi(points, ["grasp", "pour"])
    assert a.queries == ["grasp", "pour", "none"]
    assert np.allclose(a.scores.sum(1), 1, atol=1e-5) and np.array_equal(a.labels, a.scores.argmax(1))
    # the same decision as the multi-label rule: `none` competes as the threshold
    assert np.array_equal(np.where(a.labels == 2, -1, a.labels), b.labels)


def test_softmax_trained_models_are_only_read_exclusively(tmp_path, tiny_model_overrides):
    path = build_model("lmad", objective="cross_entropy", **tiny_model_overrides).save_pretrained(tmp_path / "ce")
    detector = AffordanceDetector.from_pretrained(path, device="cpu", num_points=64)
    result = detector(cloud(), ["grasp"])
    assert detector.exclusive and result.queries == ["grasp", "none"]
    assert np.allclose(result.scores.sum(1), 1, atol=1e-5)
    with pytest.raises(ValueError, match="exclusive"):
        AffordanceDetector.from_pretrained(path, device="cpu", exclusive=False)


def test_labels_are_invariant_to_scale_and_translation(detector):
    # one view: float32 rounding at this offset (about 1e-7 of the extent) is near the sampling
    # hash's grid (2^-20), so other views' random sampling starts can land on other points
    single = detector.with_options(tta=1)
    points = cloud(seed=1)
    moved = points * 1000.0 + np.array([5e3, -2e3, 7e2], dtype=np.float32)
    a = single(points, ["grasp", "pour"])
    b = single(moved, ["grasp", "pour"])
    assert np.array_equal(a.labels, b.labels)
    assert np.allclose(a.scores, b.scores, atol=1e-4)


def test_up_axis_rotates_only_what_the_model_sees(checkpoint):
    points = cloud(seed=4)
    z_up = points[:, [0, 2, 1]] * np.array([1, -1, 1], dtype=np.float32)  # the same object, z up
    y_det = AffordanceDetector.from_pretrained(checkpoint, device="cpu", num_points=64)
    z_det = AffordanceDetector.from_pretrained(checkpoint, device="cpu", num_points=64, up_axis="z")
    a, b = y_det(points, ["grasp"]), z_det(z_up, ["grasp"])
    assert np.array_equal(b.points, z_up)  # outputs stay in the input's coordinates
    assert np.allclose(a.scores, b.scores, atol=1e-4)
    with pytest.raises(ValueError, match="up axis"):
        AffordanceDetector.from_pretrained(checkpoint, device="cpu", up_axis="w")


def test_fewer_points_than_the_model_sees(detector):
    result = detector(cloud(n=20), "grasp")
    assert result.scores.shape == (20, 1)


def test_mesh_input_and_batched_calls(detector, tmp_path):
    trimesh = pytest.importorskip("trimesh")
    trimesh.creation.box(extents=(1, 2, 3)).export(str(tmp_path / "box.obj"))
    results = detector.predict_many([tmp_path / "box.obj", cloud(), cloud(seed=3)], ["grasp"], batch_size=2)
    assert len(results) == 3 and results[0].is_mesh and results[0].points.shape == (10_000, 3)
    single = detector(cloud(seed=3), ["grasp"])
    assert np.allclose(results[2].scores, single.scores, atol=1e-5)  # batching does not change a result


def test_attention_maps(detector):
    result = detector(cloud(), ["grasp", "pour"], attention=True)
    assert result.attention["per_block"].shape == (2, 2, 300)  # (blocks, K, M)
    assert result.attention["overall"].shape == (2, 300)
    with_none = detector(cloud(), ["grasp", "none"], attention=True)
    assert with_none.attention["overall"].shape == (2, 300) and not with_none.attention["overall"][1].any()


def test_queries_are_normalised():
    assert parse_queries("grasp, pour,,where to sit") == ["grasp", "pour", "where to sit"]
    assert parse_queries(["none", "cut"]) == ["none", "cut"]
    with pytest.warns(UserWarning, match="more than once"):
        assert parse_queries("grasp,pour,grasp") == ["grasp", "pour"]
    for empty in (" , ", "none"):
        with pytest.raises(ValueError, match="at least one query"):
            parse_queries(empty)


def test_predict_command_writes_every_format_and_reports_bad_files(checkpoint, tmp_path, capsys):
    inputs = tmp_path / "inputs"
    (inputs / "sub").mkdir(parents=True)
    np.save(inputs / "a.npy", cloud())
    np.savetxt(inputs / "sub" / "b.xyz", cloud(seed=2))
    (inputs / "broken.ply").write_bytes(b"ply\nformat nonsense\n")
    out = tmp_path / "out"
    status = main(["predict", str(inputs), "--queries", "grasp,where to sit", "--out", str(out), "--checkpoint",
                   str(checkpoint), "--num-points", "64", "--format", "npz,ply,png,html,json", "--attention"])
    assert status == 1  # one file failed, the others ran
    assert "broken.ply" in capsys.readouterr().err
    for stem in ("a", "b"):
        for fmt in ("npz", "ply", "png", "html", "json"):
            assert (out / f"{stem}.{fmt}").is_file(), (stem, fmt)
    saved = np.load(out / "a.npz")
    assert saved["points"].shape == (300, 3) and saved["scores"].shape == (300, 2)
    assert list(saved["queries"]) == ["grasp", "where to sit"] and saved["attention"].shape == (2, 300)
    summary = json.loads((out / "a.json").read_text())
    assert summary["num_points"] == 300
    for query, entry in summary["queries"].items():  # a region: the points whose score reaches 0.5
        k = list(saved["queries"]).index(query)
        assert entry["points"] == int((saved["scores"][:, k] >= 0.5).sum())
    html = (out / "a.html").read_text()
    assert "http://" not in html and "https://" not in html and "<script src" not in html
    from plyfile import PlyData

    assert PlyData.read(str(out / "a.ply"))["vertex"].count == 300


def test_hostile_query_text_never_becomes_markup_in_the_viewer(detector, tmp_path):
    from lmad.predict import write_outputs

    hostile = ["</script><script>document.body.innerHTML=''</script>", "<img src=x onerror=alert(1)>"]
    write_outputs(detector(cloud(), hostile), tmp_path, "h", ["html"])
    html = (tmp_path / "h.html").read_text()
    assert "</script><script>" not in html and "<img" not in html
    assert html.count("</script>") == 1  # only the page's own script ends
    from lmad.viz.html import viewer_script

    assert "innerHTML" not in viewer_script()  # the viewer writes query text as DOM text only


def test_png_renders_headless(tmp_path):
    from lmad.viz.render import render_labels

    path = render_labels(tmp_path / "r.png", cloud(), np.arange(300) % 3, ["grasp", "pour", "none"],
                         scores=np.full((300, 3), 1 / 3))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000


def test_missing_checkpoint_error(tmp_path):
    with pytest.raises(ValueError, match="not an lmad checkpoint"):
        AffordanceDetector.from_pretrained(tmp_path)


def test_cli_help_is_light():
    # `lmad --help` must not import torch (nothing heavy at import)
    code = "import sys, lmad.cli; lmad.cli.build_parser(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "False"


def test_shipped_model_answers_grasp_the_same_alone_or_among_all_affordances():
    from importlib import resources

    from lmad.data import AFFORDANCE_CLASSES

    mug = Path(str(resources.files("lmad.examples"))) / "mug.obj"
    detector = AffordanceDetector.from_pretrained(device="cpu")
    if detector.model.config.objective != "bce_dice":
        pytest.skip("the shipped checkpoint predates per-query scores")
    alone = detector(mug, ["grasp"])
    among = detector(mug, [c for c in AFFORDANCE_CLASSES if c != "none"])
    assert np.allclose(alone.scores[:, 0], among.scores[:, among.queries.index("grasp")], atol=1e-5)


def test_test_time_augmentation_averages_turned_views(checkpoint):
    points = cloud(seed=9)
    single = AffordanceDetector.from_pretrained(checkpoint, device="cpu", num_points=64, tta=1)
    four = AffordanceDetector.from_pretrained(checkpoint, device="cpu", num_points=64, tta=4)
    a, b = single(points, ["grasp", "pour"], attention=True), four(points, ["grasp", "pour"], attention=True)
    assert b.scores.shape == a.scores.shape and b.attention["overall"].shape == a.attention["overall"].shape
    assert not np.allclose(a.scores, b.scores)  # the other views are seen
    # view v is the one-view sample listed from row 16 v and turned by v quarter turns; each
    # valid row's score is the average of the four views' scores at its nearest sampled point
    from lmad.data.transforms import rotation_about_y
    from lmad.predict.detector import PreparedInput

    prepared = four.prepare(points)
    alone = single.prepare(points)
    assert prepared.starts == [0, 16, 32, 48]
    np.testing.assert_array_equal(prepared.nearest, alone.nearest)
    by_hand = []
    for v, start in enumerate(prepared.starts):
        turned = np.roll(alone.sampled[0], -start, axis=0) @ rotation_about_y(2 * np.pi * v / 4).T
        np.testing.assert_allclose(prepared.sampled[v], turned, atol=1e-6)
        # the same view alone: its rows are the sample's from `start` on, so row j of the sample is its row j - start
        view = PreparedInput(alone.source, alone.read, [prepared.sampled[v]], (alone.nearest - start) % 64, [0])
        by_hand.append(single.score_prepared([view], ["grasp", "pour"])[0].scores)
    assert np.allclose(np.mean(by_hand, 0), b.scores, atol=1e-5)
    with pytest.raises(ValueError, match="tta"):
        AffordanceDetector.from_pretrained(checkpoint, device="cpu", tta=0)


def test_every_entry_point_defaults_to_the_same_views(checkpoint):
    from lmad.cli import build_parser
    from lmad.predict import DEFAULT_VIEWS
    from lmad.serve import _Options

    assert AffordanceDetector.from_pretrained(checkpoint, device="cpu").tta == DEFAULT_VIEWS
    assert build_parser().parse_args(["predict", "x.npy", "--queries", "grasp", "--out", "o"]).tta == DEFAULT_VIEWS
    assert _Options(("grasp",)).tta == DEFAULT_VIEWS
