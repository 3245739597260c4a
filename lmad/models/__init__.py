"""Models: the PointNet++ backbone, the language-model Affordance Query Module, heads, baselines."""

from lmad.models.aqm import AffordanceQueryModule
from lmad.models.backbones import BACKBONES, Backbone, build_backbone, register_backbone
from lmad.models.heads import CosineHead, PerQueryHead, PooledHead
from lmad.models.language_model import LanguageModelNotFoundError, load_language_model
from lmad.models.lmad import (HEADS, LMAD, QUERY_ENCODERS, LMADConfig, QueryEncoder, register_head,
                              register_query_encoder)
from lmad.models.pointnet2 import PointNet2Backbone, PointNet2Config, SetAbstractionConfig
from lmad.models.registry import available_models, build_model, describe_models

__all__ = [
    "BACKBONES",
    "HEADS",
    "QUERY_ENCODERS",
    "QueryEncoder",
    "AffordanceQueryModule",
    "Backbone",
    "CosineHead",
    "LMAD",
    "LMADConfig",
    "LanguageModelNotFoundError",
    "PerQueryHead",
    "PointNet2Backbone",
    "PointNet2Config",
    "PooledHead",
    "SetAbstractionConfig",
    "available_models",
    "build_backbone",
    "build_model",
    "describe_models",
    "load_language_model",
    "register_backbone",
    "register_head",
    "register_query_encoder",
]
