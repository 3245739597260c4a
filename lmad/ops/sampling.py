"""Farthest point sampling.

Two implementations with identical results: a compiled loop (numba, when installed: the
``fast`` extra) for CPU tensors, and the PyTorch loop otherwise (GPU, or no numba). The picks
are sequential, so the PyTorch loop pays a few small-op dispatches per pick; compiled, a pick
is one pass over the points (3-7x faster on CPU, ``benchmarks/speed.py``).
"""

from __future__ import annotations

import importlib.util
import os

import numpy as np
import torch

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
    if device.type == "cpu" and xyz.dtype == torch.float32 and _worth_compiling(batch * num_points * npoint) \
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



_KERNEL = []  # [kernel or None], filled on first use
_CALLS = [0]
# Importing numba and loading the cached kernel takes about 0.4 s: more than a single prediction's
# sampling (20k -> 1,024 points: 65 ms in PyTorch, 23 ms compiled). So the kernel is loaded for a
# large call, or from the 16th call of a process on (a prediction makes about 4: training, a service
# or a folder of files gets it).
COMPILE_WORK = 1 << 26  # batch x N x npoint
COMPILE_AFTER_CALLS = 16


def _worth_compiling(work: int) -> bool:
    _CALLS[0] += 1
    return bool(_KERNEL) or work >= COMPILE_WORK or _CALLS[0] >= COMPILE_AFTER_CALLS


def _compiled_kernel():
    """The numba kernel, compiled (or read from numba's cache) on first use; None without numba
    or with ``LMAD_NO_NUMBA=1``."""
    if not _KERNEL:
        if os.environ.get("LMAD_NO_NUMBA") == "1" or importlib.util.find_spec("numba") is None:
            _KERNEL.append(None)
        else:
            _KERNEL.append(_build_kernel())
    return _KERNEL[0]


def _build_kernel():
    import numba

    @numba.njit(cache=True, nogil=True)
    def farthest_point_kernel(xyz, npoint, start):  # pragma: no cover - compiled
        # the same float32 arithmetic as the PyTorch loop (cdist without the matmul expansion,
        # then sqrt), and the first maximum on ties: identical indices
        batch, count, _ = xyz.shape
        out = np.empty((batch, npoint), dtype=np.int64)
        min_dist = np.empty(count, dtype=np.float32)
        for b in range(batch):
            min_dist[:] = np.inf
            far = start[b]
            out[b, 0] = far
            for i in range(1, npoint):
                cx, cy, cz = xyz[b, far, 0], xyz[b, far, 1], xyz[b, far, 2]
                best, best_j = np.float32(-1.0), 0
                for j in range(count):
                    dx, dy, dz = xyz[b, j, 0] - cx, xyz[b, j, 1] - cy, xyz[b, j, 2] - cz
                    d = np.sqrt(np.float32(dx * dx + dy * dy + dz * dz))
                    if d < min_dist[j]:
                        min_dist[j] = d
                    if min_dist[j] > best:
                        best, best_j = min_dist[j], j
                far = best_j
                out[b, i] = far
        return out

    return farthest_point_kernel
