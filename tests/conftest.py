"""Shared fixtures: tiny random configs (no real weights) and the shared data folder."""

from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared"

TINY_BACKBONE = {
    "set_abstractions": [
        {"num_centers": 32, "radii": [0.2, 0.5], "num_neighbors": [4, 8], "mlps": [[8, 8], [8, 16]]},
        {"num_centers": 8, "radii": [0.6], "num_neighbors": [4], "mlps": [[16, 16]]},
        {"num_centers": None, "mlps": [[16, 32]]},
    ],
    "fp_mlps": [[16], [16], [16]],
}

TINY_LANGUAGE_MODEL = {
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 64,
    "max_position_embeddings": 64,
}


@pytest.fixture
def tiny_model_overrides():
    """``build_model(name, **tiny_model_overrides)`` gives a model that runs in milliseconds."""
    return {"backbone": TINY_BACKBONE, "language_model_config": dict(TINY_LANGUAGE_MODEL)}


@pytest.fixture
def tiny_model(tiny_model_overrides):
    """A tiny random per-query LM-AD in eval mode, its BatchNorm statistics moved off the defaults."""
    import torch

    from lmad import build_model

    torch.manual_seed(0)
    model = build_model("lmad", **tiny_model_overrides)
    model.train()
    with torch.no_grad():
        model(torch.rand(4, 64, 3) * 2 - 1, ["grasp"])
    return model.eval()


@pytest.fixture
def shared_dir():
    if not SHARED.is_dir():
        pytest.skip("../shared is not present beside the checkout")
    return SHARED
