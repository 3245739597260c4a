"""The `lmad predict` run: nothing lost, nothing silently wrong, every user error one line."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from lmad.cli import main
from lmad.predict import AffordanceDetector, plan_output_stems


def cloud(n=300, seed=0):
    points = np.random.default_rng(seed).normal(size=(n, 3))
    points[:, 1] *= 2.0
    return points


def predict(checkpoint, *args):
    return main(["predict", *map(str, args), "--queries", "grasp,pour", "--checkpoint", str(checkpoint)])


def test_outputs_never_overwrite_an_input(checkpoint, tmp_path, capsys):
    scans = tmp_path / "scans"
    scans.mkdir()
    np.savez(scans / "scan.npz", points=cloud())
    before = (scans / "scan.npz").read_bytes()
    assert predict(checkpoint, scans, "--out", scans) == 2
    assert "would overwrite" in capsys.readouterr().err
    assert (scans / "scan.npz").read_bytes() == before


def test_inputs_with_the_same_name_get_distinct_outputs(checkpoint, tmp_path, capsys):
    trimesh = pytest.importorskip("trimesh")
    inputs = tmp_path / "in"
    for folder in ("a/x", "b/x"):
        (inputs / folder).mkdir(parents=True)
        np.savetxt(inputs / folder / "mug.xyz", cloud(seed=len(folder)))
    trimesh.creation.box().export(str(inputs / "mug.obj"))
    trimesh.creation.box(extents=(1, 2, 3)).export(str(inputs / "mug.stl"))
    out = tmp_path / "out"
    assert predict(checkpoint, inputs, "--out", out, "--format", "npz") == 0
    written = sorted(p.name for p in out.glob("*.npz"))
    assert len(written) == 4 and len(set(written)) == 4, written
    printed = capsys.readouterr().out
    assert "4 of 4 files scored" in printed and printed.count("another input has the name mug") == 4


def test_stem_planning_rules(tmp_path):
    files = [tmp_path / "a" / "x" / "mug.ply", tmp_path / "b" / "x" / "mug.ply", tmp_path / "cup.obj"]
    stems, notes = plan_output_stems(files, tmp_path / "out", ["npz"])
    assert stems == ["a_x_mug_ply", "b_x_mug_ply", "cup"] and len(notes) == 2


@pytest.mark.parametrize("offset", [1e5, 5e6])
def test_far_from_the_origin_gives_the_same_answer(checkpoint, tmp_path, offset):
    # one view: the other views' random sampling starts depend on the candidates' hash order,
    # which rounding at a 5e6 offset can perturb (tests/predict/test_detector.py says more)
    detector = AffordanceDetector.from_pretrained(checkpoint, device="cpu", tta=1)
    points = cloud(seed=3) * 0.05  # a 5 cm object, in metres
    np.savetxt(tmp_path / "near.xyz", points, fmt="%.9f")
    np.savetxt(tmp_path / "far.xyz", points + offset, fmt="%.9f")
    near, far = detector(tmp_path / "near.xyz", ["grasp", "pour"]), detector(tmp_path / "far.xyz", ["grasp", "pour"])
    assert np.array_equal(near.labels, far.labels)
    assert np.allclose(near.scores, far.scores, atol=1e-5)


def test_rows_with_nan_keep_their_place(checkpoint, tmp_path):
    detector = AffordanceDetector.from_pretrained(checkpoint, device="cpu")
    points = cloud(n=1000)
    points[[5, 500, 501, 999]] = np.nan
    result = detector(points, ["grasp", "pour"])
    assert len(result.points) == len(result.scores) == len(result.labels) == 1000
    assert np.flatnonzero(~result.valid).tolist() == [5, 500, 501, 999]
    assert np.isnan(result.scores[~result.valid]).all() and not np.isnan(result.scores[result.valid]).any()
    assert (result.labels[~result.valid] == -1).all()
    clean = detector(points[result.valid], ["grasp", "pour"])  # the other rows are scored as without the NaNs
    np.testing.assert_allclose(result.scores[result.valid], clean.scores, atol=1e-6)
    np.save(tmp_path / "holes.npy", points)
    assert main(["predict", str(tmp_path / "holes.npy"), "--queries", "grasp", "--checkpoint", str(checkpoint),
                 "--out", str(tmp_path / "out"), "--format", "npz,png,html,json,ply"]) == 0
    saved = np.load(tmp_path / "out" / "holes.npz")
    assert saved["valid"].sum() == 996 and saved["scores"].shape == (1000, 1)


def test_array_layouts_in_the_detector(checkpoint):
    detector = AffordanceDetector.from_pretrained(checkpoint, device="cpu")
    points = cloud()
    transposed = detector(points.T, ["grasp"])
    assert transposed.points.shape == (300, 3) and "transposed" in transposed.notes[0]
    np.testing.assert_allclose(transposed.scores, detector(points, ["grasp"]).scores, atol=1e-6)
    for bad, pattern in ((points[:3], "at least 16"), (points > 0, "must be numbers"), (points[:, :2], "3 coordinates")):
        with pytest.raises(ValueError, match=pattern):
            detector(bad, ["grasp"])


def test_one_bad_file_never_stops_the_others(checkpoint, tmp_path, capsys):
    inputs = tmp_path / "in"
    inputs.mkdir()
    np.save(inputs / "good.npy", cloud())
    structured = np.zeros(50, dtype=[("a", "f4"), ("b", "f4")])
    np.save(inputs / "fields.npy", structured)  # fields but no x, y, z
    np.save(inputs / "tiny.npy", cloud() * 1e-30)  # tiny but a shape
    np.save(inputs / "huge.npy", cloud() * 1e30)
    (inputs / "text.xyz").write_text("not numbers at all\n")
    out = tmp_path / "out"
    assert predict(checkpoint, inputs, "--out", out) == 1
    captured = capsys.readouterr()
    assert "3 of 5 files scored" in captured.out
    assert "fields.npy" in captured.err and "lacks" in captured.err and "text.xyz" in captured.err
    assert "Traceback" not in captured.err
    assert {p.stem for p in out.glob("*.npz")} == {"good", "tiny", "huge"}


@pytest.mark.parametrize("make_out,pattern", [
    (lambda tmp: (tmp / "file.txt").write_text("x") and tmp / "file.txt", "is a file"),
])
def test_out_that_is_a_file(checkpoint, tmp_path, capsys, make_out, pattern):
    np.save(tmp_path / "c.npy", cloud())
    assert predict(checkpoint, tmp_path / "c.npy", "--out", make_out(tmp_path)) == 2
    assert pattern in capsys.readouterr().err


def test_unwritable_out_folder_fails_before_any_work(checkpoint, tmp_path, capsys, monkeypatch):
    import lmad.predict.detector as detector_module

    np.save(tmp_path / "c.npy", cloud())
    read_only = tmp_path / "ro"
    read_only.mkdir()
    read_only.chmod(0o500)
    called = []
    monkeypatch.setattr(detector_module.AffordanceDetector, "prepare", lambda *a: called.append(a))
    try:
        import os

        if os.access(read_only, os.W_OK):  # root ignores permissions
            pytest.skip("running as a user who can write anywhere")
        assert predict(checkpoint, tmp_path / "c.npy", "--out", read_only / "sub") == 2
        assert "cannot write" in capsys.readouterr().err and not called
    finally:
        read_only.chmod(0o700)


def test_user_errors_are_one_line_with_a_nonzero_exit(checkpoint, tmp_path, capsys):
    np.save(tmp_path / "c.npy", cloud())
    cases = [
        (["predict", str(tmp_path / "missing_folder"), "--queries", "grasp", "--out", str(tmp_path / "o"),
          "--checkpoint", str(checkpoint)], "no such file or folder"),
        (["predict", str(tmp_path / "c.npy"), "--queries", "grasp", "--out", str(tmp_path / "o"),
          "--checkpoint", str(tmp_path)], "not an lmad checkpoint"),
        (["eval", "--checkpoint", str(checkpoint), "--data", str(tmp_path / "nothing")], "no such folder"),
    ]
    if not torch.cuda.is_available():
        cases.append((["predict", str(tmp_path / "c.npy"), "--queries", "grasp", "--out", str(tmp_path / "o"),
                       "--checkpoint", str(checkpoint), "--device", "cuda"], "no usable CUDA GPU"))
    for argv, pattern in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert pattern in err and "Traceback" not in err and err.count("\n") == 1, err


@pytest.mark.parametrize("flag", ["--batch-size", "--num-points"])
def test_zero_sizes_are_refused_by_the_parser(checkpoint, tmp_path, capsys, flag):
    with pytest.raises(SystemExit) as exit_:
        main(["predict", "x.npy", "--queries", "grasp", "--out", str(tmp_path), flag, "0"])
    assert exit_.value.code == 2 and "positive" in capsys.readouterr().err


def test_up_axis_minus_y_needs_no_equals_sign(checkpoint, tmp_path):
    np.save(tmp_path / "c.npy", cloud())
    assert predict(checkpoint, tmp_path / "c.npy", "--out", tmp_path / "o", "--up-axis", "-y") == 0


def test_duplicate_queries_are_merged_and_said_once(checkpoint, tmp_path):
    np.save(tmp_path / "c.npy", cloud())
    with pytest.warns(UserWarning, match="more than once") as warned:
        assert main(["predict", str(tmp_path / "c.npy"), "--queries", "grasp,grasp,pour", "--checkpoint",
                     str(checkpoint), "--out", str(tmp_path / "o"), "--format", "json"]) == 0
    assert len([w for w in warned if "more than once" in str(w.message)]) == 1
    assert list(json.loads((tmp_path / "o" / "c.json").read_text())["queries"]) == ["grasp", "pour"]


def test_ctrl_c_during_training_is_a_message_not_a_traceback(monkeypatch, tmp_path, capsys):
    import lmad.train

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(lmad.train, "train", interrupted)
    config = tmp_path / "c.yaml"
    config.write_text("model: {name: lmad}\n")
    assert main(["train", "--config", str(config)]) == 130
    assert "--resume" in capsys.readouterr().err


def test_synth_checks_its_sizes_before_writing_anything(tmp_path, capsys):
    from lmad.data.synthetic import GENERATORS

    assert main(["synth", "--out", str(tmp_path / "s"), "--train", "30", "--val", "10", "--quiet"]) == 2
    assert f"at least {len(GENERATORS)}" in capsys.readouterr().err and not (tmp_path / "s").exists()


def test_formats_are_checked_before_any_work(monkeypatch):
    import importlib.util

    from lmad.predict import parse_formats

    assert parse_formats("npz, png,npz") == ["npz", "png"]
    with pytest.raises(ValueError, match="unknown output formats"):
        parse_formats("npz,las")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pypcd4" else real(name, *a))
    with pytest.raises(ValueError, match="lmad\\[io\\]"):
        parse_formats("pcd")


@pytest.mark.parametrize("layout", ["same file twice", "folder and a file in it", "relative and absolute",
                                    "names differing in case"])
def test_every_output_stays_inside_out_and_each_file_is_scored_once(checkpoint, tmp_path, capsys, monkeypatch,
                                                                     layout):
    monkeypatch.chdir(tmp_path)
    scans = tmp_path / "scans"
    scans.mkdir()
    np.save(scans / "good.npy", cloud())
    if layout == "same file twice":
        inputs, expected = [scans / "good.npy", scans / "good.npy"], 1
    elif layout == "folder and a file in it":
        inputs, expected = [scans, scans / "good.npy"], 1
    elif layout == "relative and absolute":
        inputs, expected = ["scans/good.npy", scans / "good.npy"], 1
    else:
        np.save(scans / "good_upper.npy", cloud(seed=1))
        (scans / "good_upper.npy").rename(scans / "good.NPY")
        inputs, expected = [scans / "good.npy", scans / "good.NPY"], 2
    out = tmp_path / "out"
    before = set(tmp_path.parent.iterdir())
    assert predict(checkpoint, *inputs, "--out", out, "--format", "npz,json") == 0
    printed = capsys.readouterr().out
    assert f"{expected} of {expected} files scored" in printed
    written = sorted(p.name for p in out.iterdir())
    assert len(written) == 2 * expected, written
    assert all(not name.startswith("_") and "/" not in name for name in written), written
    assert set(tmp_path.parent.iterdir()) == before  # nothing written beside the run's folder
    if expected == 1:
        assert "scored once" in printed


def test_an_interrupted_write_leaves_no_partial_file(checkpoint, tmp_path, monkeypatch):
    from lmad.predict import outputs

    detector = AffordanceDetector.from_pretrained(checkpoint)
    result = detector(cloud(), ["grasp"])
    out = tmp_path / "out"
    out.mkdir()

    def interrupted(path, arrays):
        Path(path).write_bytes(b"PK half of an archive")
        raise KeyboardInterrupt

    monkeypatch.setattr(outputs, "save_npz", interrupted)
    with pytest.raises(KeyboardInterrupt):
        outputs.write_outputs(result, out, "scan", ["json", "npz"])
    assert [p.name for p in out.iterdir()] == ["scan.json"]  # the complete one only, no temporary left


@pytest.mark.parametrize("rows", [40, 300, 40_000])  # fewer than N, more than N, more than FPS_INPUT_LIMIT
def test_the_same_points_in_any_row_order_get_the_same_scores(checkpoint, rows):
    detector = AffordanceDetector.from_pretrained(checkpoint)
    points = cloud(rows, seed=3)
    order = np.random.default_rng(1).permutation(rows)
    as_given = detector(points, ["grasp", "pour"])
    shuffled = detector(points[order], ["grasp", "pour"])
    np.testing.assert_allclose(shuffled.scores, as_given.scores[order], atol=1e-6)
    assert np.mean(shuffled.labels == as_given.labels[order]) >= 0.995


def test_sampling_candidates_do_not_depend_on_row_order():
    from lmad.data import sampling_candidates

    points = cloud(5000, seed=4)
    points[10] = -0.0  # the same point as +0.0
    order = np.random.default_rng(2).permutation(len(points))
    flipped = points[order].copy()
    flipped[flipped == 0] = 0.0
    for limit in (10_000, 1000):
        chosen = points[sampling_candidates(points, limit)]
        assert np.array_equal(chosen, flipped[sampling_candidates(flipped, limit)])
        assert len(chosen) == min(limit, len(points))


def test_unclear_inputs_get_messages_that_name_the_cause(checkpoint, tmp_path, capsys):
    np.save(tmp_path / "good.npy", cloud())
    (tmp_path / "noise.npy").write_bytes(bytes(range(256)) * 8)  # not a .npy at all
    np.save(tmp_path / "objects.npy", np.array([{"x": 1}], dtype=object), allow_pickle=True)
    assert predict(checkpoint, tmp_path / "noise.npy", tmp_path / "objects.npy", tmp_path / "good.npy",
                   "--out", tmp_path / "out") == 1
    error = capsys.readouterr().err
    assert "noise.npy: not a NumPy .npy file" in error and "holds Python objects" in error
    assert "unsafe" not in error and "pickle" not in error
    # a query that is not UTF-8 (bytes of another encoding reach Python as surrogates) is the query's fault
    code = main(["predict", str(tmp_path / "good.npy"), "--queries", "gr\udce4sp", "--out", str(tmp_path / "o2"),
                 "--checkpoint", str(checkpoint)])
    error = capsys.readouterr().err
    assert code == 2 and "not valid UTF-8" in error and "good.npy" not in error


@pytest.mark.parametrize("args, flag", [(["eval", "--checkpoint", "c", "--data", "d", "--seeds", "a"], "--seeds"),
                                        (["eval", "--checkpoint", "c", "--data", "d", "--seeds", "1,-2"], "--seeds"),
                                        (["synth", "--out", "x", "--seed", "-5"], "--seed")])
def test_bad_numbers_name_their_flag(args, flag, capsys):
    with pytest.raises(SystemExit) as stop:
        main(args)
    assert stop.value.code == 2
    error = capsys.readouterr().err
    assert f"argument {flag}" in error and "invalid literal" not in error


def test_pictures_of_large_clouds_draw_a_subset_and_files_keep_every_row(checkpoint, tmp_path, monkeypatch):
    import lmad.viz.render
    from lmad.predict import outputs

    detector = AffordanceDetector.from_pretrained(checkpoint)
    result = detector(cloud(outputs.MAX_PICTURE_POINTS + 5000, seed=5), ["grasp"])
    drawn = []
    monkeypatch.setattr(lmad.viz.render, "render_labels",
                        lambda path, points, *args, **kwargs: (drawn.append(len(points)), Path(path).write_bytes(b"")))
    outputs.write_outputs(result, tmp_path, "big", ["png", "npz"])
    assert drawn == [outputs.MAX_PICTURE_POINTS]
    with np.load(tmp_path / "big.npz") as saved:
        assert len(saved["points"]) == outputs.MAX_PICTURE_POINTS + 5000
        np.testing.assert_array_equal(saved["scores"], result.scores)


def test_a_new_output_format_is_one_writer_and_one_registration(checkpoint, tmp_path, monkeypatch, capsys):
    from lmad.cli import build_parser
    from lmad.predict import OUTPUT_FORMATS, OutputFormat, register_output_format

    monkeypatch.setattr("lmad.predict.outputs.OUTPUT_FORMATS", dict(OUTPUT_FORMATS))

    def write_csv(result, path, name):
        rows = [",".join(["x", "y", "z", *result.queries])]
        rows += [",".join(f"{v:.4f}" for v in (*p, *s)) for p, s in zip(result.points, result.scores)]
        path.write_text("\n".join(rows) + "\n")

    register_output_format(OutputFormat("csv", "points and scores as text", write_csv))
    predict_help = build_parser()._subparsers._group_actions[0].choices["predict"].format_help()
    assert "csv: points and scores as text" in " ".join(predict_help.split())
    np.save(tmp_path / "scan.npy", cloud())
    assert predict(checkpoint, tmp_path / "scan.npy", "--out", tmp_path / "out", "--format", "csv,json") == 0
    lines = (tmp_path / "out" / "scan.csv").read_text().splitlines()
    assert lines[0] == "x,y,z,grasp,pour" and len(lines) == 301
    with pytest.raises(ValueError, match="file extension"):
        register_output_format(OutputFormat("my format", "", write_csv))
