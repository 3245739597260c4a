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


def nearest_sampled(points: np.ndarray, sampled: np.ndarray, chunk: int = 32_768) -> np.ndarray:
    """For each of M points, the index of its nearest sampled point: (M,) int64.

    ``argmin_j |p - s_j|^2 = argmin_j (|s_j|^2 - 2 p . s_j)``: one matrix product per chunk of
    ``chunk`` points, so memory stays O(chunk x N) and time linear in M.
    """
    reference = torch.from_numpy(np.ascontiguousarray(sampled, dtype=np.float32))
    reference_sq = reference.square().sum(1)
    out = np.empty(len(points), dtype=np.int64)
    for start in range(0, len(points), chunk):
        query = torch.from_numpy(np.ascontiguousarray(points[start:start + chunk], dtype=np.float32))
        out[start:start + chunk] = torch.addmm(reference_sq, query, reference.T, alpha=-2).argmin(1).numpy()
    return out
