"""Farthest point sampling."""

from __future__ import annotations

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

