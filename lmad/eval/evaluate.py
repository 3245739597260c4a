"""Running a model over a dataset under the benchmark protocols."""

from __future__ import annotations

import numpy as np
import torch

from lmad.eval.metrics import OpenADCounts, heatmap_metrics


def _shard(length: int, dist_info) -> list[int]:
    if dist_info is None or dist_info.world_size == 1:
        return list(range(length))
    return list(range(dist_info.rank, length, dist_info.world_size))


@torch.no_grad()
def predict_dataset(model, dataset, queries, device, batch_size: int = 16, seed: int = 0, dist_info=None):
    """Yield (batch, probabilities (B, K, N)) over the dataset; FPS seeded by ``seed``."""
    from lmad.data import collate_samples

    model.eval()
    generator = torch.Generator().manual_seed(seed)
    indices = _shard(len(dataset), dist_info)
    for start in range(0, len(indices), batch_size):
        batch = collate_samples([dataset[i] for i in indices[start:start + batch_size]])
        logits = model(batch["points"].to(device), list(queries), generator=generator)
        yield batch, torch.softmax(logits.float(), dim=1)


def evaluate_openad(model, dataset, queries, device, batch_size: int = 16, seed: int = 0, dist_info=None) -> dict:
    """The OpenAD point protocol: argmax over the K queries, counts over every point of the split.

    ``queries`` stand in for the dataset's classes in order (canonical names or synonyms).
    """
    if len(queries) != len(dataset.class_names):
        raise ValueError(f"{len(queries)} queries for {len(dataset.class_names)} classes: give one query per "
                         f"class, in the order {dataset.class_names}")
    counts = OpenADCounts(len(dataset.class_names))
    for batch, probabilities in predict_dataset(model, dataset, queries, device, batch_size, seed, dist_info):
        counts.update(probabilities.argmax(1).cpu().numpy(), batch["labels"].numpy())
    if dist_info is not None and dist_info.world_size > 1:
        import torch.distributed as dist

        for name in ("intersection", "union", "label_count", "pred_count"):
            tensor = torch.from_numpy(getattr(counts, name)).to(device)
            dist.all_reduce(tensor)
            setattr(counts, name, tensor.cpu().numpy())
    return counts.compute()


def evaluate_heatmap(model, dataset, queries, device, batch_size: int = 16, seed: int = 0) -> dict:
    """The heat-map protocol on soft labels: per-point probability of each affordance (not ``none``)."""
    if not dataset.has_soft_labels:
        raise ValueError(f"{dataset.source} has no soft labels; the heat-map protocol needs the original "
                         "3D AffordanceNet layout (or folder files with 'scores')")
    scores, labels = [], []
    for batch, probabilities in predict_dataset(model, dataset, queries, device, batch_size, seed):
        num = batch["soft_labels"].shape[-1]
        scores.append(probabilities[:, :num].transpose(1, 2).cpu().numpy())
        labels.append(batch["soft_labels"].numpy())
    return heatmap_metrics(np.concatenate(scores), np.concatenate(labels))


def summarise_seeds(results: list[dict], keys=("mIoU", "Acc", "mAcc")) -> dict:
    """mean and std over evaluation seeds, plus the per-seed values."""
    out = {}
    for key in keys:
        values = np.array([r[key] for r in results], dtype=np.float64)
        out[key] = {"mean": float(values.mean()), "std": float(values.std()), "per_seed": values.tolist()}
    return out
