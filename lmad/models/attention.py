"""The cross-attention sublayer used throughout LM-AD (AQM blocks, the no-AQM baseline, the head)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from lmad.models.point_tokens import AffineTokens


class CrossAttention(nn.Module):
    """Multi-head cross-attention with a residual connection and a LayerNorm.

        post-norm (default, as BERT's own sublayers):  out = LayerNorm(x + Dropout(W_o Attn(W_q x, W_k c, W_v c)))
        pre-norm, zero-initialised output (``insert=True``): out = x + Dropout(W_o Attn(W_q LayerNorm(x), ...))

    The second form is for inserting into a pretrained network: with ``W_o = 0`` it starts as
    the identity, so the pretrained language model is unchanged at initialisation and the new
    layer learns how much geometry to add. (Post-norm there would re-normalise BERT's hidden
    states with a fresh LayerNorm and perturb them with a random projection at step 0; trained
    that way on our data at lr 1e-3 the loss rose towards that of a uniform guess.)

    Keys and values are computed by :meth:`keys_values` and passed in, so a caller whose many
    query sequences share one context (the K affordance names of one object share its points)
    projects the context once instead of once per sequence.
    """

    def __init__(self, hidden_size: int, num_heads: int, dropout: float = 0.1, layer_norm_eps: float = 1e-12,
                 insert: bool = False):
        super().__init__()
        if hidden_size % num_heads:
            raise ValueError(f"hidden_size {hidden_size} is not divisible by num_heads {num_heads}")
        self.num_heads = num_heads
        self.insert = insert
        self.query = nn.Linear(hidden_size, hidden_size)
        self.key = nn.Linear(hidden_size, hidden_size)
        self.value = nn.Linear(hidden_size, hidden_size)
        self.output = nn.Linear(hidden_size, hidden_size)
        self.dropout = nn.Dropout(dropout)
        self.norm = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        if insert:
            nn.init.zeros_(self.output.weight)
            nn.init.zeros_(self.output.bias)

    def _split_heads(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, width = x.shape
        return x.reshape(batch, length, self.num_heads, width // self.num_heads).transpose(1, 2)

    def keys_values(self, context: torch.Tensor | AffineTokens) -> tuple[torch.Tensor, torch.Tensor]:
        """context: (B, M, d) tokens (or :class:`AffineTokens`) -> keys, values: (B, heads, M, d / heads).

        Keys and values come from one matrix product; for ``AffineTokens`` it runs on the
        narrower features the tokens are an affine map of.
        """
        weight = torch.cat([self.key.weight, self.value.weight])
        bias = torch.cat([self.key.bias, self.value.bias])
        if isinstance(context, AffineTokens):
            both = context.project(weight, bias)
        else:
            both = F.linear(context, weight, bias)
        keys, values = both.chunk(2, dim=-1)
        return self._split_heads(keys), self._split_heads(values)

    def forward(
        self, x: torch.Tensor | AffineTokens, keys: torch.Tensor, values: torch.Tensor, need_weights: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x: (B, Q, d) queries (or :class:`AffineTokens`); keys, values: (B, heads, M, d / heads).

        Returns (B, Q, d) and, if ``need_weights``, the attention (B, heads, Q, M); else None.
        There is no dropout on the attention probabilities: over (K x T) x N maps it doubled
        the training step time on CPU for no measured gain (see the README).
        """
        if self.insert:
            x = x.materialize() if isinstance(x, AffineTokens) else x
            query = self._split_heads(self.query(self.norm(x)))
        elif isinstance(x, AffineTokens):  # the query projection composes with the tokens' affine map
            query = self._split_heads(x.project(self.query.weight, self.query.bias))
            x = x.materialize()
        else:
            query = self._split_heads(self.query(x))
        if need_weights:
            weights = torch.softmax(query @ keys.transpose(-1, -2) * query.shape[-1] ** -0.5, dim=-1)
            context = weights @ values
        else:
            weights = None
            context = F.scaled_dot_product_attention(query, keys, values)
        context = context.transpose(1, 2).reshape(x.shape)
        update = self.dropout(self.output(context))
        return (x + update if self.insert else self.norm(x + update)), weights
