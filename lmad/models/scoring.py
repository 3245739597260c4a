"""From logits to what users read: per-query probabilities, or one class per point.

One rule for evaluation, training-time validation and the detector, decided by the objective
the model was trained with (``LMADConfig.objective``).
"""

from __future__ import annotations

import math

import torch



def query_probabilities(logits: torch.Tensor, objective: str) -> torch.Tensor:
    """(B, K, N) logits -> (B, K, N) probabilities: one sigmoid per query (``bce_dice``,
    independent of the other queries) or a softmax over the K queries (``cross_entropy``)."""
    logits = logits.float()
    return torch.sigmoid(logits) if objective == "bce_dice" else torch.softmax(logits, dim=1)


def exclusive_probabilities(logits: torch.Tensor, objective: str, none_index: int | None = None,
                            threshold: float = 0.5) -> torch.Tensor:
    """One class per point: a softmax over the queries, whose argmax is the point's class.

    ``cross_entropy`` models score ``none`` themselves (it is one of the K queries): the softmax
    of the K logits. ``bce_dice`` models never score ``none``: it is inserted at ``none_index``
    as the constant logit ``log(t / (1 - t))``, so the argmax is the best query whose own
    probability reaches ``t``, else ``none`` -- the multi-label rule, as a distribution.

    logits: (B, K, N) -> (B, K, N), or (B, K + 1, N) when ``none`` is inserted.
    """
    logits = logits.float()
    if objective == "bce_dice" and none_index is not None:
        if not 0 < threshold < 1:
            raise ValueError(f"threshold must be strictly between 0 and 1, got {threshold}")
        none = logits.new_full((logits.shape[0], 1, logits.shape[2]), math.log(threshold / (1 - threshold)))
        logits = torch.cat([logits[:, :none_index], none, logits[:, none_index:]], dim=1)
    return torch.softmax(logits, dim=1)
