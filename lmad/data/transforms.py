"""Per-sample normalisation and optional training augmentations (all off by default, as OpenAD)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def normalize_unit_sphere(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Centre a cloud on its centroid and scale it into the unit sphere.

    Centring and scaling run in float64 (only the result is float32): a cloud far from the
    origin (UTM-like coordinates, 5e6 m) keeps its millimetres.

    Args:
        points: (N, 3) float.

    Returns:
        (normalised (N, 3) float32, centroid (3,) float64, scale): ``points = normalised * scale + centroid``.
    """
    points = np.asarray(points, dtype=np.float64)
    centroid = points.mean(axis=0)
    centred = points - centroid
    largest = float(np.abs(centred).max()) if centred.size else 0.0
    if largest == 0.0 or not np.isfinite(largest):
        raise ValueError("cannot normalise a cloud whose points are all identical (zero extent) or not finite")
    centred /= largest  # first into [-1, 1], so that squaring cannot overflow at any scale
    radius = float(np.sqrt((centred**2).sum(axis=1)).max())
    return (centred / radius).astype(np.float32), centroid, largest * radius


UP_AXES = ("y", "z", "-z", "x", "-y")


def up_axis_rotation(up_axis: str) -> np.ndarray:
    """(3, 3) float64 rotation taking a cloud whose up is ``up_axis`` to y-up (lmad's models are
    trained y-up, 3D AffordanceNet's convention; robot meshes are often z-up)."""
    rotations = {
        "y": np.eye(3),
        "z": np.array([[1, 0, 0], [0, 0, 1], [0, -1, 0]]),
        "-z": np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]]),
        "x": np.array([[0, -1, 0], [1, 0, 0], [0, 0, 1]]),
        "-y": np.array([[1, 0, 0], [0, -1, 0], [0, 0, -1]]),
    }
    if up_axis not in rotations:
        raise ValueError(f"up axis must be one of {', '.join(UP_AXES)}, got {up_axis!r}")
    return rotations[up_axis].astype(np.float64)


def rotation_about_y(angle: float) -> np.ndarray:
    """(3, 3) rotation about the up axis y."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]], dtype=np.float32)


def random_tilt(rng: np.random.Generator, max_degrees: float) -> np.ndarray:
    """(3, 3) rotation by up to ``max_degrees`` about a random horizontal axis (a tilted sensor)."""
    heading = rng.uniform(0, 2 * np.pi)
    axis = np.array([np.cos(heading), 0.0, np.sin(heading)])
    angle = np.deg2rad(rng.uniform(-max_degrees, max_degrees))
    cross = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return (np.eye(3) + np.sin(angle) * cross + (1 - np.cos(angle)) * cross @ cross).astype(np.float32)


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    """A uniformly random (3, 3) rotation (QR of a Gaussian matrix, sign-fixed)."""
    q, r = np.linalg.qr(rng.standard_normal((3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q.astype(np.float32)


def voxel_lattice(points: np.ndarray, labels: np.ndarray, soft: np.ndarray | None, cells: int,
                  num_classes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """A cloud as a voxel lattice: the centres of the occupied cells of a grid with ``cells``
    cells along the longest side of its bounding box (cubic cells), as voxelised datasets store
    objects (grasp-voxels: 32^3, a knife's blade one cell thick).

    Args:
        points: (N, 3) float; labels: (N,) int class indices; soft: (N, S) float or None.
        cells: grid cells along the longest side.
        num_classes: C, the number of classes the labels index.

    Returns:
        (M, 3) float32 cell centres (M <= N, in the order of their cells), (M,) the most common
        label of each cell's points, (M, S) the mean of their soft labels (or None).
    """
    points = np.asarray(points, dtype=np.float64)
    low = points.min(axis=0)
    size = float((points.max(axis=0) - low).max()) / cells
    if size <= 0:
        raise ValueError("cannot voxelise a cloud whose points are all identical")
    index = np.minimum(((points - low) / size).astype(np.int64), cells - 1)  # (N, 3)
    keys = (index[:, 0] * cells + index[:, 1]) * cells + index[:, 2]
    occupied, cell_of_point = np.unique(keys, return_inverse=True)
    centres = (np.stack(np.unravel_index(occupied, (cells,) * 3), axis=1) + 0.5) * size + low
    votes = np.zeros((len(occupied), num_classes), dtype=np.int64)
    np.add.at(votes, (cell_of_point, labels), 1)
    cell_soft = None
    if soft is not None:
        cell_soft = np.zeros((len(occupied), soft.shape[1]), dtype=np.float64)
        np.add.at(cell_soft, cell_of_point, soft)
        cell_soft = (cell_soft / votes.sum(axis=1, keepdims=True)).astype(np.float32)
    return centres.astype(np.float32), votes.argmax(axis=1), cell_soft


@dataclass
class Augment:
    """Training-time augmentations of one normalised cloud; every field off by default.

    Attributes:
        rotate_up: random rotation about the up axis y.
        rotate_so3: random rotation in SO(3) (replaces ``rotate_up``).
        tilt: largest tilt of the up axis in degrees (about a random horizontal axis), or 0:
            robustness to scans whose up axis is only roughly known (ignored with ``rotate_so3``).
        scale: (low, high) uniform per-axis scaling, or None.
        jitter: standard deviation of Gaussian noise per coordinate (clipped at 5 sigma), or 0.
        dropout: largest fraction of points replaced by copies of others (labels follow), or 0.
        lattice: share of the clouds turned into voxel lattices (:func:`voxel_lattice`, from all
            the sample's points, before the other augmentations), with a grid of ``lattice_cells``
            cells (low, high: drawn uniformly) along the longest side; a lattice with fewer cells
            than the sample's point count is padded as the detector pads (every cell once, then
            random repeats), one with more is randomly subsampled. Objects stored as voxels
            (150-1,600 occupied cells at 32^3) are otherwise unlike every training cloud.
    """

    rotate_up: bool = False
    rotate_so3: bool = False
    tilt: float = 0.0
    scale: tuple[float, float] | None = None
    jitter: float = 0.0
    dropout: float = 0.0
    lattice: float = 0.0
    lattice_cells: tuple[int, int] = (24, 48)

    def __call__(self, points: np.ndarray, labels: np.ndarray, rng: np.random.Generator, soft=None):
        """points (N, 3), labels (N,), soft (N, C) or None -> the same, augmented."""
        points = points.astype(np.float32, copy=True)
        if self.rotate_so3:
            points = points @ random_rotation(rng).T
        elif self.rotate_up:
            points = points @ rotation_about_y(rng.uniform(0, 2 * np.pi)).T
        if self.tilt > 0 and not self.rotate_so3:
            points = points @ random_tilt(rng, self.tilt).T
        if self.scale is not None:
            points = points * rng.uniform(*self.scale, size=3).astype(np.float32)
        if self.jitter > 0:
            noise = rng.normal(0.0, self.jitter, size=points.shape).clip(-5 * self.jitter, 5 * self.jitter)
            points = points + noise.astype(np.float32)
        if self.dropout > 0:
            # keep N fixed: dropped points become copies of the first point, as PointNet++ does
            drop = rng.random(len(points)) < rng.uniform(0, self.dropout)
            if drop.any() and not drop.all():
                keep = int(np.flatnonzero(~drop)[0])
                points[drop], labels = points[keep], labels.copy()
                labels[drop] = labels[keep]
                if soft is not None:
                    soft = soft.copy()
                    soft[drop] = soft[keep]
        return points, labels, soft

    @property
    def enabled(self) -> bool:
        return (self.rotate_up or self.rotate_so3 or self.tilt > 0 or self.scale is not None or self.jitter > 0
                or self.dropout > 0 or self.lattice > 0)
