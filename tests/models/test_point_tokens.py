import torch
from torch import nn

from lmad.models.attention import CrossAttention
from lmad.models.point_tokens import PointTokenProjection


def reference_projection(projection: PointTokenProjection) -> nn.Sequential:
    """The plain Conv1d + BatchNorm1d with the same parameters and running statistics."""
    conv, norm = nn.Conv1d(8, 24, 1), nn.BatchNorm1d(24)
    conv.load_state_dict(projection.conv.state_dict())
    norm.load_state_dict(projection.norm.state_dict())
    return nn.Sequential(conv, norm)


def test_factored_projection_equals_conv_batchnorm_in_train_and_eval():
    torch.manual_seed(0)
    projection = PointTokenProjection(8, 24)
    with torch.no_grad():
        projection.norm.weight.uniform_(0.5, 2)
        projection.norm.bias.uniform_(-1, 1)
    reference = reference_projection(projection)
    for _ in range(3):  # training: batch statistics, running statistics updated alike
        features = torch.randn(2, 8, 50) * 3 + 1
        tokens = projection.train()(features)
        expected = reference.train()(features).transpose(1, 2)
        assert torch.allclose(tokens.materialize(), expected, atol=1e-4)
    assert torch.allclose(projection.norm.running_mean, reference[1].running_mean, atol=1e-5)
    assert torch.allclose(projection.norm.running_var, reference[1].running_var, atol=1e-4)
    features = torch.randn(3, 8, 40)
    expected = reference.eval()(features).transpose(1, 2)
    assert torch.allclose(projection.eval()(features).materialize(), expected, atol=1e-5)


def test_keys_values_and_queries_from_factored_tokens_match_materialised():
    torch.manual_seed(1)
    projection = PointTokenProjection(8, 24).train()
    tokens = projection(torch.randn(2, 8, 30))
    attention = CrossAttention(24, 4, dropout=0.0)
    for a, b in zip(attention.keys_values(tokens), attention.keys_values(tokens.materialize())):
        assert torch.allclose(a, b, atol=1e-5)
    keys, values = attention.keys_values(torch.randn(2, 5, 24))
    out_factored, _ = attention(tokens, keys, values)
    out_plain, _ = attention(tokens.materialize(), keys, values)
    assert torch.allclose(out_factored, out_plain, atol=1e-5)
    # gradients reach the projection through the factored path
    out_factored.sum().backward()
    assert projection.conv.weight.grad is not None and projection.norm.weight.grad is not None
