"""LM-AD and its baselines in one model class, chosen by ``LMADConfig.architecture``.

    points (B, N, 3)
      -> PointNet2Backbone                        (B, C, N)
      -> Conv1d + BatchNorm to the LM width d     point tokens h (B, N, d)
      -> "aqm":             AQM(query tokens | h)                  token states g (B, K, T, d)
         "cross_attention": frozen LM(query tokens) -> one CrossAttention to h -> g (B, K, T, d)
         "cosine":          frozen LM(query tokens), mean over tokens = t (K, d)
      -> "per_query" head:  for each query k, h attends to g[k] only, then an MLP    (default)
         "pooled" head:     h attends to all K token means at once, dot product with each
         "cosine":          logit_scale * cos(h, t) + logit_bias                    (OpenAD)
      -> logits (B, K, N)

The per-query head and the cosine head score each query on its own (row k of the logits
depends on query k and the object only); the pooled head lets the queries see each other.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from lmad.models.aqm import AffordanceQueryModule, masked_token_mean
from lmad.models.attention import CrossAttention
from lmad.models.heads import CosineHead, PerQueryHead, PooledHead
from lmad.models.language_model import DEFAULT_LANGUAGE_MODEL, load_language_model
from lmad.models.point_tokens import AffineTokens, PointTokenProjection
from lmad.models.backbones import build_backbone
from lmad.ops import farthest_point_sample, gather_points, knn

LANGUAGE_MODEL_PREFIX = "query_module.language_model."  # state-dict names of the pretrained LM
TOKEN_CACHE_SIZE = 64  # tokenized query lists kept per model, oldest dropped first
# How the logits were trained, hence how they turn into scores: a softmax over the class set
# ("cross_entropy", OpenAD's protocol) or one sigmoid per query ("bce_dice").
OBJECTIVES = ("cross_entropy", "bce_dice")


@dataclass
class LMADConfig:
    """Everything that defines a model; saved as ``config.json`` beside the weights.

    Attributes:
        name: registry name of the variant (``available_models()``).
        architecture: ``"aqm"`` (LM-AD), ``"cross_attention"`` (no-AQM ablation) or ``"cosine"``
            (OpenAD-style).
        backbone: a preset (``"default"``, ``"lite"``: PointNet++) or ``{"type": NAME, ...}`` of a
            registered backbone (``lmad.models.backbones``; a dict without type: PointNet++ fields).
        language_model: local folder or cached name of a BERT model; the default is embedded.
        language_model_config: if set, a randomly initialised BERT with these ``BertConfig``
            fields replaces the pretrained weights (tests and cost studies).
        aqm_blocks: blocks that get a cross-attention (``None``: all; ``[-1]``: the last one).
        aqm_point_tokens: attend to this many farthest-point-sampled point tokens instead of all
            N (``None``: all, as the paper).
        freeze_language_model: keep the pretrained LM fixed (only new layers learn); it then
            runs without dropout and is left out of checkpoints.
        dropout: dropout in the new layers.
        head: ``"per_query"`` (each query scored on its own; the default) or ``"pooled"`` (the
            points attend to all queries' mean embeddings at once). Ignored by ``"cosine"``.
        head_width: width e of the per-query head's MLP.
        objective: what the logits are trained for: ``"bce_dice"`` (one sigmoid per query,
            multi-label) or ``"cross_entropy"`` (a softmax over the class set, OpenAD's).
    """

    name: str = "lmad"
    architecture: str = "aqm"
    backbone: str | dict = "default"
    language_model: str = DEFAULT_LANGUAGE_MODEL
    language_model_config: dict | None = None
    aqm_blocks: list[int] | None = None
    aqm_point_tokens: int | None = None
    freeze_language_model: bool = True
    dropout: float = 0.1
    head: str = "per_query"
    head_width: int = 128
    objective: str = "bce_dice"

    def __post_init__(self):
        for name, allowed in (("architecture", tuple(QUERY_ENCODERS)), ("head", tuple(HEADS)),
                              ("objective", OBJECTIVES)):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_checkpoint(cls, meta: dict, where: str | Path) -> "LMADConfig":
        """The config a checkpoint's ``config.json`` (``meta``, read from ``where``) describes;
        a ``CheckpointError`` naming the file when it is not one of this version's."""
        from lmad.checkpoints import CONFIG_FILE, CheckpointError, model_config_dict

        try:
            return cls.from_dict(model_config_dict(meta))
        except (TypeError, ValueError) as error:
            raise CheckpointError(f"{Path(where) / CONFIG_FILE}: {error}") from error

    @classmethod
    def from_dict(cls, data: dict) -> "LMADConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown model config keys {unknown}; known keys: {sorted(known)}")
        return cls(**data)


class LMAD(nn.Module):
    """Language-conditioned affordance detector: ``model(points, queries) -> logits (B, K, N)``."""

    def __init__(self, config: LMADConfig | None = None, **overrides):
        super().__init__()
        config = config or LMADConfig()
        if overrides:
            config = LMADConfig.from_dict({**config.to_dict(), **overrides})
        self.config = config
        self.backbone = build_backbone(config.backbone)
        language_model, self.tokenizer = load_language_model(config.language_model, config.language_model_config)
        lm_config = language_model.config
        width, heads, eps = lm_config.hidden_size, lm_config.num_attention_heads, lm_config.layer_norm_eps
        self.projection = PointTokenProjection(self.backbone.out_channels, width)
        encoder = QUERY_ENCODERS[config.architecture]
        aqm_blocks = config.aqm_blocks if encoder.fuses_in_language_model else []
        self.query_module = AffordanceQueryModule(language_model, aqm_blocks, config.dropout)
        encoder.build(self, width, heads, eps)
        self.head = HEADS[encoder.head or config.head](config, width, heads, eps)
        if config.freeze_language_model:
            for parameter in self.query_module.language_model.parameters():
                parameter.requires_grad_(False)
        self._token_cache: dict[tuple[str, ...], tuple[torch.Tensor, torch.Tensor]] = {}

    # ---- text --------------------------------------------------------------------------------

    def tokenize(self, queries: list[str] | list[list[str]], device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """K free-text queries -> input_ids, attention_mask (K, T); B lists of K queries (one list
        per object) -> (B, K, T). ``wrap_grasp`` reads as ``wrap grasp``."""
        if isinstance(queries, str) or not queries:
            raise ValueError("queries must be a non-empty list of strings, e.g. ['grasp', 'pour', 'none']")
        if not isinstance(queries[0], str):  # each object's own queries
            lengths = {len(q) for q in queries}
            if any(isinstance(q, str) for q in queries) or len(lengths) != 1 or 0 in lengths:
                raise ValueError("per-object queries must be B non-empty lists of the same length K")
            ids, mask = self.tokenize([text for own in queries for text in own], device)
            return ids.view(len(queries), -1, ids.shape[-1]), mask.view(len(queries), -1, ids.shape[-1])
        key = tuple(queries)
        if key not in self._token_cache:
            texts = [str(q).replace("_", " ").strip() for q in queries]
            empty = [i for i, t in enumerate(texts) if not t]
            if empty:
                raise ValueError(f"queries {empty} are empty strings; every query needs at least one word")
            tokens = self.tokenizer(texts, padding=True, truncation=True, max_length=64, return_tensors="pt")
            if len(self._token_cache) >= TOKEN_CACHE_SIZE:  # bounded: a service or paraphrase training
                self._token_cache.pop(next(iter(self._token_cache)))  # asks ever new query lists
            self._token_cache[key] = (tokens["input_ids"], tokens["attention_mask"])
        ids, mask = self._token_cache[key]
        return ids.to(device), mask.to(device)

    # ---- forward -------------------------------------------------------------------------------

    def point_tokens(self, points: torch.Tensor, generator: torch.Generator | None = None) -> AffineTokens:
        """points: (B, N, 3) -> point tokens h (B, N, d), in factored form (``.materialize()``)."""
        if points.dim() != 3 or points.shape[-1] != 3:
            raise ValueError(f"points must have shape (B, N, 3), got {tuple(points.shape)}")
        return self.projection(self.backbone(points, generator))

    def forward(self, points: torch.Tensor, queries: list[str], return_attention: bool = False,
                generator: torch.Generator | None = None):
        """Score every point against every query.

        Args:
            points: (B, N, 3) float, normalised to the unit sphere (see ``lmad.data``).
            queries: K affordance names or phrases, shared by the batch; or B lists of K, each
                object's own (training asks each object a few of the names: ``optim.queries_per_object``).
            return_attention: also return the AQM cross-attention over the points.
            generator: seeds the farthest-point-sampling start points (deterministic if None).

        Returns:
            logits: (B, K, N); ``config.objective`` says how they become scores (a sigmoid per
            query, or a softmax over the K queries). With ``return_attention`` a tuple (logits, attention) where
            attention is (B, blocks, K, N): per AQM block, each query's attention over the
            points, averaged over heads and over the query's tokens (when the AQM attends to
            fewer point tokens, each point shows its nearest token's); (B, 0, K, 0) for models
            without an AQM.
        """
        input_ids, attention_mask = self.tokenize(queries, points.device)
        if input_ids.dim() == 3 and input_ids.shape[0] != points.shape[0]:
            raise ValueError(f"{input_ids.shape[0]} lists of per-object queries for {points.shape[0]} objects")
        tokens = self.point_tokens(points, generator)
        encoded = QUERY_ENCODERS[self.config.architecture].encode(self, input_ids, attention_mask, tokens, points,
                                                                  return_attention, generator)
        states, attention, token_idx = encoded
        if self.head.takes == "token_states":
            logits = self.head(tokens, states, attention_mask)
        else:
            logits = self.head(tokens, masked_token_mean(states, attention_mask))
        if not return_attention:
            return logits
        summary = self._summarise_attention(attention, attention_mask, points.shape[0])  # (B, L, K, M)
        if token_idx is not None:  # each point shows the attention of its nearest attended token
            nearest = knn(points, gather_points(points, token_idx), 1)[1][..., 0]  # (B, N)
            index = nearest[:, None, None, :].expand(-1, summary.shape[1], summary.shape[2], -1)
            summary = summary.gather(-1, index)
        return logits, summary

    def _frozen_token_states(self, input_ids, attention_mask) -> torch.Tensor:
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.config.freeze_language_model):
            states, _ = self.query_module.token_states(input_ids, attention_mask)
        return states

    @staticmethod
    def _summarise_attention(attention, attention_mask, batch) -> torch.Tensor:
        if not attention:
            return torch.zeros(batch, 0, attention_mask.shape[-2], 0)
        per_block = [masked_token_mean(a.mean(1), attention_mask) for a in attention]  # (B, K, M)
        return torch.stack(per_block, dim=1)

    def train(self, mode: bool = True):
        super().train(mode)
        if self.config.freeze_language_model:  # a frozen LM runs deterministically
            self.query_module.language_model.eval()
        return self

    # ---- checkpoints ---------------------------------------------------------------------------

    def stores_language_model(self) -> bool:
        """Checkpoints hold the LM's weights only when it is trained or randomly initialised."""
        return not self.config.freeze_language_model or self.config.language_model_config is not None

    def stored_state_prefix_skipped(self) -> str | None:
        """The state-dict prefix a checkpoint leaves out (the frozen pretrained LM), or None."""
        return None if self.stores_language_model() else LANGUAGE_MODEL_PREFIX

    def language_model_fingerprint(self) -> str:
        """A fingerprint of the language model's weights (checked when a checkpoint leaves them out)."""
        from lmad.models.language_model import weights_fingerprint

        return weights_fingerprint(self.query_module.language_model)

    def save_pretrained(self, directory: str | Path, extra: dict | None = None) -> Path:
        """Write a checkpoint folder (``config.json`` + ``model.safetensors``); see ``lmad.checkpoints``."""
        from lmad.checkpoints import save_model

        return save_model(self, directory, extra)

    @classmethod
    def from_pretrained(cls, directory: str | Path | None = None, map_location: str | torch.device = "cpu",
                        meta: dict | None = None) -> "LMAD":
        """Build the model from a checkpoint folder (default: the shipped model) and load its weights.

        ``meta``: the folder's ``lmad.checkpoints.read_metadata``, when the caller has read it
        already (``config.json`` is then not read again). Raises ``CheckpointError`` (a
        ``ValueError``) naming what is missing, damaged or mis-shaped.
        """
        from lmad.checkpoints import default_checkpoint_dir, load_weights, read_metadata

        directory = Path(directory) if directory is not None else default_checkpoint_dir()
        meta = read_metadata(directory) if meta is None else meta
        model = cls(LMADConfig.from_checkpoint(meta, directory))
        load_weights(model, directory, meta, map_location)
        return model.to(map_location)

    def load_checked_state_dict(self, state: dict[str, torch.Tensor], partial_language_model: bool = False) -> None:
        """Load weights, failing with a list of every name or shape that does not match."""
        expected = self.state_dict()
        if partial_language_model:
            expected = {k: v for k, v in expected.items() if not k.startswith(LANGUAGE_MODEL_PREFIX)}
        missing = sorted(set(expected) - set(state))
        unexpected = sorted(set(state) - set(expected))
        mismatched = [
            f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(expected[k].shape)}"
            for k in sorted(set(state) & set(expected)) if state[k].shape != expected[k].shape
        ]
        if missing or unexpected or mismatched:
            from lmad.checkpoints import CheckpointError

            problems = [("missing", missing), ("unexpected", unexpected), ("shape mismatch", mismatched)]
            lines = [f"  {kind} ({len(items)}): " + ", ".join(items[:20]) + (" ..." if len(items) > 20 else "")
                     for kind, items in problems if items]
            raise CheckpointError("checkpoint does not match the model built from its config:\n" + "\n".join(lines))
        self.load_state_dict(state, strict=not partial_language_model)

    def num_parameters(self, trainable_only: bool = False) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)


# ---- components chosen by type -----------------------------------------------------------------------

@dataclass(frozen=True)
class QueryEncoder:
    """How the queries' token states g (B or 1, K, T, d) are made: ``LMADConfig.architecture``.

    ``build(model, width, heads, eps)`` adds the modules the encoder needs to the model (their
    names are the checkpoint's); ``encode(model, input_ids, mask, tokens, points,
    return_attention, generator) -> (states, attention per block, attended token indices or
    None)``. ``fuses_in_language_model``: the language model's blocks get the AQM's
    cross-attention; ``head``: a head this encoder always uses (else ``LMADConfig.head``).
    """

    build: Callable
    encode: Callable
    fuses_in_language_model: bool = False
    head: str | None = None


def _no_modules(model, width, heads, eps) -> None:
    pass


def _encode_aqm(model, input_ids, mask, tokens, points, return_attention, generator):
    """LM-AD: the query tokens attend to the point tokens in every AQM block."""
    count, context, token_idx = model.config.aqm_point_tokens, tokens, None
    if count is not None and count < points.shape[1]:
        token_idx = farthest_point_sample(points, count, generator)  # (B, M)
        context = tokens.gather(token_idx)
    states, attention = model.query_module.token_states(input_ids, mask, context, return_attention)
    return states, attention, token_idx


def _encode_frozen(model, input_ids, mask, tokens, points, return_attention, generator):
    """The frozen language model's token states, the same for every object (1, K, T, d)."""
    return model._frozen_token_states(input_ids, mask), [], None


def _build_fusion(model, width, heads, eps) -> None:
    model.query_fusion = CrossAttention(width, heads, model.config.dropout, eps)


def _encode_cross_attention(model, input_ids, mask, tokens, points, return_attention, generator):
    """The no-AQM ablation: frozen token states, then every text token attends to the points once."""
    states = model._frozen_token_states(input_ids, mask)
    _, num_queries, length, width = states.shape
    flat = states.reshape(-1, num_queries * length, width).expand(points.shape[0], -1, -1)
    states, _ = model.query_fusion(flat, *model.query_fusion.keys_values(tokens))
    return states.view(-1, num_queries, length, width), [], None


QUERY_ENCODERS: dict[str, QueryEncoder] = {
    "aqm": QueryEncoder(_no_modules, _encode_aqm, fuses_in_language_model=True),
    "cross_attention": QueryEncoder(_build_fusion, _encode_cross_attention),
    "cosine": QueryEncoder(_no_modules, _encode_frozen, head="cosine"),
}
# head name -> build(config, width, heads, eps): a module with ``takes`` "token_states" (called with
# point tokens, token states, mask) or "query_means" (point tokens, each query's mean state)
HEADS: dict[str, Callable] = {
    "per_query": lambda config, width, heads, eps: PerQueryHead(width, heads, config.head_width, config.dropout),
    "pooled": lambda config, width, heads, eps: PooledHead(width, heads, config.dropout, eps),
    "cosine": lambda config, width, heads, eps: CosineHead(),
}


def register_query_encoder(name: str, encoder: QueryEncoder) -> None:
    """Make ``architecture=name`` build and run ``encoder``."""
    QUERY_ENCODERS[name] = encoder


def register_head(name: str, build: Callable) -> None:
    """Make ``head=name`` build ``build(config, width, heads, eps)``."""
    HEADS[name] = build
