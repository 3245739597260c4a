import json

import pytest
import torch

from lmad import LMAD, available_models, build_model
from lmad.models import AffordanceQueryModule, LanguageModelNotFoundError, load_language_model

QUERIES = ["grasp", "contain", "wrap_grasp", "where to sit", "none"]


@pytest.fixture(autouse=True)
def seed():
    torch.manual_seed(0)


def test_available_models_lists_the_variants():
    assert set(available_models()) >= {"lmad", "lmad_aqm1", "lmad_aqm3", "no_aqm", "openad"}
    with pytest.raises(ValueError, match="unknown model"):
        build_model("pointbert")


@pytest.mark.parametrize("name", ["lmad", "lmad_aqm1", "no_aqm", "openad"])
@pytest.mark.parametrize("k,n", [(1, 50), (5, 64), (19, 40)])
def test_output_shapes(tiny_model_overrides, name, k, n):
    model = build_model(name, **tiny_model_overrides).eval()
    queries = (QUERIES * 4)[:k]
    with torch.no_grad():
        logits = model(torch.rand(2, n, 3), queries)
    assert logits.shape == (2, k, n)
    assert torch.isfinite(logits).all()


def test_aqm_blocks_per_variant(tiny_model_overrides):
    overrides = {**tiny_model_overrides, "language_model_config": {**tiny_model_overrides["language_model_config"], "num_hidden_layers": 4}}
    assert build_model("lmad", **overrides).query_module.blocks == [0, 1, 2, 3]
    assert build_model("lmad_aqm1", **overrides).query_module.blocks == [3]
    assert build_model("lmad_aqm3", **overrides).query_module.blocks == [1, 2, 3]
    assert build_model("no_aqm", **overrides).query_module.blocks == []


@pytest.mark.parametrize("name", ["lmad", "no_aqm", "openad"])
def test_permuting_queries_permutes_logits(tiny_model_overrides, name):
    model = build_model(name, **tiny_model_overrides).eval()
    points = torch.rand(2, 48, 3)
    order = [3, 0, 4, 1, 2]
    with torch.no_grad():
        logits = model(points, QUERIES)
        permuted = model(points, [QUERIES[i] for i in order])
    assert torch.allclose(permuted, logits[:, order], atol=1e-5)


def test_text_self_attention_is_bidirectional(tiny_model_overrides):
    model = build_model("lmad", **tiny_model_overrides).eval()
    aqm: AffordanceQueryModule = model.query_module
    ids, mask = model.tokenize(["grasp the handle", "grasp the blade"], torch.device("cpu"))
    assert torch.equal(ids[0, :3], ids[1, :3]) and not torch.equal(ids[0, 3:], ids[1, 3:])
    points = torch.randn(1, 10, 32)
    with torch.no_grad():
        states, _ = aqm.token_states(ids, mask, points)
    # token 1 ("grasp") precedes the changed word: only a bidirectional encoder sees the change
    assert not torch.allclose(states[0, 0, 1], states[0, 1, 1], atol=1e-4)


def test_aqm_starts_as_the_language_model_then_depends_on_the_points(tiny_model_overrides):
    model = build_model("lmad", **tiny_model_overrides).eval()
    ids, mask = model.tokenize(QUERIES, torch.device("cpu"))
    plain = AffordanceQueryModule(model.query_module.language_model, blocks=[]).eval()
    with torch.no_grad():
        a, _ = model.query_module(ids, mask, torch.randn(1, 10, 32))
        reference, _ = plain(ids, mask)
        assert torch.allclose(a, reference, atol=1e-6)  # zero-initialised insertions: the pretrained LM
        for cross in model.query_module.cross_attentions.values():  # as after some training
            torch.nn.init.normal_(cross.output.weight, std=0.2)
        a, _ = model.query_module(ids, mask, torch.randn(1, 10, 32))
        b, _ = model.query_module(ids, mask, torch.randn(1, 10, 32))
    assert a.shape == (1, 5, 32) and not torch.allclose(a, b)


def test_gradients_reach_new_layers_and_backbone_but_not_frozen_lm(tiny_model_overrides):
    model = build_model("lmad", **tiny_model_overrides)
    model.train()
    points = torch.rand(2, 40, 3)
    model(points, QUERIES).logsumexp(1).mean().backward()
    assert model.query_module.cross_attentions["0"].output.weight.grad.abs().sum() > 0
    torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1).step()  # W_o leaves zero
    model.zero_grad()
    model(points, QUERIES).logsumexp(1).mean().backward()
    grads = {n: p.grad for n, p in model.named_parameters()}
    for name in ["query_module.cross_attentions.0.query.weight", "query_module.cross_attentions.1.key.weight",
                 "backbone.set_abstractions.0.branches.0.linears.0.weight", "projection.conv.weight",
                 "head.key.weight", "head.mlp_in.weight", "head.mlp_out.weight"]:
        assert grads[name] is not None and grads[name].abs().sum() > 0, name
    lm = [n for n in grads if n.startswith("query_module.language_model.")]
    assert lm and all(grads[n] is None for n in lm)
    assert all(not p.requires_grad for p in model.query_module.language_model.parameters())


def test_unfrozen_language_model_gets_gradients(tiny_model_overrides):
    model = build_model("lmad", freeze_language_model=False, **tiny_model_overrides)
    model(torch.rand(2, 40, 3), QUERIES).mean().backward()
    weight = model.query_module.language_model.encoder.layer[0].attention.self.query.weight
    assert weight.grad is not None and weight.grad.abs().sum() > 0


@pytest.mark.parametrize("name", available_models())
def test_every_variant_runs_forward_and_backward(tiny_model_overrides, name):
    lm = {**tiny_model_overrides["language_model_config"], "num_hidden_layers": 3}  # lmad_aqm3 needs 3
    model = build_model(name, **{**tiny_model_overrides, "language_model_config": lm}).train()
    logits = model(torch.rand(2, 36, 3), QUERIES)
    torch.nn.functional.cross_entropy(logits, torch.randint(0, 5, (2, 36))).backward()
    trainable = [p for p in model.parameters() if p.requires_grad]
    assert all(p.grad is not None for p in trainable)


def test_openad_logit_scale_starts_at_log_inverse_temperature(tiny_model_overrides):
    model = build_model("openad", **tiny_model_overrides)
    assert model.head.logit_scale.item() == pytest.approx(2.6592600, abs=1e-6)


def test_fewer_point_tokens_and_attention_maps(tiny_model_overrides):
    model = build_model("lmad", aqm_point_tokens=16, **tiny_model_overrides).eval()
    with torch.no_grad():
        logits, attention = model(torch.rand(2, 40, 3), QUERIES, return_attention=True)
    assert logits.shape == (2, 5, 40)
    assert attention.shape == (2, 2, 5, 40)  # (B, blocks, K, N): each point shows its nearest token's
    full = build_model("lmad", **tiny_model_overrides).eval()
    with torch.no_grad():
        _, attention = full(torch.rand(2, 40, 3), QUERIES, return_attention=True)
    assert attention.shape == (2, 2, 5, 40)
    assert torch.allclose(attention.sum(-1), torch.ones(2, 2, 5), atol=1e-5)  # a distribution over points


def test_save_load_round_trip_gives_identical_logits(tiny_model_overrides, tmp_path):
    model = build_model("lmad", **tiny_model_overrides)
    model.train()
    model(torch.rand(4, 40, 3), QUERIES)  # move BatchNorm statistics away from their start
    model.eval()
    points = torch.rand(2, 40, 3)
    with torch.no_grad():
        expected = model(points, QUERIES)
    model.save_pretrained(tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["model"]["name"] == "lmad"
    loaded = LMAD.from_pretrained(tmp_path).eval()
    with torch.no_grad():
        assert torch.equal(loaded(points, QUERIES), expected)


def test_loading_names_every_mismatch(tiny_model_overrides, tmp_path):
    from safetensors.torch import load_file, save_file

    build_model("lmad", **tiny_model_overrides).save_pretrained(tmp_path)
    state = load_file(tmp_path / "model.safetensors")
    state["head.mlp_in.weight"] = torch.zeros(3, 3)
    state["extra.weight"] = torch.zeros(1)
    del state["projection.conv.bias"]
    save_file(state, tmp_path / "model.safetensors")
    meta = json.loads((tmp_path / "config.json").read_text())
    del meta["weights_sha256"]  # as if edited on purpose: the names are what is checked then
    (tmp_path / "config.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError) as error:
        LMAD.from_pretrained(tmp_path)
    message = str(error.value)
    assert "projection.conv.bias" in message and "extra.weight" in message and "head.mlp_in.weight" in message


def test_missing_checkpoint_and_language_model_errors(tmp_path):
    with pytest.raises(ValueError, match="config.json is missing"):
        LMAD.from_pretrained(tmp_path)
    with pytest.raises(LanguageModelNotFoundError, match="never downloads"):
        load_language_model(str(tmp_path / "no-such-model"))


def test_bad_queries_are_refused(tiny_model_overrides):
    model = build_model("lmad", **tiny_model_overrides)
    with pytest.raises(ValueError, match="non-empty list"):
        model(torch.rand(1, 40, 3), "grasp")
    with pytest.raises(ValueError, match="empty strings"):
        model(torch.rand(1, 40, 3), ["grasp", "  "])
    with pytest.raises(ValueError, match="at least 32 points"):
        model(torch.rand(1, 20, 3), ["grasp"])


@pytest.mark.slow
def test_embedded_minilm_integration(tmp_path):
    model = build_model("lmad", backbone="lite")
    assert model.query_module.hidden_size == 384 and len(model.query_module.blocks) == 6
    model.eval()
    with torch.no_grad():
        logits = model(torch.rand(1, 256, 3), ["grasp", "pour", "where to sit"])
    assert logits.shape == (1, 3, 256)
    model.save_pretrained(tmp_path)
    size = (tmp_path / "model.safetensors").stat().st_size
    assert size < 25e6  # the frozen LM is not stored
    with torch.no_grad():
        assert torch.equal(LMAD.from_pretrained(tmp_path).eval()(torch.rand(1, 256, 3) * 0 + 0.1, ["grasp"]),
                           model(torch.rand(1, 256, 3) * 0 + 0.1, ["grasp"]))


# ---- per-query form ----------------------------------------------------------------------------

PER_QUERY_VARIANTS = ["lmad", "lmad_aqm1", "lmad_aqm3", "no_aqm", "openad"]


def _trained_looking(model):
    """Give the zero-initialised AQM insertions weights, as training would, so they matter."""
    for cross in getattr(model.query_module, "cross_attentions", {}).values():
        torch.nn.init.normal_(cross.output.weight, std=0.2)
    return model.eval()


@pytest.mark.parametrize("name", PER_QUERY_VARIANTS)
def test_a_query_scores_the_same_alone_among_others_and_in_any_order(tiny_model_overrides, name):
    lm = {**tiny_model_overrides["language_model_config"], "num_hidden_layers": 3}
    model = _trained_looking(build_model(name, **{**tiny_model_overrides, "language_model_config": lm}))
    points = torch.rand(2, 48, 3)
    many = ["contain", "where to sit", "grasp", "wrap_grasp", "pour the water out"]
    with torch.no_grad():
        alone = model(points, ["grasp"])[:, 0]
        among = model(points, many)[:, 2]
        reordered = model(points, list(reversed(many)))[:, 2]
        long_neighbour = model(points, ["grasp", "a very long query that pads the short one a lot"])[:, 0]
    for other in (among, reordered, long_neighbour):
        assert torch.allclose(alone, other, atol=1e-5)


@pytest.mark.parametrize("name", PER_QUERY_VARIANTS)
def test_objects_in_a_batch_never_mix(tiny_model_overrides, name):
    lm = {**tiny_model_overrides["language_model_config"], "num_hidden_layers": 3}
    model = _trained_looking(build_model(name, **{**tiny_model_overrides, "language_model_config": lm}))
    points = torch.rand(3, 40, 3)
    with torch.no_grad():
        together = model(points, QUERIES)
        alone = model(points[2:3], QUERIES)
    assert torch.allclose(together[2:3], alone, atol=1e-5)


@pytest.mark.parametrize("name", PER_QUERY_VARIANTS)
def test_each_object_asked_its_own_queries_gets_the_rows_of_asking_all(tiny_model_overrides, name):
    """Training asks each object a sample of the names (optim.queries_per_object): one forward
    with per-object lists must score what the shared forward scores for those names."""
    lm = {**tiny_model_overrides["language_model_config"], "num_hidden_layers": 3}
    model = _trained_looking(build_model(name, **{**tiny_model_overrides, "language_model_config": lm}))
    points = torch.rand(3, 40, 3)
    names = ["contain", "where to sit", "grasp", "pour the water out"]
    own = [[2, 0], [3, 1], [1, 1]]
    with torch.no_grad():
        shared = model(points, names)
        logits, attention = model(points, [[names[i] for i in row] for row in own], return_attention=True)
    expected = torch.stack([shared[b, own[b]] for b in range(3)])
    assert logits.shape == (3, 2, 40) and attention.shape[2] == 2
    assert torch.allclose(logits, expected, atol=1e-5)
    with pytest.raises(ValueError, match="same length"):
        model(points, [["grasp"], ["grasp", "cut"], ["cut"]])
    with pytest.raises(ValueError, match="2 lists of per-object queries for 3 objects"):
        model(points, [["grasp"], ["cut"]])


def test_pooled_head_lets_queries_see_each_other(tiny_model_overrides):
    model = _trained_looking(build_model("lmad", head="pooled", **tiny_model_overrides))
    points = torch.rand(1, 48, 3)
    with torch.no_grad():
        alone = model(points, ["grasp"])[:, 0]
        among = model(points, ["grasp", "contain", "where to sit"])[:, 0]
    assert not torch.allclose(alone, among, atol=1e-4)


def test_per_query_head_equals_the_plain_cross_attention_and_mlp_it_factors():
    from lmad.models import PerQueryHead

    torch.manual_seed(1)
    d, heads, width = 16, 4, 8
    head = PerQueryHead(d, heads, width, dropout=0.0).eval()
    for parameter in head.parameters():
        torch.nn.init.normal_(parameter, std=0.3)
    points = torch.randn(2, 10, d)
    states = torch.randn(2, 3, 5, d)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 1, 0, 0, 0]])
    with torch.no_grad():
        logits = head(points, states, mask)
        for k in range(3):  # the textbook form, one query at a time, its real tokens only
            tokens = states[:, k, : int(mask[k].sum())]
            attention = torch.nn.MultiheadAttention(d, heads, batch_first=True)
            attention.in_proj_weight.copy_(torch.cat([head.query.weight, head.key.weight, head.value.weight]))
            attention.in_proj_bias.copy_(torch.cat([head.query.bias, head.key.bias, head.value.bias]))
            attention.out_proj.weight.copy_(head.output.weight)
            attention.out_proj.bias.copy_(head.output.bias)
            context, _ = attention(points, tokens, tokens, need_weights=False)
            expected = head.mlp_out(torch.nn.functional.gelu(head.mlp_in(points + context))).squeeze(-1)
            assert torch.allclose(logits[:, k], expected, atol=1e-4)


def test_model_config_refuses_unknown_head_and_objective(tiny_model_overrides):
    with pytest.raises(ValueError, match="head must be one of"):
        build_model("lmad", head="mean", **tiny_model_overrides)
    with pytest.raises(ValueError, match="objective must be one of"):
        build_model("lmad", objective="focal", **tiny_model_overrides)


def test_checkpoints_from_before_the_per_query_head_still_load(tiny_model_overrides, tmp_path):
    model = build_model("lmad", head="pooled", objective="cross_entropy", **tiny_model_overrides).eval()
    model.save_pretrained(tmp_path)
    meta = json.loads((tmp_path / "config.json").read_text())
    for key in ("head", "objective", "head_width"):
        del meta["model"][key]
    (tmp_path / "config.json").write_text(json.dumps(meta))
    loaded = LMAD.from_pretrained(tmp_path)
    assert loaded.config.head == "pooled" and loaded.config.objective == "cross_entropy"


def test_tokenized_query_lists_are_cached_within_a_bound(tiny_model_overrides):
    from lmad.models.lmad import TOKEN_CACHE_SIZE

    model = build_model("lmad", **tiny_model_overrides)
    first = model.tokenize(["grasp", "cut"], torch.device("cpu"))
    for i in range(3 * TOKEN_CACHE_SIZE):  # a service asked ever new query lists
        model.tokenize([f"query {i}"], torch.device("cpu"))
    assert len(model._token_cache) == TOKEN_CACHE_SIZE
    again = model.tokenize(["grasp", "cut"], torch.device("cpu"))  # dropped, then tokenized anew
    assert all(torch.equal(a, b) for a, b in zip(first, again))


def test_a_new_backbone_is_one_module_and_one_registration(tiny_model_overrides, monkeypatch):
    from torch import nn

    from lmad.models import BACKBONES, Backbone, register_backbone

    monkeypatch.setattr("lmad.models.backbones.BACKBONES", dict(BACKBONES))

    class PerPointMLP(nn.Module):
        """The smallest backbone keeping the contract: a shared MLP on each point's coordinates."""

        min_points = 1

        def __init__(self, width: int):
            super().__init__()
            self.out_channels = width
            self.mlp = nn.Sequential(nn.Linear(3, width), nn.ReLU(), nn.Linear(width, width))

        def forward(self, points, generator=None):
            return self.mlp(points).transpose(1, 2)

    register_backbone("per_point_mlp", lambda options: PerPointMLP(**options))
    model = build_model("lmad", **{**tiny_model_overrides, "backbone": {"type": "per_point_mlp", "width": 24}})
    assert isinstance(model.backbone, Backbone) and model.backbone.out_channels == 24
    assert model(torch.rand(2, 40, 3), ["grasp", "pour"]).shape == (2, 2, 40)
    register_backbone("broken", lambda options: nn.Linear(3, 3))
    with pytest.raises(TypeError, match="Backbone"):
        build_model("lmad", **{**tiny_model_overrides, "backbone": {"type": "broken"}})
    with pytest.raises(ValueError, match="registered: .*per_point_mlp"):
        build_model("lmad", **{**tiny_model_overrides, "backbone": {"type": "nope"}})


def test_a_new_head_is_one_module_and_one_registration(tiny_model_overrides, monkeypatch):
    from torch import nn

    from lmad.models import HEADS, register_head

    monkeypatch.setattr("lmad.models.lmad.HEADS", dict(HEADS))

    class DotHead(nn.Module):
        """Each point's token dotted with each query's mean state: the smallest head."""

        takes = "query_means"

        def forward(self, point_tokens, query_means):
            tokens = point_tokens.materialize() if hasattr(point_tokens, "materialize") else point_tokens
            means = query_means if query_means.dim() == 3 else query_means.unsqueeze(0)
            return torch.einsum("bnd,bkd->bkn", tokens, means.expand(tokens.shape[0], -1, -1))

    register_head("dot", lambda config, width, heads, eps: DotHead())
    model = build_model("lmad", **{**tiny_model_overrides, "head": "dot"})
    assert isinstance(model.head, DotHead)
    assert model(torch.rand(2, 64, 3), ["grasp", "pour", "sit"]).shape == (2, 3, 64)
    with pytest.raises(ValueError, match="head must be one of"):
        build_model("lmad", **{**tiny_model_overrides, "head": "nope"})
