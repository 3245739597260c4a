"""A BERT encoder of our own, read straight from ``config.json`` + ``model.safetensors`` + ``tokenizer.json``.

Why: importing transformers costs about 3 s and 1,100 modules, more than a whole prediction on
a small cloud; the AQM needs only BERT's parts (embeddings, and per block the self-attention,
feed-forward and their LayerNorms). These classes carry exactly the submodule and parameter
names of ``transformers.BertModel`` (without pooler), so the AQM drives either one, state dicts
and weight fingerprints agree, and ``tests/models/test_bert.py`` checks the outputs against
transformers. The tokenizer is the ``tokenizers`` library's reading of ``tokenizer.json``.

Models without these three files (or not BERT) still load through transformers
(``lmad.models.language_model``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

ACTIVATIONS = {
    "gelu": F.gelu,
    "gelu_new": lambda x: F.gelu(x, approximate="tanh"),
    "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "relu": F.relu,
}
REQUIRED_FILES = ("config.json", "model.safetensors", "tokenizer.json")


@dataclass
class BertConfig:
    """The ``config.json`` fields a BERT encoder needs (others are ignored)."""

    vocab_size: int = 30522
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    hidden_act: str = "gelu"
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    initializer_range: float = 0.02
    layer_norm_eps: float = 1e-12
    pad_token_id: int = 0
    position_embedding_type: str = "absolute"
    model_type: str = "bert"

    def __post_init__(self):
        if self.hidden_act not in ACTIVATIONS:
            raise ValueError(f"hidden_act {self.hidden_act!r} is not supported; known: {sorted(ACTIVATIONS)}")

    @classmethod
    def from_dict(cls, data: dict) -> "BertConfig":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


class BertEmbeddings(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size, padding_idx=config.pad_token_id)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        """input_ids: (K, T) -> (K, T, d)."""
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        x = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
        x = x + self.position_embeddings(positions)[None]
        return self.dropout(self.LayerNorm(x))


class BertSelfAttention(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.num_attention_heads = config.num_attention_heads
        self.query = nn.Linear(config.hidden_size, config.hidden_size)
        self.key = nn.Linear(config.hidden_size, config.hidden_size)
        self.value = nn.Linear(config.hidden_size, config.hidden_size)
        self.dropout = nn.Dropout(config.attention_probs_dropout_prob)


class BertResidualOutput(nn.Module):
    """dense -> dropout -> LayerNorm(x + residual): BERT's ``BertSelfOutput`` and ``BertOutput``."""

    def __init__(self, in_features: int, config: BertConfig):
        super().__init__()
        self.dense = nn.Linear(in_features, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, hidden: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dropout(self.dense(hidden)) + residual)


class BertAttention(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.self = BertSelfAttention(config)
        self.output = BertResidualOutput(config.hidden_size, config)


class BertIntermediate(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.intermediate_size)
        self.activation = ACTIVATIONS[config.hidden_act]

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.activation(self.dense(hidden))


class BertLayer(nn.Module):
    """One block's sublayers; the AQM runs them in its own order (see ``lmad.models.aqm``)."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.attention = BertAttention(config)
        self.intermediate = BertIntermediate(config)
        self.output = BertResidualOutput(config.intermediate_size, config)


class BertEncoder(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.layer = nn.ModuleList(BertLayer(config) for _ in range(config.num_hidden_layers))


class BertEncoderModel(nn.Module):
    """BERT without pooler: ``embeddings`` and ``encoder.layer``, as ``transformers.BertModel``."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.config = config
        self.embeddings = BertEmbeddings(config)
        self.encoder = BertEncoder(config)
        self.apply(self._init_weights)

    def _init_weights(self, module: nn.Module) -> None:
        """BERT's initialisation (used for randomly initialised models only)."""
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=self.config.initializer_range)
            if isinstance(module, nn.Linear) and module.bias is not None:
                nn.init.zeros_(module.bias)
            if isinstance(module, nn.Embedding) and module.padding_idx is not None:
                with torch.no_grad():
                    module.weight[module.padding_idx].zero_()
        elif isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)

    @classmethod
    def from_folder(cls, folder: str | Path) -> "BertEncoderModel":
        """Read ``config.json`` and ``model.safetensors`` (a ``bert.`` prefix and heads are ignored)."""
        from safetensors.torch import load_file

        folder = Path(folder)
        config = BertConfig.from_dict(json.loads((folder / "config.json").read_text()))
        model = cls(config)
        state = {}
        for name, tensor in load_file(str(folder / "model.safetensors")).items():
            name = name.removeprefix("bert.")
            if name.startswith(("embeddings.", "encoder.")) and not name.endswith("position_ids"):
                state[name] = tensor
        missing, unexpected = model.load_state_dict(state, strict=False)
        if missing or unexpected:
            raise ValueError(f"{folder / 'model.safetensors'} is not a BERT encoder's weights: "
                             f"missing {missing[:5]}, unexpected {unexpected[:5]}")
        return model


class BertTokenizer:
    """``tokenizer.json`` through the ``tokenizers`` library, called like a transformers tokenizer.

    ``tokenizer(texts, padding=True, truncation=True, max_length=64, return_tensors="pt")`` ->
    ``{"input_ids": (K, T) long, "attention_mask": (K, T) long}``, padded to the longest text.
    """

    def __init__(self, folder: str | Path):
        from tokenizers import Tokenizer

        folder = Path(folder)
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        config = {}
        if (folder / "tokenizer_config.json").is_file():
            config = json.loads((folder / "tokenizer_config.json").read_text())
        pad_token = config.get("pad_token", "[PAD]")
        pad_token = pad_token.get("content", "[PAD]") if isinstance(pad_token, dict) else pad_token
        self.pad_token_id = self.tokenizer.token_to_id(pad_token)
        if self.pad_token_id is None:
            raise ValueError(f"{folder / 'tokenizer.json'} has no padding token {pad_token!r}")
        self.pad_token = pad_token
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()

    def __len__(self) -> int:
        return self.tokenizer.get_vocab_size(with_added_tokens=True)

    def __call__(self, texts: list[str], padding: bool = True, truncation: bool = True, max_length: int = 512,
                 return_tensors: str = "pt") -> dict:
        if truncation:  # special tokens are kept, as transformers does
            self.tokenizer.enable_truncation(max_length)
        else:
            self.tokenizer.no_truncation()
        ids = [e.ids for e in self.tokenizer.encode_batch(list(texts))]
        if not padding and len({len(row) for row in ids}) > 1:
            raise ValueError("texts of different lengths need padding=True")
        length = max(len(row) for row in ids)
        input_ids = torch.full((len(ids), length), self.pad_token_id, dtype=torch.long)
        attention_mask = torch.zeros((len(ids), length), dtype=torch.long)
        for i, row in enumerate(ids):
            input_ids[i, :len(row)] = torch.tensor(row, dtype=torch.long)
            attention_mask[i, :len(row)] = 1
        return {"input_ids": input_ids, "attention_mask": attention_mask}


def can_load(folder: str | Path) -> bool:
    """Whether ``folder`` holds a BERT encoder these classes read (config, safetensors, tokenizer.json)."""
    folder = Path(folder)
    if not all((folder / name).is_file() for name in REQUIRED_FILES):
        return False
    try:
        config = json.loads((folder / "config.json").read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        return False
    return config.get("model_type") == "bert" and config.get("position_embedding_type", "absolute") == "absolute"


__all__ = ["BertConfig", "BertEncoderModel", "BertTokenizer", "can_load"]
