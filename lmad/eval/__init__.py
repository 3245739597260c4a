"""Evaluation: the OpenAD point protocol and the heat-map protocol."""

from lmad.eval.metrics import (
    BinaryMetrics,
    OpenADCounts,
    average_precision,
    binary_metrics,
    heatmap_metrics,
    openad_metrics,
    roc_auc,
)

__all__ = [
    "BinaryMetrics",
    "OpenADCounts",
    "average_precision",
    "binary_metrics",
    "evaluate_heatmap",
    "evaluate_openad",
    "heatmap_metrics",
    "openad_metrics",
    "roc_auc",
    "summarise_seeds",
]


def __getattr__(name):
    # the model-running helpers import torch; the metrics above need only numpy
    if name in ("evaluate_openad", "evaluate_heatmap", "summarise_seeds"):
        from lmad.eval import evaluate

        return getattr(evaluate, name)
    raise AttributeError(f"module 'lmad.eval' has no attribute {name!r}")
