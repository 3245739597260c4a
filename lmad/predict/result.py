"""What the detector says about one object: :class:`AffordanceResult`."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lmad.data.transforms import up_axis_rotation
from lmad.queries import NONE_QUERY

NO_LABEL = -1  # no asked query reaches the threshold at this point (or the row was invalid)


@dataclass
class AffordanceResult:
    """One object's scores, row for row with its input (the fields of the ``.npz`` it writes).

    points: (M, 3) float64, the input rows in their order (a mesh: its surface samples)
    valid: (M,) bool, False for rows that had NaN/Inf coordinates (their scores are NaN)
    scores: (M, K) float32 per-query probabilities: each query's own (multi-label), or a softmax
        over the K queries (``exclusive``, ``none`` among them)
    labels: (M,) int64 index of the point's query; ``-1`` where none applies or the row is invalid
    queries: the K queries
    attention: optional {"per_block": (L, K, M), "overall": (K, M)} AQM attention over the points
    exclusive: how the scores read; threshold: the multi-label cut
    up_axis: which input axis is up (pictures show the object upright)
    notes: how the input was read, when that needed interpreting (e.g. a transposed array)
    """

    points: np.ndarray
    valid: np.ndarray
    scores: np.ndarray
    labels: np.ndarray
    queries: list[str]
    source: str = ""
    is_mesh: bool = False
    attention: dict = field(default_factory=dict)
    up_axis: str = "y"
    exclusive: bool = True
    threshold: float = 0.5
    notes: list[str] = field(default_factory=list)

    def upright_points(self) -> np.ndarray:
        """(M, 3) the points rotated so that up is y, for display (results stay in input coordinates)."""
        return self.points @ up_axis_rotation(self.up_axis).T

    def region(self, k: int) -> np.ndarray:
        """(M,) bool, the points of query k: its score reaches the threshold (multi-label; regions
        may overlap), or it is the point's label (exclusive)."""
        if self.exclusive:
            return self.labels == k
        with np.errstate(invalid="ignore"):
            return self.scores[:, k] >= self.threshold

    def display_labels(self) -> tuple[np.ndarray, list[str]]:
        """Labels and names for pictures: ``-1`` (none) becomes an extra ``none`` entry."""
        if not (self.labels == NO_LABEL).any():
            return self.labels, list(self.queries)
        return np.where(self.labels == NO_LABEL, len(self.queries), self.labels), [*self.queries, NONE_QUERY]

    def summary(self) -> dict:
        """Per query: points, fraction, centroid, bounding box, mean score (for robots and scripts).

        Multi-label: a query's points are those whose score reaches the threshold, so two
        queries can share points; ``unlabelled_points`` counts the valid points no query reaches.
        Fractions are of the valid points.
        """
        valid_count = int(self.valid.sum())
        out = {}
        for k, query in enumerate(self.queries):
            mask = self.region(k)
            entry = {"points": int(mask.sum()), "fraction": float(mask.sum() / max(valid_count, 1)),
                     "mean_score": float(self.scores[mask, k].mean()) if mask.any() else 0.0}
            if mask.any():
                selected = self.points[mask]
                entry.update(centroid=selected.mean(0).tolist(), bbox_min=selected.min(0).tolist(),
                             bbox_max=selected.max(0).tolist())
            out[query] = entry
        return {"source": self.source, "num_points": int(len(self.points)), "valid_points": valid_count,
                "scores": "softmax over the queries (exclusive)" if self.exclusive
                else f"each query's own probability; a region is score >= {self.threshold}",
                "unlabelled_points": int(((self.labels == NO_LABEL) & self.valid).sum()), "queries": out}
