"""Neighbour search and gathering: pairwise distances, ball query, k-nearest neighbours."""

from __future__ import annotations

import numpy as np
import torch

from lmad.ops.compiled import compiled_kernel, worth_compiling


def pairwise_distance(query: torch.Tensor, xyz: torch.Tensor) -> torch.Tensor:
    """Euclidean distances between two batched point sets.

    Computed from coordinate differences, not from the ``|a|^2 + |b|^2 - 2ab`` expansion, so
    a point's distance to itself is exactly 0 (the expansion leaves rounding noise of ~1e-7,
    which decides whether a tiny ball catches its own centre).

    Args:
        query: (B, S, 3) float.
        xyz: (B, N, 3) float.

    Returns:
        (B, S, N) float distances.
    """
    return torch.cdist(query, xyz, compute_mode="donot_use_mm_for_euclid_dist")


def ball_query_from_distances(distance: torch.Tensor, radius: float, k: int) -> torch.Tensor:
    """Ball query on precomputed distances (lets several radii share one distance matrix).

    Args:
        distance: (B, S, N) float, as returned by :func:`pairwise_distance`.
        radius: points with ``distance <= radius`` are neighbours.
        k: neighbours per centre.

    Returns:
        (B, S, k) long: the first ``k`` in-radius points in index order; rows with fewer are
        padded with the first one found; a centre with none at all gets its nearest point.
    """
    num_points = distance.shape[-1]
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    # The neighbours are the k smallest indices among in-radius points: a partial top-k on a
    # key that is the index inside the ball and N outside it. This is linear in N, unlike
    # sorting the whole (B, S, N) index tensor per radius as most PointNet++ code does.
    key_dtype = torch.int16 if num_points < 2**15 else torch.int32
    index = torch.arange(num_points, dtype=key_dtype, device=distance.device)
    key = torch.where(distance <= radius, index, num_points)
    take = min(k, num_points)
    first_k = key.topk(take, dim=-1, largest=False, sorted=True).values.long()  # (B, S, take)
    first = first_k[..., :1]
    if (first == num_points).any():
        nearest = distance.argmin(-1, keepdim=True)
        first = torch.where(first == num_points, nearest, first)
    first_k = torch.where(first_k == num_points, first, first_k)
    if take < k:
        first_k = torch.cat([first_k, first.expand(*first.shape[:-1], k - take)], dim=-1)
    return first_k


def ball_query_radii(centers: torch.Tensor, xyz: torch.Tensor, radii: list[float], ks: list[int]) -> list[torch.Tensor]:
    """:func:`ball_query` at several radii at once (the multi-scale grouping of PointNet++).

    Args:
        centers: (B, S, 3) float ball centres.
        xyz: (B, N, 3) float, the points to search.
        radii: R radii; ks: R neighbour counts.

    Returns:
        R tensors (B, S, k_r) long, each as :func:`ball_query_from_distances` returns. On CPU
        with the compiled kernel (:mod:`lmad.ops.compiled`), per centre one row of distances
        (in the same float32 arithmetic as :func:`pairwise_distance`) serves all radii: the
        same indices; otherwise one distance matrix serves all radii.
    """
    if len(radii) != len(ks) or any(k < 1 for k in ks):
        raise ValueError(f"need one k >= 1 per radius, got radii {radii} and ks {ks}")
    batch, count = centers.shape[0], centers.shape[1]
    if centers.device.type == "cpu" and centers.dtype == xyz.dtype == torch.float32 \
            and worth_compiling(batch * count * xyz.shape[1]):
        kernel = compiled_kernel("ball_query", _build_ball_query_kernel)
        if kernel is not None:
            found = kernel(centers.detach().contiguous().numpy(), xyz.detach().contiguous().numpy(),
                           np.asarray(radii, dtype=np.float32), np.asarray(ks, dtype=np.int64))
            return [torch.from_numpy(np.ascontiguousarray(found[r, :, :, :k])) for r, k in enumerate(ks)]
    distance = pairwise_distance(centers, xyz)
    return [ball_query_from_distances(distance, radius, k) for radius, k in zip(radii, ks)]


def _build_ball_query_kernel():
    import numba

    @numba.njit(cache=True, nogil=True)
    def ball_query_kernel(centers, xyz, radii, ks):  # pragma: no cover - compiled
        # Per centre: its distances to all points (float32, computed as cdist computes them; a
        # loop the compiler vectorises over coordinates laid out per axis), then per radius the
        # first k_r points in index order with distance <= radius_r, padded with the first one
        # found, or with the nearest point (the first minimum) when the ball is empty.
        batch, num_centers, _ = centers.shape
        count = xyz.shape[1]
        out = np.empty((len(radii), batch, num_centers, ks.max()), dtype=np.int64)
        x, y, z = np.empty(count, np.float32), np.empty(count, np.float32), np.empty(count, np.float32)
        distance = np.empty(count, np.float32)
        for b in range(batch):
            for j in range(count):
                x[j], y[j], z[j] = xyz[b, j, 0], xyz[b, j, 1], xyz[b, j, 2]
            for s in range(num_centers):
                cx, cy, cz = centers[b, s, 0], centers[b, s, 1], centers[b, s, 2]
                for j in range(count):
                    dx, dy, dz = x[j] - cx, y[j] - cy, z[j] - cz
                    # cdist's CPU kernel sums the squares with fused multiply-adds: each step
                    # rounds once to float32 (the product is exact in float64)
                    squared = np.float32(np.float64(dx) * dx)
                    squared = np.float32(np.float64(dy) * dy + squared)
                    distance[j] = np.sqrt(np.float32(np.float64(dz) * dz + squared))
                for r in range(len(radii)):
                    found = 0
                    for j in range(count):
                        if distance[j] <= radii[r]:
                            out[r, b, s, found] = j
                            found += 1
                            if found == ks[r]:
                                break
                    if found == 0:
                        out[r, b, s, 0] = np.argmin(distance)
                        found = 1
                    out[r, b, s, found:ks[r]] = out[r, b, s, 0]
        return out

    return ball_query_kernel


def ball_query(xyz: torch.Tensor, centers: torch.Tensor, radius: float, k: int) -> torch.Tensor:
    """Neighbours of each centre within ``radius``, as PointNet++ groups them.

    Args:
        xyz: (B, N, 3) float, the points to search.
        centers: (B, S, 3) float, the ball centres.
        radius: ball radius (inclusive).
        k: neighbours per centre.

    Returns:
        (B, S, k) long indices into N: the first ``k`` in-radius points in index order, padded
        with the first one found when fewer than ``k`` lie in the ball. A centre with no point
        in its ball (possible only for centres that are not themselves in ``xyz``) gets its
        nearest point.
    """
    _check_points(xyz, "xyz")
    _check_points(centers, "centers")
    return ball_query_radii(centers, xyz, [radius], [k])[0]


def knn(query: torch.Tensor, xyz: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` nearest points of ``xyz`` to each query point.

    Args:
        query: (B, S, 3) float.
        xyz: (B, N, 3) float, N >= k.
        k: number of neighbours.

    Returns:
        dist: (B, S, k) float Euclidean distances, ascending.
        idx: (B, S, k) long indices into N (ties in any order).
    """
    _check_points(query, "query")
    _check_points(xyz, "xyz")
    if not 1 <= k <= xyz.shape[1]:
        raise ValueError(f"k must be in [1, N={xyz.shape[1]}], got {k}")
    distance = pairwise_distance(query, xyz)
    return distance.topk(k, dim=-1, largest=False, sorted=True)


def gather_points(features: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """Pick rows of a channels-last feature tensor per batch element.

    Args:
        features: (B, N, C) tensor.
        idx: (B, ...) long indices into N, e.g. (B, S) for sampling or (B, S, k) for grouping.

    Returns:
        (B, ..., C) tensor: ``out[b, ...] = features[b, idx[b, ...]]``.
    """
    batch, num_points, channels = features.shape
    offset = torch.arange(batch, device=idx.device).view(batch, *([1] * (idx.dim() - 1)))
    flat = (idx + offset * num_points).reshape(-1)
    return features.reshape(batch * num_points, channels).index_select(0, flat).view(*idx.shape, channels)


def _check_points(points: torch.Tensor, name: str) -> None:
    if points.dim() != 3 or points.shape[-1] != 3:
        raise ValueError(f"{name} must have shape (B, N, 3), got {tuple(points.shape)}")
