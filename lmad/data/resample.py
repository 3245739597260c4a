"""Bringing any number of input points to the model's N, and carrying scores back to all of them."""

from __future__ import annotations

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


# Up to this many point pairs (M x N) the nearest sampled point comes from a dense distance
# matrix: a 20k-point prediction then does not import scipy.spatial (0.2 s, ten times its query).
DENSE_PAIRS = 1 << 25


def nearest_sampled(points: np.ndarray, sampled: np.ndarray, chunk: int = 1 << 20) -> np.ndarray:
    """For each of M points, the index of its nearest sampled point: (M,) int64.

    Distances in float64. Up to ``DENSE_PAIRS`` pairs: dense distance rows (PyTorch, ties to the
    lowest index); beyond: a KD-tree over the N sampled points (scipy), queried ``chunk`` points
    at a time: time O(M log N), memory O(chunk). (Dense gives the same indices 8x slower at
    M = 1M, ``benchmarks/speed.py``.)
    """
    points = np.asarray(points, dtype=np.float64)
    sampled = np.asarray(sampled, dtype=np.float64)
    out = np.empty(len(points), dtype=np.int64)
    if len(points) * len(sampled) <= DENSE_PAIRS:
        targets = torch.from_numpy(sampled)
        rows = max(1, (1 << 22) // max(len(sampled), 1))  # 32 MB of distances at a time
        for start in range(0, len(points), rows):
            block = torch.from_numpy(points[start:start + rows])
            distance = torch.cdist(block, targets, compute_mode="donot_use_mm_for_euclid_dist")
            out[start:start + rows] = distance.argmin(1).numpy()
        return out
    from scipy.spatial import cKDTree

    tree = cKDTree(sampled)
    for start in range(0, len(points), chunk):
        _, index = tree.query(points[start:start + chunk], k=1)
        out[start:start + chunk] = index
    return out
