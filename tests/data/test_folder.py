import numpy as np
import pytest

from lmad.data import (
    AFFORDANCE_CLASSES,
    DataValidationError,
    convert_affordancenet,
    load_affordancenet,
    load_folder,
    nearest_sampled,
    resample_indices,
    write_sample,
)


def test_folder_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    names = ["handle", "blade", "none"]
    for i in range(3):
        write_sample(tmp_path / "train" / f"s{i}.npz", rng.normal(size=(50, 3)), rng.integers(0, 3, 50), names,
                     scores=rng.uniform(size=(50, 2)), category="Knife")
    dataset = load_folder(tmp_path, split="train")
    assert len(dataset) == 3 and dataset.class_names == names and dataset.has_soft_labels
    sample = dataset[2]
    assert sample["points"].shape == (50, 3) and sample["soft_labels"].shape == (50, 2)
    assert sample["shape_id"] == "s2" and sample["category"] == "Knife"


def test_folder_validation_and_skip_bad(tmp_path):
    write_sample(tmp_path / "a.npz", np.zeros((5, 3)) + np.arange(5)[:, None], [0, 1, 0, 1, 0], ["x", "none"])
    write_sample(tmp_path / "b.npz", np.ones((5, 3)), [0, 1, 0, 1, 7], ["x", "none"])
    (tmp_path / "c.npz").write_bytes(b"not an archive")
    with pytest.raises(DataValidationError, match="b.npz.*labels"):
        load_folder(tmp_path)
    with pytest.warns(UserWarning, match="skipped 2 of 3"):
        dataset = load_folder(tmp_path, skip_bad=True)
    assert len(dataset) == 1


def test_convert_affordancenet_sample(shared_dir, tmp_path):
    root = shared_dir / "data" / "affordancenet-sample" / "original"
    written = convert_affordancenet(root, tmp_path, task="partial")
    assert written == {"train": 4, "val": 4}
    converted = load_folder(tmp_path, split="val")
    original = load_affordancenet(root, "partial", "val")
    assert converted.class_names == list(AFFORDANCE_CLASSES)
    for i in range(4):
        assert np.array_equal(converted[i]["labels"].numpy(), original[i]["labels"].numpy())
        assert np.allclose(converted[i]["soft_labels"].numpy(), original[i]["soft_labels"].numpy())


def test_resampling_up_and_down_and_carry_back():
    rng = np.random.default_rng(0)
    points = rng.normal(size=(5000, 3)).astype(np.float32)
    down = resample_indices(len(points), 512, seed=0, points=points)
    assert down.shape == (512,) and len(set(down.tolist())) == 512
    assert np.array_equal(down, resample_indices(len(points), 512, seed=0, points=points))
    up = resample_indices(100, 512, seed=0)
    assert set(up[:100].tolist()) == set(range(100)) and up.max() < 100
    nearest = nearest_sampled(points, points[down], chunk=1000)
    assert nearest.shape == (5000,)
    assert np.array_equal(nearest[down], np.arange(512))  # a sampled point is its own nearest
    brute = np.linalg.norm(points[:200, None] - points[down][None], axis=-1).argmin(1)
    assert np.array_equal(nearest[:200], brute)


def test_dense_and_kd_tree_carry_back_agree():
    from lmad.data import resample

    rng = np.random.default_rng(1)
    points = rng.normal(size=(20_000, 3))
    sampled = points[resample_indices(len(points), 1024, seed=0, points=points)]
    dense = resample._nearest_dense(points, sampled)
    assert np.array_equal(dense, resample._nearest_kd_tree(points, sampled, chunk=7000))  # in chunks
    assert np.array_equal(dense, nearest_sampled(points, sampled))  # whichever path this process takes


def test_carry_back_takes_the_dense_path_for_small_clouds_unless_told(monkeypatch):
    from lmad.data import resample

    calls = []
    monkeypatch.setattr(resample, "_nearest_dense", lambda *args: calls.append("dense") or np.zeros(1, np.int64))
    monkeypatch.setattr(resample, "_nearest_kd_tree", lambda *args: calls.append("tree") or np.zeros(1, np.int64))
    points = np.zeros((10, 3))
    nearest_sampled(points, points)
    nearest_sampled(points, points, kd_tree=True)
    monkeypatch.setattr(resample, "DENSE_PAIRS", 0)
    nearest_sampled(points, points)
    assert calls == ["dense", "tree", "tree"]
