"""The Affordance Query Module (AQM): a pretrained BERT whose blocks gain a cross-attention sublayer.

Each affordance name is its own token sequence ``[CLS] name [SEP]``. In every chosen block the
sublayers run as

    self-attention (pretrained, bidirectional)  ->  cross-attention to the object's point tokens (new)
    ->  feed-forward (pretrained)

so text and geometry are fused again at every depth. The K sequences of one object all attend
to the same N point tokens; their (K x T) token states are laid side by side as one query set of
that object, so the points' keys and values are projected once per object (not once per name)
and one attention call serves all names. Cross-attention queries never interact, so this is
exactly the per-sequence computation.

Blocks before the first cross-attention see text only, so they run once for the K names and
are shared by every object of the batch.

We drive the BERT layers' own submodules (query/key/value, output, intermediate) with our
forward instead of calling ``BertLayer``: transformers' built-in cross-attention needs
``is_decoder=True``, which turns BERT's self-attention causal.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from lmad.models.attention import CrossAttention
from lmad.models.point_tokens import AffineTokens


def normalise_block_indices(blocks: list[int] | None, num_layers: int) -> list[int]:
    """``None`` -> every block; negative indices count from the last block."""
    if blocks is None:
        return list(range(num_layers))
    resolved = sorted({b + num_layers if b < 0 else b for b in blocks})
    if any(not 0 <= b < num_layers for b in resolved):
        raise ValueError(f"AQM blocks {blocks} out of range for a language model with {num_layers} blocks")
    return resolved


class AffordanceQueryModule(nn.Module):
    """A BERT encoder with a :class:`CrossAttention` sublayer in the chosen blocks.

    With no blocks chosen it is the plain language model (the baselines' frozen text encoder).

    Args:
        language_model: a ``transformers.BertModel`` (pretrained weights, no pooler).
        blocks: block indices that get a cross-attention sublayer (``None``: all;
            negative indices count from the end, e.g. ``[-1]`` is the last block).
        dropout: dropout after each new cross-attention's output projection.
    """

    def __init__(self, language_model: nn.Module, blocks: list[int] | None = None, dropout: float = 0.1):
        super().__init__()
        config = language_model.config
        if getattr(config, "position_embedding_type", "absolute") != "absolute":
            raise ValueError("the AQM supports BERT models with absolute position embeddings only")
        self.language_model = language_model
        self.hidden_size = config.hidden_size
        self.num_layers = config.num_hidden_layers
        self.blocks = normalise_block_indices(blocks, self.num_layers)
        self.cross_attentions = nn.ModuleDict(
            {str(b): CrossAttention(config.hidden_size, config.num_attention_heads, dropout, config.layer_norm_eps,
                                    insert=True)
             for b in self.blocks}
        )

    def token_states(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        point_tokens: torch.Tensor | AffineTokens | None = None,
        need_weights: bool = False,
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Run the module on K token sequences, conditioned on each object's point tokens.

        Args:
            input_ids: (K, T) long token ids of the K affordance names, shared by the objects;
                or (B, K, T): each object's own K names (training asks each object its own).
            attention_mask: (K, T) or (B, K, T), 1 for real tokens, 0 for padding.
            point_tokens: (B, M, d) float, the points each object's names attend to; required
                when the module has cross-attention blocks.
            need_weights: also return each block's cross-attention.

        Returns:
            states: (B, K, T, d) final token states (B = 1 without point tokens).
            attention: per cross-attention block, (B, heads, K, T, M) if ``need_weights``, else [].
        """
        per_object = input_ids.dim() == 3
        batch = input_ids.shape[0] if per_object else 1
        num_names, length = input_ids.shape[-2:]
        input_ids, attention_mask = input_ids.reshape(-1, length), attention_mask.reshape(-1, length)
        bert = self.language_model
        hidden = bert.embeddings(input_ids=input_ids, token_type_ids=torch.zeros_like(input_ids))
        key_mask = attention_mask.bool()[:, None, None, :]  # (batch * K, 1, 1, T): True = attend
        # Cross-attention and feed-forward act on each token alone, so they run on the real
        # tokens only, packed (K x T -> R; with each object's own names, the positions real in
        # any object); padding matters only to self-attention's keys.
        real = attention_mask.view(batch, -1).any(0).nonzero().squeeze(1)  # (R,)
        attention = []
        for index, layer in enumerate(bert.encoder.layer):
            hidden = _bert_self_attention(layer, hidden, key_mask)  # (batch * K, T, d)
            cross = self.cross_attentions[str(index)] if str(index) in self.cross_attentions else None
            if cross is not None and batch == 1 and point_tokens is not None and point_tokens.shape[0] > 1:
                batch = point_tokens.shape[0]  # from here on the objects' token states differ
                hidden = hidden.unsqueeze(0).expand(batch, -1, -1, -1).reshape(batch * num_names, length, -1)
                key_mask = key_mask.repeat(batch, 1, 1, 1)
            padded = hidden.view(batch, num_names * length, -1)
            tokens = padded.index_select(1, real)  # (batch, R, d)
            if cross is not None:
                if point_tokens is None:
                    raise ValueError("this AQM has cross-attention blocks: pass point_tokens (B, M, d)")
                tokens, weights = cross(tokens, *cross.keys_values(point_tokens), need_weights=need_weights)
                if need_weights:  # back to (B, heads, K, T, M), zero at padding
                    full = weights.new_zeros(batch, weights.shape[1], num_names * length, weights.shape[-1])
                    full[:, :, real] = weights
                    attention.append(full.view(batch, weights.shape[1], num_names, length, -1))
            tokens = layer.output(layer.intermediate(tokens), tokens)
            hidden = padded.index_copy(1, real, tokens).view(batch * num_names, length, -1)
        return hidden.view(batch, num_names, length, -1), attention

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        point_tokens: torch.Tensor | AffineTokens | None = None,
        need_weights: bool = False,
    ) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Per-name embeddings g: (B, K, d), the mean of each name's token states.

        Mean pooling over the real tokens (``[CLS]``, the words, ``[SEP]``) is how
        all-MiniLM-L6-v2 was trained to summarise a sentence, so the pooled vector starts out
        as a good name embedding; ``[CLS]`` alone was never trained as a summary there.
        """
        states, attention = self.token_states(input_ids, attention_mask, point_tokens, need_weights)
        return masked_token_mean(states, attention_mask), attention


def masked_token_mean(values: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Mean over each sequence's real tokens: values (B, K, T, X), mask (K, T) or (B, K, T) -> (B, K, X)."""
    weight = attention_mask.to(values.dtype).expand(values.shape[:3])[..., None]  # (B, K, T, 1)
    return (values * weight).sum(2) / weight.sum(2).clamp_min(1.0)


def _bert_self_attention(layer: nn.Module, hidden: torch.Tensor, key_mask: torch.Tensor) -> torch.Tensor:
    """BERT's bidirectional self-attention sublayer with its pretrained weights. hidden: (X, T, d)."""
    attn = layer.attention.self
    batch, length, width = hidden.shape
    heads = attn.num_attention_heads

    def split(x):
        return x.view(batch, length, heads, width // heads).transpose(1, 2)

    context = F.scaled_dot_product_attention(
        split(attn.query(hidden)),
        split(attn.key(hidden)),
        split(attn.value(hidden)),
        attn_mask=key_mask,
        dropout_p=attn.dropout.p if attn.training else 0.0,
    )
    return layer.attention.output(context.transpose(1, 2).reshape(batch, length, width), hidden)
