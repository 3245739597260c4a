"""lmad's own labelled-data format: a folder of ``.npz`` files, one per shape (or view).

Each file holds::

    points       (M, 3) float     coordinates in any units and position (normalised when read)
    labels       (M,) int         index into class_names
    class_names  (C,) str         the same in every file of the folder
    scores       (M, C - 1) float optional soft scores of every class except the last one
                                  (``none`` by convention), in class_names order
    shape_id     str              optional (default: the file name)
    category     str              optional

Splits are sub-folders (``root/train``, ``root/val``); a folder without them is one split.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from lmad.data.affordancenet import DataValidationError, load_affordancenet
from lmad.data.dataset import PointCloudDataset, SampleRecord


def write_sample(path: str | Path, points, labels, class_names, scores=None, shape_id=None, category="") -> Path:
    """Write one labelled shape as an ``.npz`` of the folder format."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {
        "points": np.asarray(points, dtype=np.float32),
        "labels": np.asarray(labels, dtype=np.int64),
        "class_names": np.asarray(list(class_names), dtype=str),
        "shape_id": np.asarray(shape_id if shape_id is not None else path.stem),
        "category": np.asarray(category),
    }
    if scores is not None:
        arrays["scores"] = np.asarray(scores, dtype=np.float32)
    np.savez_compressed(path, **arrays)
    return path


def load_folder(root: str | Path, split: str | None = None, skip_bad: bool = False, augment=None,
                seed: int = 0) -> PointCloudDataset:
    """Read a folder of ``.npz`` shapes (see the module doc) as a :class:`PointCloudDataset`.

    Args:
        root: the folder; with ``split`` given and ``root/split`` present, that sub-folder.
        skip_bad: skip malformed files (warned, listed in ``dataset.skipped``) instead of raising.
    """
    root = Path(root)
    folder = root / split if split is not None and (root / split).is_dir() else root
    files = sorted(folder.rglob("*.npz"))
    if not files:
        raise FileNotFoundError(f"no .npz shapes found under {folder}")
    records, skipped, class_names = [], [], None
    for index, path in enumerate(files):
        try:
            record, names = _read_sample(path)
            if class_names is None:
                class_names = names
            elif names != class_names:
                raise DataValidationError(f"class_names {names} differ from the folder's {class_names}")
            records.append(record)
        except DataValidationError as error:
            if not skip_bad:
                raise DataValidationError(f"{path}: {error} (pass skip_bad=True / --skip-bad to skip)") from None
            skipped.append((index, f"{path.name}: {error}"))
    if skipped:
        warnings.warn(f"{folder}: skipped {len(skipped)} of {len(files)} files: "
                      + "; ".join(reason for _, reason in skipped[:5]), stacklevel=2)
    if not records:
        raise DataValidationError(f"{folder}: no valid shapes ({len(skipped)} skipped)")
    return PointCloudDataset(records, class_names=class_names, source=str(folder), skipped=skipped,
                             augment=augment, seed=seed, layout="folder")


def _read_sample(path: Path) -> tuple[SampleRecord, list[str]]:
    try:
        archive = np.load(path, allow_pickle=False)
    except Exception as error:  # noqa: BLE001 - a corrupt archive
        raise DataValidationError(f"not a readable .npz ({type(error).__name__}: {error})") from None
    with archive:
        for key in ("points", "labels", "class_names"):
            if key not in archive:
                raise DataValidationError(f"missing field {key!r}")
        points = archive["points"].astype(np.float32)
        labels = archive["labels"]
        names = [str(n) for n in archive["class_names"]]
        scores = archive["scores"].astype(np.float32) if "scores" in archive else None
        shape_id = str(archive["shape_id"]) if "shape_id" in archive else path.stem
        category = str(archive["category"]) if "category" in archive else ""
    if points.ndim != 2 or points.shape[1] != 3 or len(points) == 0:
        raise DataValidationError(f"field 'points' has shape {points.shape}, expected (M, 3)")
    if not np.isfinite(points).all():
        raise DataValidationError("field 'points' has NaN/Inf values")
    if labels.shape != (len(points),) or not np.issubdtype(labels.dtype, np.integer):
        raise DataValidationError(f"field 'labels' must be ({len(points)},) integers, got {labels.shape} {labels.dtype}")
    if labels.min() < 0 or labels.max() >= len(names):
        raise DataValidationError(f"field 'labels' has indices outside 0..{len(names) - 1}")
    if scores is not None and scores.shape != (len(points), len(names) - 1):
        raise DataValidationError(f"field 'scores' has shape {scores.shape}, expected ({len(points)}, {len(names) - 1})")
    return SampleRecord(points, labels.astype(np.int64), scores, shape_id, category), names


def convert_affordancenet(root: str | Path, out: str | Path, task: str = "full",
                          splits: tuple[str, ...] = ("train", "val"), skip_bad: bool = False) -> dict[str, int]:
    """Write a 3D AffordanceNet task (either layout) as folder-format files under ``out/<split>/``.

    Returns the number of files written per split. Points are written as stored (not normalised).
    """
    written = {}
    for split in splits:
        dataset = load_affordancenet(root, task=task, split=split, skip_bad=skip_bad)
        for record in dataset.records:
            stem = record.shape_id if record.view is None else f"{record.shape_id}_view{record.view}"
            write_sample(Path(out) / split / f"{stem}.npz", record.points, record.labels, dataset.class_names,
                         record.soft_labels, record.shape_id, record.category)
        written[split] = len(dataset)
    return written
