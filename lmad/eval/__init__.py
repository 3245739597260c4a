"""Evaluation: the OpenAD point protocol and the heat-map protocol."""

from lmad.eval.metrics import OpenADCounts, average_precision, heatmap_metrics, openad_metrics, roc_auc

__all__ = ["OpenADCounts", "average_precision", "heatmap_metrics", "openad_metrics", "roc_auc"]
