import pytest
import torch

from lmad import build_model
from lmad.data import query_targets
from lmad.train.objectives import bce_dice_loss, training_loss, training_queries

CLASSES = ["grasp", "contain", "none"]


def test_training_queries_leave_none_out_of_the_per_query_objective():
    assert training_queries(CLASSES, "cross_entropy") == CLASSES
    assert training_queries(CLASSES, "bce_dice") == ["grasp", "contain"]


def test_targets_are_soft_labels_or_one_hot_of_hard_labels():
    labels = torch.tensor([[0, 1, 2, 0]])
    hard = query_targets({"labels": labels}, CLASSES)
    assert hard.shape == (1, 2, 4)
    assert hard.tolist() == [[[1, 0, 0, 1], [0, 1, 0, 0]]]
    soft = torch.tensor([[[0.7, 0.6], [0.0, 0.9], [0.0, 0.0], [0.2, 0.0]]])  # (B, N, C - 1)
    assert torch.equal(query_targets({"labels": labels, "soft_labels": soft}, CLASSES), soft.transpose(1, 2))
    with pytest.raises(ValueError, match="last class must be 'none'"):
        query_targets({"labels": labels, "soft_labels": soft[..., :1]}, CLASSES)


def test_bce_dice_is_low_for_right_and_high_for_wrong_answers():
    targets = torch.tensor([[[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]])  # second query absent
    right = torch.where(targets > 0, 8.0, -8.0)
    assert bce_dice_loss(right, targets) < 0.01
    assert bce_dice_loss(-right, targets) > 4.0
    # Dice counts only where the target has mass: an absent query adds BCE only
    only_absent_wrong = right.clone()
    only_absent_wrong[0, 1] = 8.0
    assert bce_dice_loss(only_absent_wrong, targets) == pytest.approx(
        torch.nn.functional.binary_cross_entropy_with_logits(only_absent_wrong, targets).item(), abs=0.01)


def _two_affordance_batch():
    """Points with y > 0 are grasp AND contain, the rest neither (a multi-label target)."""
    generator = torch.Generator().manual_seed(0)
    points = torch.rand(4, 64, 3, generator=generator) * 2 - 1
    upper = points[..., 1] > 0
    labels = torch.where(upper, 0, 2)
    soft = torch.stack([upper.float(), upper.float()], dim=-1)  # (B, N, 2)
    return points, {"labels": labels, "soft_labels": soft}


@pytest.mark.parametrize("objective", ["cross_entropy", "bce_dice"])
def test_both_objectives_decrease_on_a_tiny_overfit(tiny_model_overrides, objective):
    torch.manual_seed(0)
    model = build_model("lmad", objective=objective, dropout=0.0, **tiny_model_overrides).train()
    points, batch = _two_affordance_batch()
    queries = training_queries(CLASSES, objective)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=3e-3)
    losses = []
    for _ in range(40):
        loss = training_loss(objective, model(points, queries), batch, CLASSES, None)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_points_carrying_two_affordances_are_predicted_as_both(tiny_model_overrides):
    torch.manual_seed(0)
    model = build_model("lmad", objective="bce_dice", dropout=0.0, **tiny_model_overrides).train()
    points, batch = _two_affordance_batch()
    queries = training_queries(CLASSES, "bce_dice")
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=3e-3)
    for _ in range(80):
        loss = training_loss("bce_dice", model(points, queries), batch, CLASSES, None)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        probabilities = torch.sigmoid(model(points, queries))  # (B, 2, N)
    upper = batch["soft_labels"][..., 0] > 0
    both = (probabilities > 0.5).all(1)  # (B, N): grasp and contain at once
    assert both[upper].float().mean() > 0.9
    assert both[~upper].float().mean() < 0.1


def test_class_weights_scale_the_positive_term_of_each_affordance():
    logits = torch.zeros(1, 2, 4)
    targets = torch.tensor([[[1.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0]]])
    plain = bce_dice_loss(logits, targets, dice_weight=0.0)
    weighted = bce_dice_loss(logits, targets, positive_weight=torch.tensor([3.0, 1.0]), dice_weight=0.0)
    # ln 2 per (query, point); the first affordance's one positive counts 3 times: 10 of 8 terms
    assert weighted.item() == pytest.approx(plain.item() * 10 / 8, rel=1e-5)
    batch = {"labels": torch.tensor([[0, 1, 2, 2]])}
    through = training_loss("bce_dice", torch.zeros(1, 2, 4), batch, CLASSES, torch.tensor([3.0, 1.0, 9.0]))
    expected = bce_dice_loss(torch.zeros(1, 2, 4), query_targets(batch, CLASSES), torch.tensor([3.0, 1.0]))
    assert through.item() == pytest.approx(expected.item())  # `none`'s weight is not used


def test_negatives_beside_a_region_weigh_as_much_as_its_positives():
    from lmad.train.objectives import near_negatives

    # two parallel sheets 0.03 apart (a container's inner and outer wall) and a far patch
    grid = torch.stack(torch.meshgrid(torch.linspace(0, 0.5, 6), torch.linspace(0, 0.5, 6), indexing="ij"), -1)
    grid = grid.reshape(-1, 2)
    inner = torch.cat([grid, torch.zeros(36, 1)], 1)
    outer = torch.cat([grid, torch.full((36, 1), 0.03)], 1)
    far = inner + torch.tensor([0.0, 0.0, 0.9])
    points = torch.cat([inner, outer, far])[None]  # (1, 108, 3)
    targets = torch.cat([torch.ones(36), torch.zeros(72)])[None, None]  # (1, 1, 108): the inner sheet only
    near = near_negatives(points, targets, radius=0.08)
    assert near[0, 0, 36:72].all() and not near[0, 0, :36].any() and not near[0, 0, 72:].any()
    # a model that says yes on both sheets: with near negatives weighted, that costs more
    logits = torch.cat([torch.full((72,), 3.0), torch.full((36,), -3.0)])[None, None]
    weight = torch.tensor([4.0])
    plain = bce_dice_loss(logits, targets, weight)
    weighted = bce_dice_loss(logits, targets, weight, near=near)
    assert weighted > plain
    right = torch.cat([torch.full((36,), 3.0), torch.full((72,), -3.0)])[None, None]
    added_right = bce_dice_loss(right, targets, weight, near=near) - bce_dice_loss(right, targets, weight)
    assert weighted - plain > 10 * added_right  # the weight falls on the false yes, not on the right answer
    batch = {"points": points, "labels": torch.cat([torch.zeros(36), torch.ones(72)]).long()[None]}  # grasp, none
    names = ["grasp", "none"]
    assert training_loss("bce_dice", logits, batch, names, torch.tensor([4.0, 1.0]), near_negative_radius=0.08) > \
        training_loss("bce_dice", logits, batch, names, torch.tensor([4.0, 1.0]))


def test_sampled_queries_ask_every_present_affordance_and_estimate_the_full_loss_without_bias():
    import numpy as np

    from lmad.train.objectives import sample_queries

    generator = torch.Generator().manual_seed(0)
    targets = torch.zeros(4, 10, 32)
    targets[0, [1, 4], :8] = 1.0
    targets[1, 7, 3:20] = 0.6
    targets[2, [0, 2, 5], 10:] = 1.0  # three present: more than asked for, all kept
    logits = torch.randn(4, 10, 32, generator=generator) * 2
    positive_weight = torch.linspace(1.0, 3.0, 10)
    full = bce_dice_loss(logits, targets, positive_weight)
    rng = np.random.default_rng(0)
    estimates = []
    for _ in range(3000):
        chosen, weight = sample_queries(targets, 2, rng)
        assert chosen.shape == (4, 4)  # raised to one more than the most present affordances of one object
        present = (targets.sum(-1) > 0)
        for row in range(4):
            asked = set(chosen[row].tolist())
            assert len(asked) == 4 and set(present[row].nonzero().flatten().tolist()) <= asked
        picked = targets.gather(1, chosen[..., None].expand(-1, -1, 32))
        estimates.append(bce_dice_loss(logits.gather(1, chosen[..., None].expand(-1, -1, 32)), picked,
                                       positive_weight[chosen], pair_weight=weight).item())
    # the Dice term is exact (every present pair is asked); the BCE's mean over draws is the full one
    assert np.mean(estimates) == pytest.approx(full.item(), rel=0.01)
    assert np.std(estimates) > 0  # and it does vary: absent queries are drawn


def test_training_loss_with_asked_queries_scores_the_chosen_rows():
    labels = torch.tensor([[0, 0, 1, 2], [2, 2, 2, 2]])
    batch = {"labels": labels}
    logits = torch.randn(2, 2, 4)
    chosen = torch.tensor([[0, 1], [1, 0]])
    asked_logits = logits.gather(1, chosen[..., None].expand(-1, -1, 4))
    weight = torch.ones(2, 2)
    assert training_loss("bce_dice", asked_logits, batch, CLASSES, None, asked=(chosen, weight)) == pytest.approx(
        training_loss("bce_dice", logits, batch, CLASSES, None).item())
    with pytest.raises(ValueError, match="cannot ask a sample"):
        training_loss("cross_entropy", logits, batch, CLASSES, None, asked=(chosen, weight))
