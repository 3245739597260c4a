import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from lmad import build_model
from lmad.cli import main
from lmad.predict import AffordanceDetector, normalise_queries

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def checkpoint(tmp_path, tiny_model_overrides):
    torch.manual_seed(0)
    model = build_model("lmad", **tiny_model_overrides)
    model.train()
    with torch.no_grad():
        model(torch.rand(4, 64, 3) * 2 - 1, ["grasp", "none"])  # non-trivial BatchNorm statistics
    return model.save_pretrained(tmp_path / "checkpoint")


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
    assert result.queries == ["grasp", "pour", "none"]
    assert result.points.dtype == np.float32 and np.array_equal(result.points, points)  # input order kept
    assert result.scores.shape == (300, 3) and result.scores.dtype == np.float32
    assert np.allclose(result.scores.sum(1), 1, atol=1e-5)
    assert result.labels.shape == (300,) and result.labels.dtype == np.int64
    assert np.array_equal(result.labels, result.scores.argmax(1))


def test_labels_are_invariant_to_scale_and_translation(detector):
    points = cloud(seed=1)
    moved = points * 1000.0 + np.array([5e3, -2e3, 7e2], dtype=np.float32)
    a = detector(points, ["grasp", "pour"])
    b = detector(moved, ["grasp", "pour"])
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
    with pytest.raises(ValueError, match="up_axis"):
        AffordanceDetector.from_pretrained(checkpoint, device="cpu", up_axis="w")


def test_fewer_points_than_the_model_sees(detector):
    result = detector(cloud(n=20), "grasp")
    assert result.scores.shape == (20, 2)


def test_mesh_input_and_batched_calls(detector, tmp_path):
    trimesh = pytest.importorskip("trimesh")
    trimesh.creation.box(extents=(1, 2, 3)).export(str(tmp_path / "box.obj"))
    results = detector.predict_many([tmp_path / "box.obj", cloud(), cloud(seed=3)], ["grasp"], batch_size=2)
    assert len(results) == 3 and results[0].is_mesh and results[0].points.shape == (10_000, 3)
    single = detector(cloud(seed=3), ["grasp"])
    assert np.allclose(results[2].scores, single.scores, atol=1e-5)  # batching does not change a result


def test_attention_maps(detector):
    result = detector(cloud(), ["grasp", "pour"], attention=True)
    assert result.attention["per_block"].shape == (2, 3, 300)  # (blocks, K, M)
    assert result.attention["overall"].shape == (3, 300)


def test_queries_are_normalised():
    assert normalise_queries("grasp, pour,,where to sit") == ["grasp", "pour", "where to sit", "none"]
    assert normalise_queries(["none", "cut"]) == ["none", "cut"]
    with pytest.raises(ValueError, match="at least one query"):
        normalise_queries(" , ")


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
    assert saved["points"].shape == (300, 3) and saved["scores"].shape == (300, 3)
    assert list(saved["queries"]) == ["grasp", "where to sit", "none"] and saved["attention"].shape == (3, 300)
    summary = json.loads((out / "a.json").read_text())
    assert summary["num_points"] == 300
    assert abs(sum(q["fraction"] for q in summary["queries"].values()) - 1) < 1e-6
    html = (out / "a.html").read_text()
    assert "http://" not in html and "https://" not in html and "<script src" not in html
    from plyfile import PlyData

    assert PlyData.read(str(out / "a.ply"))["vertex"].count == 300


def test_png_renders_headless(tmp_path):
    from lmad.viz.render import render_labels

    path = render_labels(tmp_path / "r.png", cloud(), np.arange(300) % 3, ["grasp", "pour", "none"],
                         scores=np.full((300, 3), 1 / 3))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000


def test_missing_checkpoint_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no lmad checkpoint"):
        AffordanceDetector.from_pretrained(tmp_path)


def test_cli_help_is_light():
    # `lmad --help` must not import torch (nothing heavy at import)
    code = "import sys, lmad.cli; lmad.cli.build_parser(); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "False"
