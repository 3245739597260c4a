"""Bringing any number of input points to the model's N, and carrying scores back to all of them."""

from __future__ import annotations

import numpy as np
import torch

from lmad.ops import farthest_point_sample

# Farthest point sampling is sequential in its N picks and linear in M per pick; above this
# many points a pseudo-random subset is taken first, which keeps the cost linear in M.
FPS_INPUT_LIMIT = 32_768


# coordinates of a normalised cloud are compared on this grid (a millionth of the unit sphere's
# radius): the same cloud re-ordered, scaled or moved differs only by rounding far below it
CANDIDATE_GRID = 2.0 ** -20


def sampling_candidates(points: np.ndarray, limit: int = FPS_INPUT_LIMIT) -> np.ndarray:
    """The rows sampling may pick from, in an order that depends on the points, not on their rows.

    The same set of points in any row order, scale or position gives the same candidate points in
    the same order, so a cloud gets the same answer however its file lists it. The order is a
    hash of each point's coordinates on a grid of ``CANDIDATE_GRID``: pseudo-random, like the
    shuffled clouds the model was trained on (an order by coordinates would start the backbone's
    sampling at an extreme point every time, which measured worse on real objects); above
    ``limit`` rows the first ``limit`` in that order are the candidates (a uniform pseudo-random
    subset, O(M)).

    Args:
        points: (M, 3) float coordinates, normalised into the unit sphere and turned upright (the
            frame the model sees, so that a turned or rescaled input hashes alike).
    Returns:
        (min(M, limit),) int64 indices into the rows.
    """
    keys = _row_hash(np.round(np.asarray(points, dtype=np.float64) / CANDIDATE_GRID).astype(np.int64))
    if len(keys) > limit:
        chosen = np.argpartition(keys, limit - 1)[:limit]
        return chosen[np.argsort(keys[chosen], kind="stable")]
    return np.argsort(keys, kind="stable")


def _row_hash(points: np.ndarray) -> np.ndarray:
    """(M, 3) 64-bit values -> (M,) uint64, a mix (splitmix64's finaliser) of each row's bits."""
    bits = np.ascontiguousarray(points).view(np.uint64)
    key = np.zeros(len(points), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for column in range(3):
            key ^= bits[:, column]
            key ^= key >> np.uint64(30)
            key *= np.uint64(0xBF58476D1CE4E5B9)
            key ^= key >> np.uint64(27)
            key *= np.uint64(0x94D049BB133111EB)
            key ^= key >> np.uint64(31)
    return key


def resample_indices(num_points: int, target: int, seed: int = 0, points: np.ndarray | None = None) -> np.ndarray:
    """Indices of ``target`` points chosen from ``num_points``.

    More points than needed: farthest point sampling on ``points`` (among
    :func:`sampling_candidates` when there are more than ``FPS_INPUT_LIMIT``). Fewer: every
    point once, plus seeded random repeats to make up the count (no point is left unscored).
    The result follows the rows' order; give rows in :func:`sampling_candidates`' order for an
    answer that does not depend on it (the detector does).

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
        pool = sampling_candidates(points)
    xyz = torch.from_numpy(np.ascontiguousarray(points[pool], dtype=np.float32)).unsqueeze(0)
    generator = torch.Generator().manual_seed(seed)
    picked = farthest_point_sample(xyz, target, generator)[0].numpy()
    return pool[picked]


# Up to this many point pairs (M x N) one prediction takes the nearest sampled point from dense
# distance rows, unless told to use the KD-tree (a service, which imports scipy.spatial once at
# start-up and answers every size faster with the tree: docs/performance.md); above it, the tree.
DENSE_PAIRS = 1 << 25


def nearest_sampled(points: np.ndarray, sampled: np.ndarray, kd_tree: bool = False,
                    chunk: int = 1 << 20) -> np.ndarray:
    """For each of M points, the index of its nearest sampled point: (M,) int64.

    Distances in float64. A KD-tree over the N sampled points (scipy), queried ``chunk`` points
    at a time: time O(M log N), memory O(chunk), for ``kd_tree`` or above ``DENSE_PAIRS`` pairs;
    below that, dense distance rows (PyTorch): the same indices without importing scipy.spatial.
    (Exact ties, i.e. copies of one point among the sampled, may resolve to either copy.)
    """
    points = np.asarray(points, dtype=np.float64)
    sampled = np.asarray(sampled, dtype=np.float64)
    if not kd_tree and len(points) * len(sampled) <= DENSE_PAIRS:
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
