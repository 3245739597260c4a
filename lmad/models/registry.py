"""Build any model variant by name: ``build_model("lmad")``, ``available_models()``."""

from __future__ import annotations

from lmad.models.lmad import LMAD, LMADConfig

# name -> (description, config fields)
_MODELS: dict[str, tuple[str, dict]] = {
    "lmad": ("LM-AD: AQM cross-attention in every language-model block", {"architecture": "aqm"}),
    "lmad_aqm1": ("LM-AD ablation: AQM in the last block only", {"architecture": "aqm", "aqm_blocks": [-1]}),
    "lmad_aqm3": ("LM-AD ablation: AQM in the last three blocks", {"architecture": "aqm", "aqm_blocks": [-3, -2, -1]}),
    "no_aqm": ("ablation: frozen text embeddings + one plain cross-attention", {"architecture": "cross_attention"}),
    "openad": ("OpenAD-style: logit_scale * cosine(point feature, frozen text embedding)", {"architecture": "cosine"}),
}


def available_models() -> list[str]:
    """Names accepted by :func:`build_model`."""
    return list(_MODELS)


def describe_models() -> dict[str, str]:
    return {name: description for name, (description, _) in _MODELS.items()}


def model_config(name: str, **overrides) -> LMADConfig:
    if name not in _MODELS:
        raise ValueError(f"unknown model {name!r}; available: {', '.join(_MODELS)}")
    return LMADConfig.from_dict({"name": name, **_MODELS[name][1], **overrides})


def build_model(name: str = "lmad", **overrides) -> LMAD:
    """Build a model variant by name; ``overrides`` set any ``LMADConfig`` field.

    Example: ``build_model("lmad_aqm3", backbone="lite", aqm_point_tokens=512)``.
    """
    return LMAD(model_config(name, **overrides))
