"""Heads that turn point tokens and per-name embeddings into per-point, per-name logits."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from lmad.models.attention import CrossAttention
from lmad.models.point_tokens import AffineTokens


class AffordanceHead(nn.Module):
    """Point tokens attend to the K name embeddings, then each point scores each name.

        h' = CrossAttention(query = h, key/value = g)        (B, N, d)
        e  = MLP(h')                                         (B, N, d)
        logits[b, k, n] = <W g[b, k], e[b, n]> / sqrt(d)     (B, K, N)

    No layer's size depends on K, so any number of names works at inference (open vocabulary):
    the names are the keys of the attention and the classifier weights of the last step. The
    attention lets a point see which names are present before it scores them, which a fixed
    cosine against each name (OpenAD) cannot.
    """

    def __init__(self, hidden_size: int, num_heads: int, dropout: float = 0.1, layer_norm_eps: float = 1e-12):
        super().__init__()
        self.cross_attention = CrossAttention(hidden_size, num_heads, dropout, layer_norm_eps)
        self.mlp = nn.Sequential(
            nn.Linear(hidden_size, hidden_size), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden_size, hidden_size)
        )
        self.name_projection = nn.Linear(hidden_size, hidden_size)
        self.scale = 1.0 / math.sqrt(hidden_size)

    def forward(self, point_tokens: torch.Tensor | AffineTokens, name_embeddings: torch.Tensor) -> torch.Tensor:
        """point_tokens: (B, N, d), name_embeddings: (B, K, d) -> logits (B, K, N)."""
        keys, values = self.cross_attention.keys_values(name_embeddings)
        fused, _ = self.cross_attention(point_tokens, keys, values)
        point_embeddings = self.mlp(fused)
        return self.name_projection(name_embeddings) @ point_embeddings.transpose(1, 2) * self.scale


class CosineHead(nn.Module):
    """OpenAD-style scores: ``logit_scale * cosine(point feature, name embedding)``.

    As in OpenAD, ``logit_scale`` is learnable, starts at ln(1/0.07) and is used as is (no exp).
    """

    def __init__(self):
        super().__init__()
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    def forward(self, point_tokens: torch.Tensor | AffineTokens, name_embeddings: torch.Tensor) -> torch.Tensor:
        """point_tokens: (B, N, d), name_embeddings: (B or 1, K, d) -> logits (B, K, N)."""
        if isinstance(point_tokens, AffineTokens):
            point_tokens = point_tokens.materialize()
        points = F.normalize(point_tokens, dim=-1)
        names = F.normalize(name_embeddings, dim=-1)
        return self.logit_scale * (names @ points.transpose(1, 2))
