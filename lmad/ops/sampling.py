"""Farthest point sampling.

Two implementations with identical results: a compiled loop (numba, when installed: the
``fast`` extra) for CPU tensors, and the PyTorch loop otherwise (GPU, or no numba). The picks
are sequential, so the PyTorch loop pays a few small-op dispatches per pick; compiled, a pick
visits only the points whose distance to the picked set can shrink (``benchmarks/speed.py``).
"""

from __future__ import annotations

import numpy as np
import torch

from lmad.ops.compiled import compiled_kernel, worth_compiling
from lmad.ops.neighbors import pairwise_distance
from lmad.runtime import single_threaded


def farthest_point_sample(
    xyz: torch.Tensor, npoint: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Pick ``npoint`` points that cover the cloud, each the farthest from those already picked.

    Args:
        xyz: (B, N, 3) float point coordinates.
        npoint: number of points to pick, 1 <= npoint <= N.
        generator: where the first point comes from. ``None`` (default) starts every cloud at
            index 0, so the result is deterministic; a ``torch.Generator`` (CPU) draws a random
            start index per cloud from it.

    Returns:
        (B, npoint) long indices into N. With ``npoint == N`` this is a permutation of 0..N-1.
    """
    if xyz.dim() != 3 or xyz.shape[-1] != 3:
        raise ValueError(f"xyz must have shape (B, N, 3), got {tuple(xyz.shape)}")
    batch, num_points, _ = xyz.shape
    if not 1 <= npoint <= num_points:
        raise ValueError(f"npoint must be in [1, N={num_points}], got {npoint}")
    device = xyz.device
    if generator is None:
        farthest = torch.zeros(batch, dtype=torch.long, device=device)
    else:
        farthest = torch.randint(num_points, (batch,), generator=generator).to(device)
    if device.type == "cpu" and xyz.dtype == torch.float32 and worth_compiling(batch * num_points * npoint) \
            and _compiled_kernel() is not None:
        points = xyz.detach().contiguous().numpy()
        return torch.from_numpy(_compiled_kernel()(points, npoint, farthest.numpy()))
    return _farthest_point_sample_torch(xyz, npoint, farthest)


def _farthest_point_sample_torch(xyz: torch.Tensor, npoint: int, farthest: torch.Tensor) -> torch.Tensor:
    """The PyTorch loop: xyz (B, N, 3), first picks (B,) -> (B, npoint) indices."""
    batch, num_points, _ = xyz.shape
    device = xyz.device
    picked = [farthest]
    min_dist = torch.full((batch, num_points), float("inf"), dtype=xyz.dtype, device=device)
    flat_xyz = xyz.reshape(batch * num_points, 3)
    offset = torch.arange(batch, device=device) * num_points
    # one thread on CPU: each of the npoint small steps would otherwise wait at a thread barrier
    with single_threaded(device.type == "cpu"):
        for _ in range(npoint - 1):
            farthest = _next_farthest(flat_xyz, farthest + offset, xyz, min_dist)
            picked.append(farthest)
    return torch.stack(picked, dim=1)


def _next_farthest(flat_xyz, centre_index, xyz, min_dist) -> torch.Tensor:
    """One FPS step: fold the newest centre into ``min_dist`` (in place), return the next pick (B,)."""
    centre = flat_xyz.index_select(0, centre_index).unsqueeze(1)  # (B, 1, 3)
    # One fused op per step: the per-iteration cost is mostly dispatch, not arithmetic.
    dist = pairwise_distance(centre, xyz).squeeze(1)  # (B, N)
    torch.minimum(min_dist, dist, out=min_dist)
    # argmax returns the first maximum: duplicate points never get picked twice while
    # an unpicked distinct point remains, and ties resolve to the lowest index.
    return min_dist.argmax(-1)


LEAF_SIZE = 48  # points per leaf of the compiled kernel (32-64 measured alike)


def _compiled_kernel():
    """The numba kernel, or None (see :mod:`lmad.ops.compiled`)."""
    return compiled_kernel("farthest_point_sample", _build_kernel)


def _build_kernel():
    import numba

    @numba.njit(cache=True, nogil=True)
    def farthest_point_kernel(xyz, npoint, start):  # pragma: no cover - compiled
        # The same float32 arithmetic as the PyTorch loop (cdist without the matmul expansion:
        # the squares summed by fused multiply-adds, each rounded once to float32, then sqrt)
        # and the first maximum on ties: identical indices. Faster by skipping points
        # that cannot change: the points are grouped into leaves of LEAF_SIZE consecutive points
        # along a z-curve (Morton order of a 32^3 grid over the bounding box), each leaf with its
        # bounding box and the largest distance to the picked set among its points. A leaf is
        # skipped when its box is farther from the new pick than that largest distance (with a
        # 1e-5 margin for float32 rounding): none of its distances could shrink (timings:
        # docs/performance.md). Plain loops only (a counting sort, no np.sort, which made numba's
        # compile longer).
        batch, count, _ = xyz.shape
        out = np.empty((batch, npoint), dtype=np.int64)
        leaves = (count + LEAF_SIZE - 1) // LEAF_SIZE
        bounds = np.minimum(np.arange(leaves + 1) * LEAF_SIZE, count)  # leaf i: bounds[i]:bounds[i + 1]
        cells = 1 << 15
        code, order, position = np.empty(count, np.int64), np.empty(count, np.int64), np.empty(count, np.int64)
        starts = np.empty(cells + 1, np.int64)
        x, y, z = np.empty(count, np.float32), np.empty(count, np.float32), np.empty(count, np.float32)
        min_dist, leaf_max = np.empty(count, np.float32), np.empty(leaves, np.float32)
        box = np.empty((leaves, 6))  # per leaf: x min, x max, y min, y max, z min, z max
        low, scale = np.empty(3), np.empty(3)
        for b in range(batch):
            for axis in range(3):
                low[axis] = xyz[b, :, axis].min()
                extent = xyz[b, :, axis].max() - low[axis]
                scale[axis] = 31.0 / extent if extent > 0 else 0.0
            starts[:] = 0
            for j in range(count):
                cell = 0
                for axis in range(3):
                    q = np.int64((xyz[b, j, axis] - low[axis]) * scale[axis])  # 5 bits, spread to every third
                    q = (q | (q << 8)) & 0x0300F00F
                    q = (q | (q << 4)) & 0x030C30C3
                    q = (q | (q << 2)) & 0x09249249
                    cell |= q << axis
                code[j] = cell
                starts[cell + 1] += 1
            for cell in range(cells):
                starts[cell + 1] += starts[cell]
            for j in range(count):  # stable: ascending indices within a cell
                order[starts[code[j]]] = j
                starts[code[j]] += 1
            for j in range(count):
                position[order[j]] = j
                x[j], y[j], z[j] = xyz[b, order[j], 0], xyz[b, order[j], 1], xyz[b, order[j], 2]
                min_dist[j] = np.inf
            for leaf in range(leaves):
                lo, hi = bounds[leaf], bounds[leaf + 1]
                box[leaf, 0], box[leaf, 1] = x[lo:hi].min(), x[lo:hi].max()
                box[leaf, 2], box[leaf, 3] = y[lo:hi].min(), y[lo:hi].max()
                box[leaf, 4], box[leaf, 5] = z[lo:hi].min(), z[lo:hi].max()
                leaf_max[leaf] = np.inf
            far = start[b]
            out[b, 0] = far
            for i in range(1, npoint):
                p = position[far]
                cx, cy, cz = x[p], y[p], z[p]
                best = np.float32(-1.0)
                for leaf in range(leaves):
                    gx = max(box[leaf, 0] - cx, 0.0, cx - box[leaf, 1])
                    gy = max(box[leaf, 2] - cy, 0.0, cy - box[leaf, 3])
                    gz = max(box[leaf, 4] - cz, 0.0, cz - box[leaf, 5])
                    largest = np.float64(leaf_max[leaf])
                    if not (gx * gx + gy * gy + gz * gz) * (1 - 1e-5) > largest * largest:
                        largest_here = np.float32(-1.0)
                        for j in range(bounds[leaf], bounds[leaf + 1]):
                            dx, dy, dz = x[j] - cx, y[j] - cy, z[j] - cz
                            squared = np.float32(np.float64(dx) * dx)  # as cdist: fused multiply-adds
                            squared = np.float32(np.float64(dy) * dy + squared)
                            d = np.sqrt(np.float32(np.float64(dz) * dz + squared))
                            if d < min_dist[j]:
                                min_dist[j] = d
                            if min_dist[j] > largest_here:
                                largest_here = min_dist[j]
                        leaf_max[leaf] = largest_here
                    if leaf_max[leaf] > best:
                        best = leaf_max[leaf]
                far = count
                for leaf in range(leaves):  # the lowest index holding the maximum
                    if leaf_max[leaf] == best:
                        for j in range(bounds[leaf], bounds[leaf + 1]):
                            if min_dist[j] == best and order[j] < far:
                                far = order[j]
                out[b, i] = far
        return out

    return farthest_point_kernel  # no closure over other compiled functions: numba caches it
