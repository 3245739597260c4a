"""Heads that turn point tokens and per-name embeddings into per-point, per-name logits."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from lmad.models.attention import CrossAttention
from lmad.models.point_tokens import AffineTokens


class PooledHead(nn.Module):
    """Point tokens attend to all K pooled name embeddings at once, then each point scores each name.

        h' = CrossAttention(query = h, key/value = g)        (B, N, d)
        e  = MLP(h')                                         (B, N, d)
        logits[b, k, n] = <W g[b, k], e[b, n]> / sqrt(d)     (B, K, N)

    No layer's size depends on K, so any number of names works at inference (open vocabulary):
    the names are the keys of the attention and the classifier weights of the last step. The
    attention lets a point see which names are present before it scores them, which a fixed
    cosine against each name (OpenAD) cannot.
    """

    takes = "query_means"  # the mean of each query's token states (K, d) or (B, K, d)

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


class PerQueryHead(nn.Module):
    """Each query scores the points on its own: the paper's head, one text query at a time.

    For query k with real token states ``s_k`` (T_k x d, the AQM's output for that query only):

        c[k, n]     = Attn(query = W_q h_n, key/value = W_k s_k, W_v s_k)   cross-attention
        u[k, n]     = h_n + W_o c[k, n]                                       residual
        logit[k, n] = w_2 . GELU(W_1 u[k, n] + b_1) + b_2                     MLP, width e

    Row k of the logits depends on query k and the object only: other queries, their order
    and padding never enter it, so a query's scores are the same whatever else is asked.

    Cost: u is never formed. ``W_1 u = W_1 h_n + sum_t a[k, n, t] (W_1 W_o v[k, t])`` per
    head, so per (query, point) the head costs O(heads x T x e) for the attention mix instead of
    O(d x d) for a d-wide residual stream; ``W_1 h_n`` and the per-token ``W_1 W_o v`` are
    computed once. (No LayerNorm between the residual and the MLP: it would break this
    factorisation; the point tokens come out of BatchNorm and the text states out of BERT's
    LayerNorm, so both are already normalised.)
    """

    takes = "token_states"  # each query's token states and their mask

    def __init__(self, hidden_size: int, num_heads: int, mlp_width: int, dropout: float = 0.1):
        super().__init__()
        if hidden_size % num_heads:
            raise ValueError(f"hidden_size {hidden_size} is not divisible by num_heads {num_heads}")
        self.num_heads = num_heads
        self.query = nn.Linear(hidden_size, hidden_size)
        self.key = nn.Linear(hidden_size, hidden_size)
        self.value = nn.Linear(hidden_size, hidden_size)
        self.output = nn.Linear(hidden_size, hidden_size)
        self.mlp_in = nn.Linear(hidden_size, mlp_width)
        self.mlp_out = nn.Linear(mlp_width, 1)
        self.dropout = nn.Dropout(dropout)

    def forward(self, point_tokens: torch.Tensor | AffineTokens, token_states: torch.Tensor,
                attention_mask: torch.Tensor) -> torch.Tensor:
        """point_tokens: (B, N, d); token_states: (B or 1, K, T, d); attention_mask: (K, T), or (B, K, T)
        for each object's own queries -> logits (B, K, N)."""
        batch, num_points = point_tokens.shape[:2]
        _, num_queries, length, width = token_states.shape
        heads, head_width = self.num_heads, width // self.num_heads
        mlp = self.mlp_in
        # per point: the attention query and W_1 h_n (composed with the tokens' affine map when factored)
        if isinstance(point_tokens, AffineTokens):
            query = point_tokens.project(self.query.weight, self.query.bias)
            point_term = point_tokens.project(mlp.weight, mlp.bias)
        else:
            query, point_term = self.query(point_tokens), mlp(point_tokens)
        query = query.view(batch, num_points, heads, head_width).transpose(1, 2)  # (B, H, N, dh)
        # per text token: keys and the MLP's view of W_o v, per head
        keys = self.key(token_states).view(-1, num_queries * length, heads, head_width).transpose(1, 2)
        values = self.value(token_states).view(-1, num_queries, length, heads, head_width)
        mixed = (mlp.weight @ self.output.weight).view(-1, heads, head_width)  # (e, H, dh): W_1 W_o per head
        token_term = torch.einsum("bkthc,ehc->bkeht", values, mixed)  # (B', K, e, H, T)
        token_term = token_term.expand(batch, -1, -1, -1, -1).reshape(batch * num_queries, -1, heads * length)
        # each point against each query's tokens, softmax within a query, padding masked; points
        # stay the last (contiguous) axis, which keeps the softmax over a few tokens vectorised
        scores = (keys @ query.transpose(-1, -2)) * head_width ** -0.5  # (B, H, K*T, N)
        scores = scores.view(batch, heads, num_queries, length, num_points)
        padding = ~attention_mask.bool()[..., None]  # (K, T, 1) or (B, K, T, 1)
        if padding.dim() == 4:
            padding = padding.unsqueeze(1)  # (B, 1, K, T, 1): the same for every attention head
        scores = scores.masked_fill(padding, float("-inf"))
        weights = torch.softmax(scores, dim=3).transpose(1, 2)  # (B, K, H, T, N)
        weights = weights.reshape(batch * num_queries, heads * length, num_points)
        hidden = torch.bmm(token_term, weights).view(batch, num_queries, -1, num_points)  # (B, K, e, N)
        point_term = (point_term + mlp.weight @ self.output.bias).transpose(1, 2)  # (B, e, N), with W_1 b_o
        hidden = F.gelu(hidden + point_term.unsqueeze(1))
        if self.training and self.dropout.p > 0:
            hidden = self.dropout(hidden)
        # a matrix product (not a broadcast multiply) keeps the gradient of `hidden` contiguous
        return (self.mlp_out.weight @ hidden).squeeze(2) + self.mlp_out.bias  # (1, e) @ (B, K, e, N)


class CosineHead(nn.Module):
    """OpenAD-style scores: ``logit_scale * cosine(point feature, name embedding) + logit_bias``.

    As in OpenAD, ``logit_scale`` is learnable, starts at ln(1/0.07) and is used as is (no exp).
    ``logit_bias`` (ours, starts at 0) is the same for every query, so it changes nothing under a
    softmax over queries (OpenAD's objective); under per-query sigmoids it sets where a cosine
    turns into "yes". Each query is scored on its own (per-query form).
    """

    takes = "query_means"

    def __init__(self):
        super().__init__()
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))
        self.logit_bias = nn.Parameter(torch.zeros(()))

    def forward(self, point_tokens: torch.Tensor | AffineTokens, name_embeddings: torch.Tensor) -> torch.Tensor:
        """point_tokens: (B, N, d), name_embeddings: (B or 1, K, d) -> logits (B, K, N)."""
        if isinstance(point_tokens, AffineTokens):
            point_tokens = point_tokens.materialize()
        points = F.normalize(point_tokens, dim=-1)
        names = F.normalize(name_embeddings, dim=-1)
        return self.logit_scale * (names @ points.transpose(1, 2)) + self.logit_bias
