"""The one ``torch.utils.data.Dataset`` every data source returns, and its sample dict."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.utils.data

from lmad.data.resample import resample_indices
from lmad.data.transforms import normalize_unit_sphere, voxel_lattice
from lmad.queries import affordance_indices


@dataclass
class SampleRecord:
    """One labelled cloud as read from disk (not yet normalised)."""

    points: np.ndarray  # (N, 3) float32
    labels: np.ndarray  # (N,) int64 class index
    soft_labels: np.ndarray | None  # (N, C-1) float32 scores of the real affordances, or None
    shape_id: str
    category: str
    view: object = None  # partial-view id, None for full shapes


class PointCloudDataset(torch.utils.data.Dataset):
    """Labelled point clouds, normalised to the unit sphere when read.

    Each item is a dict::

        points       (N, 3) float32 tensor, centred and scaled into the unit sphere
        labels       (N,) int64 tensor, class index into ``class_names``
        soft_labels  (N, C-1) float32 tensor (only for sources with soft scores)
        shape_id, category: str;  view: int (-1 for full shapes)

    ``class_names`` is an attribute of the dataset (the same for every item); use
    :func:`collate_samples` with a DataLoader.
    """

    def __init__(self, records: list[SampleRecord], class_names: list[str], source: str = "",
                 weights: np.ndarray | None = None, skipped=None, augment=None, seed: int = 0,
                 layout: str = ""):
        self.records = records
        self.class_names = list(class_names)
        self.source = source
        self.layout = layout
        self.skipped = list(skipped or [])
        self.augment = augment
        self.seed = seed
        self.epoch = 0
        self.num_points: int | None = None  # training: a random subset of this many points
        self._weights = None if weights is None else np.asarray(weights, dtype=np.float32)
        self.has_soft_labels = bool(records) and all(r.soft_labels is not None for r in records)

    def __len__(self) -> int:
        return len(self.records)

    def set_epoch(self, epoch: int) -> None:
        """Augmentations and point subsets draw from (seed, epoch, index): runs and resumes repeat."""
        self.epoch = epoch

    def __getitem__(self, index: int) -> dict:
        record = self.records[index]
        points, _, _ = normalize_unit_sphere(record.points)
        labels, soft = record.labels, record.soft_labels
        rng = np.random.default_rng((self.seed, self.epoch, index))
        if self.augment is not None and self.augment.lattice > 0 and rng.random() < self.augment.lattice:
            points, labels, soft = self._lattice(points, labels, soft, rng)
        elif self.num_points is not None and self.num_points < len(points):
            keep = np.sort(rng.choice(len(points), self.num_points, replace=False))
            points, labels = points[keep], labels[keep]
            soft = None if soft is None else soft[keep]
        if self.augment is not None and self.augment.enabled:
            points, labels, soft = self.augment(points, labels, rng, soft)
        sample = {
            "points": torch.from_numpy(np.ascontiguousarray(points, dtype=np.float32)),
            "labels": torch.from_numpy(np.ascontiguousarray(labels, dtype=np.int64)),
            "shape_id": record.shape_id,
            "category": record.category,
            "view": -1 if record.view is None else int(record.view),
        }
        if self.has_soft_labels:
            sample["soft_labels"] = torch.from_numpy(np.ascontiguousarray(soft, dtype=np.float32))
        return sample

    def _lattice(self, points, labels, soft, rng):
        """The sample as a voxel lattice (``Augment.lattice``), normalised and brought to ``num_points``."""
        low, high = self.augment.lattice_cells
        points, labels, soft = voxel_lattice(points, labels, soft, int(rng.integers(low, high + 1)),
                                             len(self.class_names))
        points, _, _ = normalize_unit_sphere(points)
        target = self.num_points or len(points)
        if len(points) > target:
            keep = np.sort(rng.choice(len(points), target, replace=False))
        else:  # every cell once, then random repeats: what the detector does with a small cloud
            keep = resample_indices(len(points), target, seed=int(rng.integers(2**31)))
        return points[keep], labels[keep], None if soft is None else soft[keep]

    def class_counts(self) -> np.ndarray:
        """(C,) number of points per class over the whole dataset."""
        counts = np.zeros(len(self.class_names), dtype=np.int64)
        for record in self.records:
            counts += np.bincount(record.labels, minlength=len(self.class_names))[: len(self.class_names)]
        return counts

    def class_weights(self) -> np.ndarray:
        """(C,) loss weights: the dataset's weights file when it has one, else from its counts."""
        if self._weights is not None:
            if len(self._weights) != len(self.class_names):
                raise ValueError(f"{self.source}: weights file has {len(self._weights)} entries for "
                                 f"{len(self.class_names)} classes")
            return self._weights
        return class_weights(self.class_counts())

    def __repr__(self) -> str:
        return (f"PointCloudDataset({len(self)} samples, {len(self.class_names)} classes, "
                f"source={self.source!r}, layout={self.layout!r})")


def collate_samples(samples: list[dict]) -> dict:
    """Stack a list of sample dicts into a batch: tensors stacked, strings and ids as lists."""
    batch = {}
    for key in samples[0]:
        values = [s[key] for s in samples]
        batch[key] = torch.stack(values) if isinstance(values[0], torch.Tensor) else values
    return batch


def class_weights(class_counts: np.ndarray) -> np.ndarray:
    """OpenAD's loss weights: ``w_c = (max_j n_j / n_c) ** (1/3)``; empty classes get the largest.

    Args:
        class_counts: (C,) number of training points per class.

    Returns:
        (C,) float32 weights, 1 for the most frequent class.
    """
    counts = np.asarray(class_counts, dtype=np.float64)
    if counts.max() <= 0:
        return np.ones(len(counts), dtype=np.float32)
    present = counts > 0
    weights = np.empty_like(counts)
    weights[present] = (counts.max() / counts[present]) ** (1.0 / 3.0)
    weights[~present] = weights[present].max()
    return weights.astype(np.float32)


def query_targets(batch: dict, class_names: list[str]) -> torch.Tensor:
    """Per-query targets in [0, 1]: (B, A, N) for the A affordances of ``class_names`` (all but ``none``).

    Soft labels where the batch has them (their columns are the classes before ``none``),
    else the one-hot of the hard labels.
    """
    affordances = [class_names[i] for i in affordance_indices(class_names)]
    if "soft_labels" in batch:
        soft = batch["soft_labels"]  # (B, N, C - 1)
        if soft.shape[-1] != len(affordances):
            raise ValueError(f"soft labels have {soft.shape[-1]} columns for the {len(affordances)} affordances "
                             f"{affordances}: the last class must be 'none'")
        return soft.transpose(1, 2).float()
    index = torch.tensor([class_names.index(name) for name in affordances], device=batch["labels"].device)
    return (batch["labels"][:, None, :] == index[None, :, None]).float()
