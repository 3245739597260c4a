"""Bringing any number of input points to the model's N, and carrying scores back to all of them."""

from __future__ import annotations

import sys

import numpy as np
import torch

from lmad.ops import farthest_point_sample

# Farthest point sampling is sequential in its N picks and linear in M per pick; above this
# many points a seeded uniform subset is taken first, which keeps the cost linear in M.
FPS_INPUT_LIMIT = 32_768


def resample_indices(num_points: int, target: int, seed: int = 0, points: np.ndarray | None = None) -> np.ndarray:
    """Indices of ``target`` points chosen from ``num_points``.

    More points than needed: farthest point sampling on ``points`` (after a seeded uniform
    subset of ``FPS_INPUT_LIMIT`` when there are more). Fewer: every point once, plus seeded
    random repeats to make up the count (no point is left unscored).

    Returns:
        (target,) int64 indices into the input.
    """
    rng = np.random.default_rng(seed)
    if num_points == target:
        return np.arange(num_points)
    if num_points < target:
        extra = rng.integers(0, num_points, size=target - num_points)
        return np.concatenate([np.arange(num_points), extra])
    if points is None:
        raise ValueError("points are needed to farthest-point-sample")
    pool = np.arange(num_points)
    if num_points > FPS_INPUT_LIMIT:
        pool = np.sort(rng.choice(num_points, size=FPS_INPUT_LIMIT, replace=False))
    xyz = torch.from_numpy(np.ascontiguousarray(points[pool], dtype=np.float32)).unsqueeze(0)
    generator = torch.Generator().manual_seed(seed)
    picked = farthest_point_sample(xyz, target, generator)[0].numpy()
    return pool[picked]


# Up to this many point pairs (M x N) a one-off prediction takes the nearest sampled point from a
# dense distance matrix rather than import scipy.spatial (0.17 s) for it. Once scipy.spatial is
# loaded (a service loads it at start-up; reading a mesh loads it through trimesh), the KD-tree
# answers every size: 20k x 1,024 pairs in 8 ms against 90-170 ms dense on 2 cores.
DENSE_PAIRS = 1 << 25


def nearest_sampled(points: np.ndarray, sampled: np.ndarray, chunk: int = 1 << 20) -> np.ndarray:
    """For each of M points, the index of its nearest sampled point: (M,) int64.

    Distances in float64. A KD-tree over the N sampled points (scipy), queried ``chunk`` points
    at a time: time O(M log N), memory O(chunk); up to ``DENSE_PAIRS`` pairs while scipy.spatial
    is not imported yet: dense distance rows (PyTorch), the same indices without the import.
    (Exact ties, i.e. copies of one point among the sampled, may resolve to either copy.)
    """
    points = np.asarray(points, dtype=np.float64)
    sampled = np.asarray(sampled, dtype=np.float64)
    if len(points) * len(sampled) <= DENSE_PAIRS and "scipy.spatial" not in sys.modules:
        return _nearest_dense(points, sampled)
    return _nearest_kd_tree(points, sampled, chunk)


def _nearest_dense(points: np.ndarray, sampled: np.ndarray) -> np.ndarray:
    """(M, 3), (N, 3) float64 -> (M,) int64 from dense distance rows, 32 MB at a time (ties to the lowest index)."""
    out = np.empty(len(points), dtype=np.int64)
    targets = torch.from_numpy(sampled)
    rows = max(1, (1 << 22) // max(len(sampled), 1))
    for start in range(0, len(points), rows):
        block = torch.from_numpy(points[start:start + rows])
        distance = torch.cdist(block, targets, compute_mode="donot_use_mm_for_euclid_dist")
        out[start:start + rows] = distance.argmin(1).numpy()
    return out


def _nearest_kd_tree(points: np.ndarray, sampled: np.ndarray, chunk: int) -> np.ndarray:
    """(M, 3), (N, 3) float64 -> (M,) int64 from a KD-tree over the sampled points, ``chunk`` queries at a time."""
    from scipy.spatial import cKDTree

    out = np.empty(len(points), dtype=np.int64)
    tree = cKDTree(sampled)
    for start in range(0, len(points), chunk):
        _, index = tree.query(points[start:start + chunk], k=1)
        out[start:start + chunk] = index
    return out
