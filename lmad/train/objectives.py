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
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from lmad.data.dataset import query_targets
from lmad.queries import affordance_indices


def training_queries(class_names: list[str], objective: str) -> list[str]:
    """The queries a batch is scored against: the whole class set, or the affordances only."""
    if objective == "cross_entropy":
        return list(class_names)
    return [class_names[i] for i in affordance_indices(class_names)]


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
                  dice_weight: float = 1.0, near: torch.Tensor | None = None) -> torch.Tensor:
    """logits, targets: (B, A, N), targets in [0, 1]; positive_weight: (A,) or None
    -> scalar BCE (positives weighted per affordance) + dice_weight * soft Dice.

    ``near``: (B, A, N) bool, the negatives next to positives (:func:`near_negatives`): their
    BCE term gets the affordance's positive weight as well, so that near a region a false yes
    costs as much as a missed one (elsewhere the weighted positives make a yes the cheaper guess)."""
    logits = logits.float()
    pos_weight = None if positive_weight is None else positive_weight.to(logits)[:, None]  # (A, 1)
    weight = None
    if near is not None and pos_weight is not None:
        weight = torch.where(near, pos_weight.expand_as(logits), torch.ones_like(logits))
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
                  class_weight: torch.Tensor | None, near_negative_radius: float = 0.0) -> torch.Tensor:
    """The configured objective for logits scored against ``training_queries(class_names, objective)``.

    ``class_weight``: (C,) weights of the whole class set (``none`` included) or None.
    """
    if objective == "cross_entropy":
        return cross_entropy_loss(logits, batch["labels"].to(logits.device), class_weight)
    positive_weight = None
    if class_weight is not None:
        positive_weight = class_weight[affordance_indices(class_names)]
    targets = query_targets(batch, class_names).to(logits.device)
    near = None
    if near_negative_radius > 0:
        near = near_negatives(batch["points"].to(logits.device), targets, near_negative_radius)
    return bce_dice_loss(logits, targets, positive_weight, near=near)
