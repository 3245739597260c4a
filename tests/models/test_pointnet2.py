import pytest
import torch

from lmad.models import PointNet2Backbone, PointNet2Config
import lmad.models.pointnet2 as pointnet2
from lmad.models.pointnet2 import SetAbstractionMSG

TINY = PointNet2Config.from_dict({
    "set_abstractions": [
        {"num_centers": 32, "radii": [0.2, 0.5], "num_neighbors": [4, 8], "mlps": [[8, 8], [8, 16]]},
        {"num_centers": 8, "radii": [0.6], "num_neighbors": [4], "mlps": [[16, 16]]},
        {"num_centers": None, "mlps": [[16, 32]]},
    ],
    "fp_mlps": [[16], [16], [12]],
})


def count(model):
    return sum(p.numel() for p in model.parameters())


def test_default_parameter_count_equals_reference_pointnet2():
    # The reference PointNet++ of OpenAD: 1,715,692 parameters before its 128->512 head.
    assert count(PointNet2Backbone()) == 1_715_692
    assert count(PointNet2Backbone("default")) == 1_715_692


def test_default_forward_shape():
    model = PointNet2Backbone().eval()
    with torch.no_grad():
        out = model(torch.rand(1, 2048, 3) * 2 - 1)
    assert out.shape == (1, 128, 2048)
    assert torch.isfinite(out).all()


def test_lite_is_smaller_and_config_round_trips():
    lite = PointNet2Backbone("lite")
    assert count(lite) < count(PointNet2Backbone()) / 3
    assert PointNet2Config.from_dict(lite.config.to_dict()) == lite.config
    with pytest.raises(ValueError, match="unknown backbone config"):
        PointNet2Config.named("huge")


def test_tiny_forward_backward_reaches_every_parameter():
    model = PointNet2Backbone(TINY)
    out = model(torch.rand(3, 100, 3))
    assert out.shape == (3, 12, 100)
    out.square().mean().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not missing


def test_first_layer_before_grouping_is_exact():
    config = TINY.set_abstractions[0]
    block = SetAbstractionMSG(config, in_channels=20).eval()  # 23 -> 8: decomposed path
    assert block.first_layer_before_grouping == [True, True]
    xyz, features = torch.rand(2, 60, 3), torch.randn(2, 60, 20)
    with torch.no_grad():
        fast = block(xyz, features)[1]
        block.first_layer_before_grouping = [False, False]
        plain = block(xyz, features)[1]
    assert torch.allclose(fast, plain, atol=1e-5)


def test_output_follows_point_count_and_is_deterministic():
    model = PointNet2Backbone(TINY).eval()
    xyz = torch.rand(2, 70, 3)
    with torch.no_grad():
        assert torch.equal(model(xyz), model(xyz))
        assert model(torch.rand(1, 40, 3)).shape == (1, 12, 40)
    with pytest.raises(ValueError, match=r"\(B, N, 3\)"):
        model(torch.rand(70, 3))


def test_chunked_inference_equals_the_autograd_path(monkeypatch):
    monkeypatch.setattr(pointnet2, "_INFERENCE_CHUNK_ROWS", 40)  # several chunks even at this size
    model = PointNet2Backbone(TINY).eval()
    xyz = torch.rand(2, 300, 3)
    with torch.no_grad():
        chunked = model(xyz)  # inference path: centres in chunks, BatchNorm folded
    with_grad = model(xyz)
    assert torch.allclose(chunked, with_grad, atol=1e-5)
