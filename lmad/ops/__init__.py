"""Batched point-cloud operators in PyTorch.

Every op works on any device (the result follows the inputs), takes batched tensors and has
no Python loop over batch elements or points; farthest point sampling iterates over the
samples it picks, which is sequential by definition. On CPU, farthest point sampling and the
ball query also have compiled kernels (numba, the ``fast`` extra) with identical results,
used as :mod:`lmad.ops.compiled` decides.

    farthest_point_sample  (B, N, 3) -> (B, S) indices
    ball_query             (B, N, 3), (B, S, 3) -> (B, S, k) indices
    ball_query_radii       (B, S, 3), (B, N, 3), R radii -> R x (B, S, k_r) indices
    knn                    (B, S, 3), (B, N, 3) -> (B, S, k) distances and indices
    gather_points          (B, N, C), (B, ...) -> (B, ..., C)
    three_nn_interpolate   (B, N, 3), (B, S, 3), (B, S, C) -> (B, N, C)
"""

from lmad.ops.interpolation import three_nn_interpolate
from lmad.ops.neighbors import (
    ball_query,
    ball_query_from_distances,
    ball_query_radii,
    gather_points,
    knn,
    pairwise_distance,
)
from lmad.ops.sampling import farthest_point_sample

__all__ = [
    "farthest_point_sample",
    "ball_query",
    "ball_query_from_distances",
    "ball_query_radii",
    "gather_points",
    "knn",
    "pairwise_distance",
    "three_nn_interpolate",
]
