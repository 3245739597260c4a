"""Feature propagation by inverse-distance interpolation."""

from __future__ import annotations

import torch

from lmad.ops.neighbors import gather_points, knn


def three_nn_interpolate(
    xyz: torch.Tensor, known_xyz: torch.Tensor, known_features: torch.Tensor
) -> torch.Tensor:
    """Interpolate features at ``xyz`` from the three nearest ``known_xyz`` points.

    Weights are ``1 / (d^2 + 1e-8)`` with ``d`` the Euclidean distance, normalised to sum to 1
    (as PointNet++ feature propagation). With fewer than three known points all of them are
    used; with one, its features are copied.

    Args:
        xyz: (B, N, 3) float, where features are wanted.
        known_xyz: (B, S, 3) float, where features are known.
        known_features: (B, S, C) float, channels last.

    Returns:
        (B, N, C) float interpolated features.
    """
    num_known = known_xyz.shape[1]
    if known_features.shape[:2] != known_xyz.shape[:2]:
        raise ValueError(
            f"known_features {tuple(known_features.shape)} must be (B, S, C) with (B, S) = "
            f"{tuple(known_xyz.shape[:2])}"
        )
    if num_known == 1:
        return known_features.expand(-1, xyz.shape[1], -1)
    dist, idx = knn(xyz, known_xyz, min(3, num_known))  # (B, N, 3)
    weight = 1.0 / (dist.square() + 1e-8)
    weight = weight / weight.sum(-1, keepdim=True)
    neighbours = gather_points(known_features, idx)  # (B, N, 3, C)
    return (neighbours * weight.unsqueeze(-1)).sum(-2)
