"""Point tokens: the backbone's per-point features projected (1x1 conv + BatchNorm) to the LM width.

The projection is affine, ``h = s * (A f + a) + t`` with BatchNorm's per-channel scale ``s`` and
shift ``t``, so every later linear map of the point tokens composes with it:
``W h + b = (W diag(s) A) f + (W (s a + t) + b)``. With backbone width C = 128 and LM width
d = 384, projecting the N point tokens to keys and values from f instead of h is d / C = 3x
cheaper; the AQM does that in every block, which is where its cost was (see README).
:class:`AffineTokens` carries (f, composed weight, bias) and materialises h only where h itself
is needed.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from lmad.ops import gather_points


@dataclass
class AffineTokens:
    """Tokens ``h = features @ weight.T + bias`` kept in factored form.

    features: (B, N, C); weight: (d, C); bias: (d,).
    """

    features: torch.Tensor
    weight: torch.Tensor
    bias: torch.Tensor

    def materialize(self) -> torch.Tensor:
        """(B, N, d) tokens."""
        return F.linear(self.features, self.weight, self.bias)

    def project(self, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        """``F.linear(h, weight, bias)`` without forming h: (B, N, d_out)."""
        composed_bias = weight @ self.bias
        if bias is not None:
            composed_bias = composed_bias + bias
        return F.linear(self.features, weight @ self.weight, composed_bias)

    def gather(self, idx: torch.Tensor) -> "AffineTokens":
        """Keep the tokens at idx (B, M)."""
        return AffineTokens(gather_points(self.features, idx), self.weight, self.bias)

    @property
    def shape(self) -> tuple[int, int, int]:
        return (*self.features.shape[:2], self.weight.shape[0])


class PointTokenProjection(nn.Module):
    """Conv1d(C, d, 1) + BatchNorm1d(d) over per-point features, returned as :class:`AffineTokens`.

    In training the BatchNorm statistics of the batch are computed from the features' mean and
    covariance (exactly what BatchNorm would see) and the running statistics are updated as
    ``nn.BatchNorm1d`` does; in eval the running statistics are used.
    """

    def __init__(self, in_channels: int, width: int, momentum: float = 0.1, eps: float = 1e-5):
        super().__init__()
        self.conv = nn.Conv1d(in_channels, width, 1)
        self.norm = nn.BatchNorm1d(width, momentum=momentum, eps=eps)

    def forward(self, features: torch.Tensor) -> AffineTokens:
        """features: (B, C, N) channels first, as the backbone returns -> tokens of shape (B, N, d)."""
        features = features.transpose(1, 2)  # (B, N, C)
        weight = self.conv.weight.squeeze(-1)  # (d, C)
        norm = self.norm
        if self.training:
            flat = features.reshape(-1, features.shape[-1])
            count = flat.shape[0]
            if count < 2:
                raise ValueError("BatchNorm in training needs more than one point token")
            mean_f = flat.mean(0)
            centred = flat - mean_f
            covariance = centred.T @ centred / count  # (C, C)
            mean = weight @ mean_f + self.conv.bias
            var = ((weight @ covariance) * weight).sum(1).clamp_min(0)  # biased, as BatchNorm normalises
            with torch.no_grad():
                momentum = norm.momentum
                norm.running_mean.mul_(1 - momentum).add_(momentum * mean.detach())
                norm.running_var.mul_(1 - momentum).add_(momentum * var.detach() * count / (count - 1))
                norm.num_batches_tracked.add_(1)
        else:
            mean, var = norm.running_mean, norm.running_var
        scale = norm.weight * torch.rsqrt(var + norm.eps)
        return AffineTokens(features, weight * scale[:, None], (self.conv.bias - mean) * scale + norm.bias)
