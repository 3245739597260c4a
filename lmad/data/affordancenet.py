"""Readers for 3D AffordanceNet in its two published layouts, full shape and partial view.

OpenAD layout (hard labels), files ``full_shape_{split}_data.pkl`` / ``partial_view_{split}_data.pkl``
and ``full_shape_weights.npy`` / ``partial_view_weights.npy``::

    [{"shape_id": str, "semantic class": str, "affordance": [names],
      "full_shape": {"coordinate": (N, 3), "label": (N,) int in 0..18}}, ...]
    partial view: "partial": {view_id: {"coordinate": (N, 3), "label": (N,)}}

Original 3D AffordanceNet layout (soft labels), files ``full_shape_{split}_data.pkl`` /
``partial_{split}_data.pkl``: the same records, but each ``"label"`` is a dict
``{affordance: (N,) or (N, 1) float score in [0, 1]}`` over the 18 affordances. Hard labels
follow OpenAD's rule: the argmax affordance, ``none`` where no score exceeds ``none_threshold``
(0: where every score is 0).

Every (shape, view) of a partial-view file is one sample. Files are read with a restricted
unpickler (:mod:`lmad.data.safe_pickle`).
"""

from __future__ import annotations

import warnings
from collections import Counter
from pathlib import Path

import numpy as np

from lmad.errors import LMADError
from lmad.data.classes import AFFORDANCE_CLASSES, NONE_INDEX, canonical_class_name
from lmad.data.dataset import PointCloudDataset, SampleRecord
from lmad.data.safe_pickle import safe_load_pickle

TASKS = ("full", "partial")
SPLITS = ("train", "val", "test")
NUM_AFFORDANCES = len(AFFORDANCE_CLASSES) - 1  # the 18 real affordances; "none" is the 19th class


class DataValidationError(LMADError, ValueError):
    """A sample in a data file is malformed; the message names the file, sample and field."""


def hard_labels_from_scores(scores: np.ndarray, none_threshold: float = 0.0) -> np.ndarray:
    """(N, 18) soft scores -> (N,) class index: argmax, or ``none`` where max score <= threshold."""
    labels = scores.argmax(axis=1)
    labels[scores.max(axis=1) <= none_threshold] = NONE_INDEX
    return labels.astype(np.int64)


def affordancenet_files(root: Path, task: str, split: str) -> tuple[list[Path], Path | None]:
    """Candidate data files (OpenAD name first) and the weights file for a task and split."""
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    names = [f"full_shape_{split}_data.pkl"] if task == "full" else [
        f"partial_view_{split}_data.pkl", f"partial_{split}_data.pkl"]
    weights = root / ("full_shape_weights.npy" if task == "full" else "partial_view_weights.npy")
    return [root / name for name in names], (weights if weights.is_file() else None)


def load_affordancenet(
    root: str | Path,
    task: str = "full",
    split: str = "train",
    none_threshold: float = 0.0,
    skip_bad: bool = False,
    augment=None,
    seed: int = 0,
) -> PointCloudDataset:
    """Read a 3D AffordanceNet split in either published layout (detected from the labels).

    Args:
        root: folder holding the ``.pkl`` files.
        task: ``"full"`` (full shapes) or ``"partial"`` (every partial view is a sample).
        split: ``"train"``, ``"val"`` or ``"test"``.
        none_threshold: soft-label layout only: points whose best score is <= this are ``none``.
        skip_bad: skip malformed samples (reported with a warning and in ``dataset.skipped``)
            instead of raising :class:`DataValidationError`.
        augment: optional :class:`lmad.data.Augment` applied to each sample when read.
        seed: seeds the augmentations.

    Returns:
        A :class:`PointCloudDataset` of normalised samples.
    """
    root = Path(root)
    candidates, weights_file = affordancenet_files(root, task, split)
    path = next((p for p in candidates if p.is_file()), None)
    if path is None:
        raise FileNotFoundError(
            f"no 3D AffordanceNet {task}-{split} file in {root}: expected one of "
            f"{', '.join(p.name for p in candidates)}"
        )
    records = safe_load_pickle(path)
    if not isinstance(records, list):
        raise DataValidationError(f"{path}: expected a list of shape records, found {type(records).__name__}")
    samples, skipped = [], []
    for index, record in enumerate(records):
        try:
            samples.extend(_parse_record(record, task, none_threshold))
        except DataValidationError as error:
            message = f"{path}: sample {index}: {error}"
            if not skip_bad:
                raise DataValidationError(message + " (pass skip_bad=True / --skip-bad to skip such samples)") from None
            skipped.append((index, str(error)))
    if skipped:
        reasons = Counter(reason.split(":")[0] for _, reason in skipped)
        warnings.warn(f"{path}: skipped {len(skipped)} of {len(records)} samples: "
                      + "; ".join(f"{n}x {r}" for r, n in reasons.items()), stacklevel=2)
    layout = "original" if any(s.soft_labels is not None for s in samples) else "openad"
    weights = np.load(weights_file) if weights_file is not None else None
    return PointCloudDataset(samples, class_names=list(AFFORDANCE_CLASSES), source=str(path),
                             weights=weights, skipped=skipped, augment=augment, seed=seed, layout=layout)


def _parse_record(record, task: str, none_threshold: float) -> list[SampleRecord]:
    if not isinstance(record, dict):
        raise DataValidationError(f"record is a {type(record).__name__}, expected a dict")
    for key in ("shape_id", "semantic class"):
        if key not in record:
            raise DataValidationError(f"missing key {key!r}")
    key = "full_shape" if task == "full" else "partial"
    if key not in record:
        raise DataValidationError(f"missing key {key!r} (is this a {task} file?)")
    views = {None: record[key]} if task == "full" else record[key]
    if not isinstance(views, dict) or not views:
        raise DataValidationError(f"field {key!r} must be a non-empty dict")
    out = []
    for view in sorted(views, key=lambda v: (v is None, str(v))):
        entry = views[view]
        where = key if view is None else f"{key}[{view!r}]"
        if not isinstance(entry, dict) or "coordinate" not in entry or "label" not in entry:
            raise DataValidationError(f"field {where} needs 'coordinate' and 'label'")
        points = np.asarray(entry["coordinate"], dtype=np.float32)
        if points.ndim != 2 or points.shape[1] != 3 or len(points) == 0:
            raise DataValidationError(f"field {where}.coordinate has shape {points.shape}, expected (N, 3)")
        if not np.isfinite(points).all():
            raise DataValidationError(f"field {where}.coordinate has NaN/Inf values")
        labels, soft = _parse_labels(entry["label"], len(points), f"{where}.label", none_threshold)
        out.append(SampleRecord(points=points, labels=labels, soft_labels=soft, shape_id=str(record["shape_id"]),
                                category=str(record["semantic class"]), view=view))
    return out


def _parse_labels(label, num_points: int, where: str, none_threshold: float):
    if isinstance(label, dict):
        scores = np.zeros((num_points, NUM_AFFORDANCES), dtype=np.float32)
        names = {canonical_class_name(k): v for k, v in label.items()}
        missing = [c for c in AFFORDANCE_CLASSES[:NUM_AFFORDANCES] if c not in names]
        if missing:
            raise DataValidationError(f"field {where} lacks scores for {missing}")
        for column, name in enumerate(AFFORDANCE_CLASSES[:NUM_AFFORDANCES]):
            values = np.asarray(names[name], dtype=np.float32)
            if values.shape not in ((num_points,), (num_points, 1)):
                raise DataValidationError(f"field {where}[{name!r}] has shape {values.shape}, expected ({num_points},)")
            values = values.reshape(num_points)
            if not np.isfinite(values).all() or values.min() < 0 or values.max() > 1:
                raise DataValidationError(f"field {where}[{name!r}] has scores outside [0, 1] or NaN")
            scores[:, column] = values
        return hard_labels_from_scores(scores, none_threshold), scores
    labels = np.asarray(label)
    if labels.shape not in ((num_points,), (num_points, 1)):
        raise DataValidationError(f"field {where} has shape {labels.shape}, expected ({num_points},)")
    labels = labels.reshape(num_points)
    if not np.issubdtype(labels.dtype, np.integer):
        if not np.all(np.isfinite(labels)) or np.any(labels != np.round(labels)):
            raise DataValidationError(f"field {where} must hold integer class indices")
    labels = labels.astype(np.int64)
    if labels.min() < 0 or labels.max() >= len(AFFORDANCE_CLASSES):
        raise DataValidationError(
            f"field {where} has class indices outside 0..{len(AFFORDANCE_CLASSES) - 1} "
            f"(found {labels.min()}..{labels.max()})"
        )
    return labels, None
