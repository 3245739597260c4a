import pytest
import torch

from lmad import build_model


@pytest.fixture
def checkpoint(tmp_path, tiny_model_overrides):
    """A tiny random per-query model with non-trivial BatchNorm statistics, saved for 64 points per cloud."""
    torch.manual_seed(0)
    model = build_model("lmad", **tiny_model_overrides)
    model.train()
    with torch.no_grad():
        model(torch.rand(4, 64, 3) * 2 - 1, ["grasp"])
    return model.save_pretrained(tmp_path / "checkpoint", {"num_points": 64})
