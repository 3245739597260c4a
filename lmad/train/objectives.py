"""The two training objectives, chosen by ``LMADConfig.objective``.

``cross_entropy`` (OpenAD's protocol): every point belongs to exactly one class of the class
set, ``none`` included; a class-weighted NLL over the log-softmax of the K class logits.

``bce_dice`` (the paper's per-query task form): each query is a yes/no question per point, so
the queries are the affordances only (``none`` is not asked) and every query is trained on every
object -- an affordance the object lacks is a valid all-zero target. Per (object, query):
binary cross-entropy against the soft label (the hard label's one-hot where the data has no
soft scores), averaged over points, its positive term weighted by the affordance's class
weight (the same weights as the cross-entropy); plus a soft Dice term
``1 - (2 sum p y + 1) / (sum p + sum y + 1)`` over the pairs whose target has any mass. Dice is
left out for absent affordances: there it only repeats BCE's push towards 0, with a gradient
that does not fade as p -> 0.

Why the class weights: every object is asked all 18 affordances, so most (object, query) pairs
are negatives and a rare affordance (scissors' ``cut``, an earphone's ``listen``) is a yes in a
handful of objects; unweighted, rare affordances never passed 0.5 (measured: docs/training.md).

Fewer queries per step (``optim.queries_per_object``, :func:`sample_queries`): each object is
asked the affordances it has and a random few of those it lacks; each asked absent pair's BCE
is weighted by (absent / asked absent), so the loss is an unbiased estimate of the all-query
loss at a fraction of the head's and the AQM's cost (Dice sees every present pair either way).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from lmad.data.dataset import query_targets
from lmad.queries import affordance_indices


def training_queries(class_names: list[str], objective: str) -> list[str]:
    """The queries a batch is scored against: the whole class set, or the affordances only."""
    if objective == "cross_entropy":
        return list(class_names)
    return [class_names[i] for i in affordance_indices(class_names)]


def sample_queries(targets: torch.Tensor, count: int, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Which queries each object is asked this step, and each asked pair's loss weight.

    Args:
        targets: (B, A, N) per-query targets of the batch (:func:`lmad.data.dataset.query_targets`).
        count: queries per object K; raised to one more than the most affordances an object
            of the batch has (every object is asked at least one absent affordance).
        rng: draws the absent affordances (seeded per step: a resumed run asks the same).

    Returns:
        chosen (B, K) int64 affordance indices (every present one, then absent ones drawn
        without replacement); weight (B, K) float: ``K / A`` times, for an absent pair,
        (absent / asked absent), so that a mean over the (B, K, N) pairs estimates the mean
        over all (B, A, N) pairs without bias.
    """
    present = (targets.sum(-1) > 0).cpu().numpy()  # (B, A)
    num_affordances = present.shape[1]
    count = min(max(count, int(present.sum(1).max()) + 1), num_affordances)  # >= 1 absent each: no bias
    chosen = np.empty((len(present), count), dtype=np.int64)
    weight = np.full((len(present), count), count / num_affordances, dtype=np.float32)
    for row, has in enumerate(present):
        yes, no = np.flatnonzero(has), np.flatnonzero(~has)
        asked_no = rng.choice(no, count - len(yes), replace=False)
        chosen[row] = np.concatenate([yes, asked_no])
        if len(asked_no):
            weight[row, len(yes):] *= len(no) / len(asked_no)
    return torch.from_numpy(chosen), torch.from_numpy(weight)


def cross_entropy_loss(logits: torch.Tensor, labels: torch.Tensor, class_weight: torch.Tensor | None) -> torch.Tensor:
    """logits (B, K, N) over the class set, labels (B, N) class indices -> scalar weighted NLL."""
    return F.nll_loss(F.log_softmax(logits.float(), dim=1), labels, weight=class_weight)


def near_negatives(points: torch.Tensor, targets: torch.Tensor, radius: float) -> torch.Tensor:
    """points (B, N, 3), targets (B, A, N) -> (B, A, N) bool: the points that are a clear no
    (target <= 0.05) within ``radius`` of a clear yes (target >= 0.5) of the same query, such as
    a container's outer wall beside its inner one."""
    near = (torch.cdist(points.float(), points.float()) < radius).float()  # (B, N, N)
    touching = torch.bmm((targets >= 0.5).float(), near) > 0
    return touching & (targets <= 0.05)


def bce_dice_loss(logits: torch.Tensor, targets: torch.Tensor, positive_weight: torch.Tensor | None = None,
                  dice_weight: float = 1.0, near: torch.Tensor | None = None,
                  pair_weight: torch.Tensor | None = None) -> torch.Tensor:
    """logits, targets: (B, A, N), targets in [0, 1]; positive_weight: (A,), (B, A) or None
    -> scalar BCE (positives weighted per affordance) + dice_weight * soft Dice.

    ``near``: (B, A, N) bool, the negatives next to positives (:func:`near_negatives`): their
    BCE term gets the affordance's positive weight as well, so that near a region a false yes
    costs as much as a missed one (elsewhere the weighted positives make a yes the cheaper guess).
    ``pair_weight``: (B, A) weight of each (object, query) pair's BCE (:func:`sample_queries`)."""
    logits = logits.float()
    pos_weight = None if positive_weight is None else positive_weight.to(logits)[..., None]  # (A, 1) or (B, A, 1)
    weight = None
    if near is not None and pos_weight is not None:
        weight = torch.where(near, pos_weight.expand_as(logits), torch.ones_like(logits))
    if pair_weight is not None:
        pair_weight = pair_weight.to(logits)[..., None]  # (B, A, 1)
        weight = pair_weight if weight is None else weight * pair_weight
    bce = F.binary_cross_entropy_with_logits(logits, targets, weight=weight, pos_weight=pos_weight)
    present = targets.sum(-1) > 0  # (B, A)
    if dice_weight == 0 or not present.any():
        return bce
    probabilities = torch.sigmoid(logits)
    overlap = (probabilities * targets).sum(-1)
    total = probabilities.sum(-1) + targets.sum(-1)
    dice = 1 - (2 * overlap + 1) / (total + 1)
    return bce + dice_weight * dice[present].mean()


def training_loss(objective: str, logits: torch.Tensor, batch: dict, class_names: list[str],
                  class_weight: torch.Tensor | None, near_negative_radius: float = 0.0,
                  asked: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
    """The configured objective for logits scored against ``training_queries(class_names, objective)``.

    ``class_weight``: (C,) weights of the whole class set (``none`` included) or None.
    ``asked``: (chosen, weight) of :func:`sample_queries` when each object was asked its own
    queries (``bce_dice`` only); the logits are then (B, K, N) in ``chosen``'s order.
    """
    if objective == "cross_entropy":
        if asked is not None:
            raise ValueError("the cross_entropy objective scores the whole class set: it cannot ask a sample of queries")
        return cross_entropy_loss(logits, batch["labels"].to(logits.device), class_weight)
    positive_weight = None
    if class_weight is not None:
        positive_weight = class_weight[affordance_indices(class_names)]
    targets = query_targets(batch, class_names).to(logits.device)
    pair_weight = None
    if asked is not None:
        chosen, pair_weight = (tensor.to(logits.device) for tensor in asked)
        targets = targets.gather(1, chosen[..., None].expand(-1, -1, targets.shape[-1]))
        if positive_weight is not None:
            positive_weight = positive_weight[chosen]  # (B, K)
    near = None
    if near_negative_radius > 0:
        near = near_negatives(batch["points"].to(logits.device), targets, near_negative_radius)
    return bce_dice_loss(logits, targets, positive_weight, near=near, pair_weight=pair_weight)
