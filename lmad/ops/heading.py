"""A canonical heading: each cloud turned about the up axis (y) into a frame of its own shape."""

from __future__ import annotations

import math

import torch


def canonical_yaw(xyz: torch.Tensor) -> torch.Tensor:
    """Turn each cloud about y so that its horizontal principal axis is x, its longer tail toward +x.

    The axis is the leading eigenvector of the 2 x 2 covariance of the (x, z) coordinates (in
    closed form: the angle ``atan2(2 c_xz, c_xx - c_zz) / 2``); of its two directions the one
    with the positive third moment is +x (a guitar's neck, a pan's handle: the side whose
    points reach farther from the centroid). The turn is a rotation (no mirroring), y is
    unchanged, and the result is the same for any heading of the input: the model then need not
    learn every heading from data. Shapes that are round in plan (a bowl) or symmetric along
    their axis have no preferred heading or sign; they get whichever the rounding decides.

    Args:
        xyz: (B, N, 3) float, y up.

    Returns:
        (B, N, 3) float, the same points turned about y (about the origin).
    """
    if xyz.dim() != 3 or xyz.shape[-1] != 3:
        raise ValueError(f"xyz must have shape (B, N, 3), got {tuple(xyz.shape)}")
    with torch.no_grad():
        plan = xyz[..., [0, 2]].double()
        centred = plan - plan.mean(dim=1, keepdim=True)  # (B, N, 2)
        covariance = centred.transpose(1, 2) @ centred  # (B, 2, 2), unnormalised: only the angle counts
        angle = 0.5 * torch.atan2(2 * covariance[:, 0, 1], covariance[:, 0, 0] - covariance[:, 1, 1])
        along = centred[..., 0] * torch.cos(angle)[:, None] + centred[..., 1] * torch.sin(angle)[:, None]
        angle = torch.where(along.pow(3).sum(dim=1) < 0, angle + math.pi, angle)  # (B,)
        cos, sin = torch.cos(angle).to(xyz.dtype)[:, None], torch.sin(angle).to(xyz.dtype)[:, None]
    x, y, z = xyz.unbind(-1)
    # (x, z) -> (x cos a + z sin a, -x sin a + z cos a): the axis at angle a becomes +x
    return torch.stack([x * cos + z * sin, y, z * cos - x * sin], dim=-1)
