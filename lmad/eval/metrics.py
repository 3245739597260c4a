"""Benchmark metrics, computed exactly as the reference implementations do.

OpenAD protocol (:func:`openad_metrics`): per point, the predicted class is the argmax over the
K query logits; counts are accumulated over every point of the split; per-class
``IoU = TP / (TP + FP + FN + 1e-6)`` with the epsilon added in float32 as the reference code does;
mIoU is the mean over all classes, ``none`` included, a class with an empty union counting 0;
Acc is overall point accuracy; mAcc the mean per-class recall (absent classes count 0). The
per-class table shows an empty-union class as NaN, as the reference prints it.

Heat-map protocol of 3D AffordanceNet / LASO / PIAD (:func:`heatmap_metrics`): per shape and
affordance, skipping pairs without a positive point (soft label >= 0.5): AP and ROC-AUC against
the binarised label, aIoU (mean IoU of ``score >= t`` against the binarised label over
``t in linspace(0, 1, 20)``), SIM (histogram intersection of the score and soft-label
distributions) and MAE (against the soft label); averaged over shapes, then over affordances.

Per-label binary metrics of per-query probabilities (:class:`BinaryMetrics`): per (shape,
affordance), IoU at a threshold, ROC-AUC and LASO's aIoU (thresholds 0.05..0.95), plus how much
of an object is marked for an affordance it does not have.
"""

from __future__ import annotations

import numpy as np


class OpenADCounts:
    """Accumulates the per-class point counts of the OpenAD protocol over batches."""

    def __init__(self, num_classes: int = 19):
        self.num_classes = num_classes
        self.intersection = np.zeros(num_classes, dtype=np.int64)
        self.union = np.zeros(num_classes, dtype=np.int64)
        self.label_count = np.zeros(num_classes, dtype=np.int64)
        self.pred_count = np.zeros(num_classes, dtype=np.int64)

    def update(self, preds, labels) -> None:
        """preds, labels: class-index arrays of the same shape (any shape)."""
        preds = np.asarray(preds).reshape(-1).astype(np.int64)
        labels = np.asarray(labels).reshape(-1).astype(np.int64)
        if preds.shape != labels.shape:
            raise ValueError(f"preds {preds.shape} and labels {labels.shape} differ in size")
        for name, values in (("preds", preds), ("labels", labels)):
            if values.size and (values.min() < 0 or values.max() >= self.num_classes):
                raise ValueError(f"{name} hold class indices outside 0..{self.num_classes - 1}")
        c = self.num_classes
        hit = np.bincount(labels[preds == labels], minlength=c)
        label_count = np.bincount(labels, minlength=c)
        pred_count = np.bincount(preds, minlength=c)
        self.intersection += hit
        self.label_count += label_count
        self.pred_count += pred_count
        self.union += label_count + pred_count - hit

    def compute(self) -> dict:
        """mIoU, Acc, mAcc, per-class IoU (NaN for an empty union) and the raw counts."""
        union32 = self.union.astype(np.float32) + np.float32(1e-6)
        seen32 = self.label_count.astype(np.float32) + np.float32(1e-6)
        iou_terms = self.intersection / union32
        acc_terms = self.intersection / seen32
        with np.errstate(invalid="ignore", divide="ignore"):
            per_class = np.where(self.union > 0, self.intersection / np.maximum(self.union, 1), np.nan)
        total = self.label_count.sum()
        return {
            "mIoU": float(np.mean(iou_terms)),
            "Acc": float(self.intersection.sum() / total) if total else float("nan"),
            "mAcc": float(np.mean(acc_terms)),
            "IoU": per_class,
            "counts": {"intersection": self.intersection.copy(), "union": self.union.copy(),
                       "label_count": self.label_count.copy(), "pred_count": self.pred_count.copy()},
        }


def openad_metrics(preds, labels, num_classes: int = 19) -> dict:
    """OpenAD's point metrics for class-index arrays of any (equal) shape; see the module doc."""
    counts = OpenADCounts(num_classes)
    counts.update(preds, labels)
    return counts.compute()


def average_precision(scores: np.ndarray, positives: np.ndarray) -> float:
    """Area under the precision-recall step curve (as scikit-learn's average_precision_score)."""
    order = np.argsort(-scores, kind="mergesort")
    scores, positives = scores[order], positives[order]
    distinct = np.r_[np.flatnonzero(np.diff(scores)), len(scores) - 1]  # last index of each score value
    true_pos = np.cumsum(positives)[distinct]
    predicted = distinct + 1
    precision = true_pos / predicted
    recall = true_pos / positives.sum()
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def roc_auc(scores: np.ndarray, positives: np.ndarray) -> float:
    """ROC-AUC as the Mann-Whitney statistic with tied scores counted half."""
    positives = np.asarray(positives, dtype=bool)
    n_pos = int(positives.sum())
    n_neg = len(scores) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    average_rank = (ends - counts + ends + 1) / 2.0  # 1-based ranks, averaged over each run of ties
    ranks = average_rank[inverse.reshape(-1)]
    return float((ranks[positives].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def iou_over_thresholds(scores: np.ndarray, positives: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """IoU of ``scores >= t`` against ``positives`` for each t: (N,), (N,), (T,) -> (T,) (empty union: 0)."""
    predicted = scores[None, :] >= thresholds[:, None]
    inter = (predicted & positives).sum(1)
    union = (predicted | positives).sum(1)
    return inter / np.maximum(union, 1)


LASO_THRESHOLDS = np.round(np.arange(0.05, 0.951, 0.05), 2)  # 0.05, 0.10, ..., 0.95


class BinaryMetrics:
    """Per-label binary metrics of per-query probabilities, accumulated over batches.

    For every (shape, affordance) pair whose ground truth has a positive point (soft label >= 0.5):
    IoU of ``p >= threshold`` against it, ROC-AUC, and aIoU (mean IoU over thresholds
    0.05, 0.10, ..., 0.95, as LASO reports). For pairs without a positive point (the affordance
    is absent): the share of points predicted positive (``absent_positive_rate``; 0 is right).
    Each is averaged per affordance, then over the affordances that have pairs.
    """

    NAMES = ("IoU", "AUC", "aIoU", "absent_positive_rate")

    def __init__(self, num_affordances: int, threshold: float = 0.5):
        self.threshold = threshold
        self.rows = {name: [[] for _ in range(num_affordances)] for name in self.NAMES}

    def update(self, probabilities, soft_labels) -> None:
        """probabilities, soft_labels: (S, A, N) per-query probabilities and soft (or 0/1) labels."""
        probabilities = np.asarray(probabilities, dtype=np.float64)
        labels = np.asarray(soft_labels, dtype=np.float64)
        if probabilities.shape != labels.shape:
            raise ValueError(f"probabilities {probabilities.shape} and labels {labels.shape} differ")
        for s in range(probabilities.shape[0]):
            for a in range(probabilities.shape[1]):
                score, positives = probabilities[s, a], labels[s, a] >= 0.5
                if not positives.any():
                    self.rows["absent_positive_rate"][a].append(float((score >= self.threshold).mean()))
                    continue
                self.rows["IoU"][a].append(float(iou_over_thresholds(score, positives,
                                                                     np.array([self.threshold]))[0]))
                self.rows["AUC"][a].append(roc_auc(score, positives))
                self.rows["aIoU"][a].append(float(iou_over_thresholds(score, positives, LASO_THRESHOLDS).mean()))

    def compute(self) -> dict:
        """{name: mean over affordances} plus ``per_affordance``: {name: (A,) array, NaN where no pair}."""
        per_affordance = {name: np.array([np.nanmean(r) if r else np.nan for r in rows])
                          for name, rows in self.rows.items()}
        result = {name: float(np.nanmean(v)) if np.isfinite(v).any() else float("nan")
                  for name, v in per_affordance.items()}
        result["per_affordance"] = per_affordance
        return result


def binary_metrics(probabilities, soft_labels, threshold: float = 0.5) -> dict:
    """:class:`BinaryMetrics` of (S, A, N) probabilities and labels in one call."""
    metrics = BinaryMetrics(np.shape(probabilities)[1], threshold)
    metrics.update(probabilities, soft_labels)
    return metrics.compute()


def heatmap_metrics(scores, soft_labels, threshold: float = 0.5) -> dict:
    """Heat-map metrics of 3D AffordanceNet / LASO / PIAD; see the module doc.

    Args:
        scores: (S, N, A) or (N, A) predicted per-point scores in [0, 1].
        soft_labels: the same shape, ground-truth soft scores in [0, 1].

    Returns:
        dict with AP, AUC, aIoU, SIM, MAE (means over affordances of per-shape means) and
        ``per_affordance``: (A,) arrays of each, NaN for an affordance no shape has.
    """
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(soft_labels, dtype=np.float64)
    if scores.ndim == 2:
        scores, labels = scores[None], labels[None]
    if scores.shape != labels.shape:
        raise ValueError(f"scores {scores.shape} and soft_labels {labels.shape} differ")
    thresholds = np.linspace(0, 1, 20)
    names = ("AP", "AUC", "aIoU", "SIM", "MAE")
    per_affordance = {name: np.full(scores.shape[2], np.nan) for name in names}
    for a in range(scores.shape[2]):
        rows = {name: [] for name in names}
        for s in range(scores.shape[0]):
            score, soft = scores[s, :, a], labels[s, :, a]
            positives = soft >= threshold
            if not positives.any():
                continue
            rows["AP"].append(average_precision(score, positives))
            rows["AUC"].append(roc_auc(score, positives))
            rows["aIoU"].append(float(iou_over_thresholds(score, positives, thresholds).mean()))
            p = score / max(score.sum(), 1e-12)
            g = soft / max(soft.sum(), 1e-12)
            rows["SIM"].append(float(np.minimum(p, g).sum()))
            rows["MAE"].append(float(np.abs(score - soft).mean()))
        for name in names:
            if rows[name]:
                per_affordance[name][a] = np.nanmean(rows[name])
    result = {name: float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")
              for name, values in per_affordance.items()}
    result["per_affordance"] = per_affordance
    return result
