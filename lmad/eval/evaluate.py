"""Running a model over a dataset under the benchmark protocols."""

from __future__ import annotations

import numpy as np
import torch

from lmad.eval.metrics import BinaryMetrics, OpenADCounts, heatmap_metrics
from lmad.models.scoring import exclusive_probabilities, query_probabilities
from lmad.queries import NONE_QUERY, affordance_indices


def _shard(length: int, dist_info) -> list[int]:
    if dist_info is None or dist_info.world_size == 1:
        return list(range(length))
    return list(range(dist_info.rank, length, dist_info.world_size))


def none_class_index(class_names) -> int | None:
    """Where ``none`` sits in a dataset's class list (None if the dataset has no such class)."""
    return list(class_names).index(NONE_QUERY) if NONE_QUERY in class_names else None


@torch.no_grad()
def predict_dataset(model, dataset, queries, device, batch_size: int = 16, seed: int = 0, dist_info=None,
                    threshold: float = 0.5):
    """Yield ``(batch, per_query, exclusive)`` over the dataset; FPS seeded by ``seed``.

    ``queries`` stand in for the dataset's classes, in order (canonical names or synonyms).
    per_query: (B, A, N) each affordance's own probability (A = the classes but ``none``);
    exclusive: (B, C, N) a distribution over the C classes whose argmax is the point's class
    (``lmad.models.scoring``: a model trained per query meets ``none`` as the threshold).
    """
    from lmad.data import collate_samples

    model.eval()
    objective = model.config.objective
    none_index = none_class_index(dataset.class_names)
    affordance_columns = affordance_indices(dataset.class_names)  # `queries` stand in for these classes
    generator = torch.Generator().manual_seed(seed)
    indices = _shard(len(dataset), dist_info)
    for start in range(0, len(indices), batch_size):
        batch = collate_samples([dataset[i] for i in indices[start:start + batch_size]])
        points = batch["points"].to(device)
        if objective == "bce_dice":  # `none` is not a question such a model answers
            logits = model(points, [queries[i] for i in affordance_columns], generator=generator)
            per_query = query_probabilities(logits, objective)
        else:
            logits = model(points, list(queries), generator=generator)
            per_query = query_probabilities(logits, objective)[:, affordance_columns]
        yield batch, per_query, exclusive_probabilities(logits, objective, none_index, threshold)


def evaluate_openad(model, dataset, queries, device, batch_size: int = 16, seed: int = 0, dist_info=None) -> dict:
    """The OpenAD point protocol, and per-label binary metrics of the same predictions.

    OpenAD: the argmax over the class set per point, counts over every point of the split
    (mIoU, Acc, mAcc, per-class IoU). ``binary``: :class:`lmad.eval.metrics.BinaryMetrics` of
    each affordance's own probability against the soft labels (the hard labels' one-hot where
    the data has none). ``queries`` stand in for the dataset's classes in order.
    """
    if len(queries) != len(dataset.class_names):
        raise ValueError(f"{len(queries)} queries for {len(dataset.class_names)} classes: give one query per "
                         f"class, in the order {dataset.class_names}")
    from lmad.data.dataset import query_targets

    counts = OpenADCounts(len(dataset.class_names))
    binary = None
    for batch, per_query, exclusive in predict_dataset(model, dataset, queries, device, batch_size, seed, dist_info):
        counts.update(exclusive.argmax(1).cpu().numpy(), batch["labels"].numpy())
        binary = binary or BinaryMetrics(per_query.shape[1])
        binary.update(per_query.cpu().numpy(), query_targets(batch, list(dataset.class_names)).numpy())
    if dist_info is not None and dist_info.world_size > 1:
        import torch.distributed as dist

        for name in ("intersection", "union", "label_count", "pred_count"):
            tensor = torch.from_numpy(getattr(counts, name)).to(device)
            dist.all_reduce(tensor)
            setattr(counts, name, tensor.cpu().numpy())
    result = counts.compute()
    if binary is not None:  # this rank's shards only under DDP; the OpenAD counts are global
        result["binary"] = binary.compute()
    return result


def evaluate_heatmap(model, dataset, queries, device, batch_size: int = 16, seed: int = 0) -> dict:
    """The heat-map protocol on soft labels: per-point probability of each affordance (not ``none``)."""
    if not dataset.has_soft_labels:
        raise ValueError(f"{dataset.source} has no soft labels; the heat-map protocol needs the original "
                         "3D AffordanceNet layout (or folder files with 'scores')")
    scores, labels = [], []
    for batch, per_query, _ in predict_dataset(model, dataset, queries, device, batch_size, seed):
        scores.append(per_query.transpose(1, 2).cpu().numpy())
        labels.append(batch["soft_labels"].numpy())
    return heatmap_metrics(np.concatenate(scores), np.concatenate(labels))


def summarise_seeds(results: list[dict], keys=("mIoU", "Acc", "mAcc")) -> dict:
    """mean and std over evaluation seeds, plus the per-seed values.

    A key may be a path into nested results, e.g. ``"binary.AUC"``.
    """
    out = {}
    for key in keys:
        values = np.array([_lookup(r, key) for r in results], dtype=np.float64)
        out[key] = {"mean": float(values.mean()), "std": float(values.std()), "per_seed": values.tolist()}
    return out


def _lookup(result: dict, key: str):
    for part in key.split("."):
        result = result[part]
    return result
