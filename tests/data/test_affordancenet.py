import pickle

import numpy as np
import pytest
import torch

from lmad.data import (
    AFFORDANCE_CLASSES,
    DataValidationError,
    class_weights,
    collate_samples,
    hard_labels_from_scores,
    load_affordancenet,
)

NAMES = [c if c != "display" else "displaY" for c in AFFORDANCE_CLASSES[:18]]


def full_record(shape_id="s0", n=64, seed=0, soft=False, category="Mug"):
    rng = np.random.default_rng(seed)
    coordinate = rng.normal(size=(n, 3)).astype(np.float32) * 3 + 5
    if soft:
        scores = np.zeros((n, 18), dtype=np.float32)
        scores[: n // 2, 1] = rng.uniform(0.1, 0.9, n // 2)  # contain on the first half
        scores[: n // 4, 8] = 0.95  # pourable wins on the first quarter
        label = {name: scores[:, i:i + 1] for i, name in enumerate(NAMES)}
    else:
        label = rng.integers(0, 19, n)
    return {"shape_id": shape_id, "semantic class": category, "affordance": NAMES,
            "full_shape": {"coordinate": coordinate, "label": label}}


def partial_record(shape_id="p0", views=(0, 1, 2), n=32):
    rng = np.random.default_rng(1)
    return {"shape_id": shape_id, "semantic class": "Bowl", "affordance": NAMES,
            "partial": {v: {"coordinate": rng.normal(size=(n, 3)), "label": rng.integers(0, 19, n)} for v in views}}


def write(tmp_path, name, records):
    with open(tmp_path / name, "wb") as handle:
        pickle.dump(records, handle)


def test_openad_full_shape_reading_and_normalisation(tmp_path):
    records = [full_record("a", seed=0), full_record("b", seed=1)]
    write(tmp_path, "full_shape_train_data.pkl", records)
    dataset = load_affordancenet(tmp_path, "full", "train")
    assert len(dataset) == 2 and dataset.layout == "openad"
    sample = dataset[1]
    assert sample["points"].shape == (64, 3) and sample["points"].dtype == torch.float32
    assert torch.equal(sample["labels"], torch.from_numpy(records[1]["full_shape"]["label"]))
    assert sample["shape_id"] == "b" and sample["category"] == "Mug" and "soft_labels" not in sample
    norms = sample["points"].norm(dim=1)
    assert abs(norms.max().item() - 1) < 1e-5
    assert sample["points"].mean(0).abs().max() < 1e-5
    assert dataset.class_names[10] == "display"


def test_partial_views_are_flattened(tmp_path):
    write(tmp_path, "partial_view_val_data.pkl", [partial_record("x", (0, 1, 2)), partial_record("y", (3,))])
    dataset = load_affordancenet(tmp_path, "partial", "val")
    assert len(dataset) == 4
    assert [(dataset[i]["shape_id"], dataset[i]["view"]) for i in range(4)] == [("x", 0), ("x", 1), ("x", 2), ("y", 3)]


def test_original_soft_layout_gives_scores_and_openad_hard_labels(tmp_path):
    write(tmp_path, "full_shape_val_data.pkl", [full_record(soft=True)])
    dataset = load_affordancenet(tmp_path, "full", "val")
    assert dataset.layout == "original" and dataset.has_soft_labels
    sample = dataset[0]
    assert sample["soft_labels"].shape == (64, 18)
    labels = sample["labels"].numpy()
    assert (labels[:16] == AFFORDANCE_CLASSES.index("pourable")).all()
    assert (labels[16:32] == AFFORDANCE_CLASSES.index("contain")).all()
    assert (labels[32:] == AFFORDANCE_CLASSES.index("none")).all()
    higher = load_affordancenet(tmp_path, "full", "val", none_threshold=0.5)[0]["labels"].numpy()
    assert (higher == 18).sum() > (labels == 18).sum()


def test_hard_labels_rule():
    scores = np.array([[0, 0, 0.2], [0.1, 0.7, 0.0], [0, 0, 0]], dtype=np.float32)
    scores = np.pad(scores, ((0, 0), (0, 15)))
    assert hard_labels_from_scores(scores).tolist() == [2, 1, 18]
    assert hard_labels_from_scores(scores, none_threshold=0.5).tolist() == [18, 1, 18]


def test_class_weights_formula():
    counts = np.array([8, 1, 0, 64])
    weights = class_weights(counts)
    np.testing.assert_allclose(weights, [2.0, 4.0, 4.0, 1.0], rtol=1e-6)


def test_validation_names_file_sample_and_field(tmp_path):
    bad_nan = full_record("nan")
    bad_nan["full_shape"]["coordinate"][3, 1] = np.nan
    bad_label = full_record("range")
    bad_label["full_shape"]["label"][0] = 19
    bad_shape = full_record("shape")
    bad_shape["full_shape"]["coordinate"] = bad_shape["full_shape"]["coordinate"][:, :2]
    missing = full_record("missing")
    del missing["semantic class"]
    cases = [(bad_nan, "NaN"), (bad_label, "outside 0..18"), (bad_shape, "expected \\(N, 3\\)"), (missing, "semantic class")]
    for record, pattern in cases:
        write(tmp_path, "full_shape_train_data.pkl", [full_record("ok"), record])
        with pytest.raises(DataValidationError, match=pattern) as error:
            load_affordancenet(tmp_path, "full", "train")
        assert "full_shape_train_data.pkl" in str(error.value) and "sample 1" in str(error.value)


def test_skip_bad_reports_what_was_skipped(tmp_path):
    bad = full_record("bad")
    bad["full_shape"]["label"] = bad["full_shape"]["label"][:10]
    write(tmp_path, "full_shape_train_data.pkl", [full_record("ok"), bad, full_record("ok2")])
    with pytest.warns(UserWarning, match="skipped 1 of 3"):
        dataset = load_affordancenet(tmp_path, "full", "train", skip_bad=True)
    assert len(dataset) == 2 and dataset.skipped[0][0] == 1


def test_missing_files_and_bad_arguments(tmp_path):
    with pytest.raises(FileNotFoundError, match="full_shape_train_data.pkl"):
        load_affordancenet(tmp_path, "full", "train")
    with pytest.raises(ValueError, match="task"):
        load_affordancenet(tmp_path, "half", "train")


def test_collate_and_augmentations(tmp_path):
    from lmad.data import Augment

    write(tmp_path, "full_shape_train_data.pkl", [full_record("a"), full_record("b", seed=2)])
    augment = Augment(rotate_up=True, scale=(0.8, 1.2), jitter=0.01, dropout=0.3)
    dataset = load_affordancenet(tmp_path, "full", "train", augment=augment, seed=3)
    plain = load_affordancenet(tmp_path, "full", "train")
    a, b = dataset[0], dataset[0]
    assert torch.equal(a["points"], b["points"])  # same (seed, epoch, index)
    assert not torch.allclose(a["points"], plain[0]["points"])
    dataset.set_epoch(1)
    assert not torch.equal(dataset[0]["points"], a["points"])
    batch = collate_samples([plain[0], plain[1]])
    assert batch["points"].shape == (2, 64, 3) and batch["shape_id"] == ["a", "b"]


def test_voxel_lattice_keeps_one_point_per_occupied_cell_with_its_majority_label():
    from lmad.data.transforms import voxel_lattice

    # a plate 1 x 0.5 along x, z, one layer thick, dense: on a 4-cell grid, 4 x 2 cells
    rng = np.random.default_rng(0)
    points = np.stack([rng.uniform(0, 1, 4000), np.full(4000, 0.3), rng.uniform(0, 0.49, 4000)], axis=1)
    points[0], points[1] = (0, 0.3, 0), (1, 0.3, 0.49)  # the box: 1 x 0 x 0.49
    labels = (points[:, 0] > 0.5).astype(np.int64)  # a left and a right half
    soft = labels[:, None].astype(np.float32)
    centres, cell_labels, cell_soft = voxel_lattice(points, labels, soft, 4, num_classes=3)
    assert centres.shape == (8, 3) and cell_soft.shape == (8, 1)
    np.testing.assert_allclose(np.unique(centres[:, 0]), [0.125, 0.375, 0.625, 0.875], atol=1e-6)
    np.testing.assert_allclose(np.unique(centres[:, 2]), [0.125, 0.375], atol=1e-6)
    np.testing.assert_array_equal(cell_labels, (centres[:, 0] > 0.5).astype(int))
    np.testing.assert_allclose(cell_soft[:, 0], cell_labels)


def test_lattice_augmentation_gives_padded_lattices_of_the_samples_point_count(tmp_path):
    from lmad.data import Augment

    write(tmp_path, "full_shape_train_data.pkl", [full_record("a", n=600), full_record("b", n=600, seed=2)])
    lattice = load_affordancenet(tmp_path, "full", "train", augment=Augment(lattice=1.0, lattice_cells=(6, 6)), seed=1)
    never = load_affordancenet(tmp_path, "full", "train", augment=Augment(lattice=0.0, jitter=0.01), seed=1)
    lattice.num_points = never.num_points = 256  # as the trainer sets data.num_points
    sample = lattice[0]
    assert sample["points"].shape == (256, 3) and sample["labels"].shape == (256,)
    distinct = torch.unique(sample["points"], dim=0)
    assert len(distinct) < 216  # at most 6^3 cells: the rest are repeats, as the detector pads
    spacing = torch.unique(torch.round(distinct[:, 0] * 1e4)).numel()
    assert spacing <= 6  # the cells' centres line up on the grid's planes
    assert torch.equal(lattice[0]["points"], sample["points"])  # the same (seed, epoch, index)
    assert torch.unique(never[0]["points"], dim=0).shape[0] == 256


def test_tilt_is_a_rotation_bounded_by_its_angle():
    from lmad.data.transforms import Augment, random_tilt

    rng = np.random.default_rng(0)
    up = np.array([0.0, 1.0, 0.0])
    angles = []
    for _ in range(200):
        rotation = random_tilt(rng, 20.0)
        np.testing.assert_allclose(rotation @ rotation.T, np.eye(3), atol=1e-5)
        assert np.linalg.det(rotation) > 0
        angles.append(np.degrees(np.arccos(np.clip((rotation @ up) @ up, -1, 1))))
    assert max(angles) <= 20.0 + 1e-3 and max(angles) > 15.0  # bounded, and the range is used
    points = np.random.default_rng(1).normal(size=(50, 3)).astype(np.float32)
    tilted, _, _ = Augment(tilt=20.0)(points, np.zeros(50, dtype=np.int64), np.random.default_rng(2))
    np.testing.assert_allclose(np.linalg.norm(tilted, axis=1), np.linalg.norm(points, axis=1), rtol=1e-5)
    assert not np.allclose(tilted, points)


# ---- the real fixtures in ../shared ---------------------------------------------------------------

def test_shared_sample_both_layouts_agree(shared_dir):
    root = shared_dir / "data" / "affordancenet-sample"
    openad = load_affordancenet(root, "full", "train")
    original = load_affordancenet(root / "original", "full", "train")
    assert openad.layout == "openad" and original.layout == "original"
    assert openad[0]["category"] == "Chair"
    assert torch.equal(openad[0]["labels"], original[0]["labels"])
    none_fraction = (original[0]["labels"] == 18).float().mean().item()
    assert 0.40 < none_fraction < 0.50  # the issue: 45% none on this chair
    np.testing.assert_allclose(class_weights(openad.class_counts()), openad.class_weights(), rtol=1e-5)
    partial = load_affordancenet(root, "partial", "val")
    original_partial = load_affordancenet(root / "original", "partial", "val")
    assert len(partial) == len(original_partial) == 4
    for i in range(4):
        assert torch.equal(partial[i]["labels"], original_partial[i]["labels"])
    np.testing.assert_allclose(class_weights(partial.class_counts()), partial.class_weights(), rtol=1e-5)
