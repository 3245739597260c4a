"""Affordances on your own objects: ``AffordanceDetector`` and the ``lmad predict`` pipeline.

    file or (M, 3) array -> points (meshes surface-sampled) -> normalised into the unit sphere
    -> N points by farthest point sampling (or repeats when M < N) -> model -> per-query
    probabilities at the N points -> carried to all M points (nearest sampled point)
    -> labels, in the input's own coordinates and order.

Two ways to read the scores (``exclusive``):

- multi-label (models trained per query, ``objective="bce_dice"``; the default for them): each
  query's probability is its own sigmoid, the same whatever else is asked, and regions may
  overlap (a mug wall can be ``contain`` and ``wrap_grasp``). A point's label is its most
  probable query among those reaching ``threshold``, else ``-1`` (none). ``none`` need not be
  asked; asked, its score is ``1 - max`` of the other queries and it labels the points no other
  query reaches.
- exclusive (``exclusive=True``; always for ``cross_entropy`` models): one class per point, a
  softmax over the queries with ``none`` appended, as the OpenAD benchmark scores.

Input of any scale and position gives the same labels: normalisation is internal.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from lmad.data import nearest_sampled, normalize_unit_sphere, read_point_file, resample_indices
from lmad.models.scoring import NONE_QUERY, exclusive_probabilities, query_probabilities

DEFAULT_NUM_POINTS = 2048
NO_LABEL = -1  # multi-label: no asked query reaches the threshold at this point
# The models are trained y-up (3D AffordanceNet's convention); these rotations bring another up
# axis to y (meshes in robotics are often z-up). Outputs stay in the input's coordinates.
UP_AXES = {
    "y": np.eye(3, dtype=np.float32),
    "z": np.array([[1, 0, 0], [0, 0, 1], [0, -1, 0]], dtype=np.float32),
    "-z": np.array([[1, 0, 0], [0, 0, -1], [0, 1, 0]], dtype=np.float32),
    "x": np.array([[0, -1, 0], [1, 0, 0], [0, 0, 1]], dtype=np.float32),
    "-y": np.array([[1, 0, 0], [0, -1, 0], [0, 0, -1]], dtype=np.float32),
}


def default_checkpoint_dir() -> Path:
    """The checkpoint shipped inside the package (``lmad/checkpoints/default``)."""
    return Path(__file__).resolve().parent / "checkpoints" / "default"


@dataclass
class AffordanceResult:
    """What the detector says about one object (the fields of the ``.npz`` it writes).

    points: (M, 3) float32, the scored points in input coordinates and order (a mesh: its samples)
    scores: (M, K) float32 per-query probabilities: each query's own (multi-label), or a softmax
        over the K queries (``exclusive``, ``none`` among them)
    labels: (M,) int64 index of the point's query; ``-1`` where none applies (multi-label)
    queries: the K queries
    attention: optional {"per_block": (L, K, M), "overall": (K, M)} AQM attention over the points
    exclusive: how the scores read (see the module doc); threshold: the multi-label cut
    """

    points: np.ndarray
    scores: np.ndarray
    labels: np.ndarray
    queries: list[str]
    source: str = ""
    is_mesh: bool = False
    attention: dict = field(default_factory=dict)
    up_axis: str = "y"  # which input axis is up: pictures show the object upright
    exclusive: bool = True
    threshold: float = 0.5

    def upright_points(self) -> np.ndarray:
        """(M, 3) the points rotated so that up is y, for display (results stay in input coordinates)."""
        return self.points @ UP_AXES[self.up_axis].T

    def region(self, k: int) -> np.ndarray:
        """(M,) bool, the points of query k: its score reaches the threshold (multi-label; regions
        may overlap), or it is the point's label (exclusive)."""
        if self.exclusive:
            return self.labels == k
        return self.scores[:, k] >= self.threshold

    def display_labels(self) -> tuple[np.ndarray, list[str]]:
        """Labels and names for pictures: ``-1`` (none) becomes an extra ``none`` entry."""
        if not (self.labels == NO_LABEL).any():
            return self.labels, list(self.queries)
        return np.where(self.labels == NO_LABEL, len(self.queries), self.labels), [*self.queries, NONE_QUERY]

    def summary(self) -> dict:
        """Per query: points, fraction, centroid, bounding box, mean score (for robots and scripts).

        Multi-label: a query's points are those whose score reaches the threshold, so two
        queries can share points; ``unlabelled_points`` counts the points no query reaches.
        """
        out = {}
        for k, query in enumerate(self.queries):
            mask = self.region(k)
            entry = {"points": int(mask.sum()), "fraction": float(mask.mean()),
                     "mean_score": float(self.scores[mask, k].mean()) if mask.any() else 0.0}
            if mask.any():
                selected = self.points[mask]
                entry.update(centroid=selected.mean(0).tolist(), bbox_min=selected.min(0).tolist(),
                             bbox_max=selected.max(0).tolist())
            out[query] = entry
        return {"source": self.source, "num_points": int(len(self.points)),
                "scores": "softmax over the queries (exclusive)" if self.exclusive
                else f"each query's own probability; a region is score >= {self.threshold}",
                "unlabelled_points": int((self.labels == NO_LABEL).sum()), "queries": out}


def normalise_queries(queries) -> list[str]:
    """Split a comma-separated string, strip, drop empties; a repeated query is kept once (warned)."""
    if isinstance(queries, str):
        queries = queries.split(",")
    stripped = [q.strip() for q in queries if q and q.strip()]
    unique = list(dict.fromkeys(stripped))
    if len(unique) < len(stripped):
        repeated = sorted({q for q in stripped if stripped.count(q) > 1})
        warnings.warn(f"queries {repeated} were given more than once; each is scored once", stacklevel=2)
    if not [q for q in unique if q != NONE_QUERY]:
        raise ValueError("give at least one query other than 'none', e.g. ['grasp', 'pour']")
    return unique


class AffordanceDetector:
    """Run a trained LM-AD model on point clouds or mesh files.

    Example::

        det = AffordanceDetector.from_pretrained()           # the shipped model
        result = det("mug.obj", ["grasp", "pour"])            # or an (M, 3) array
        result.scores[:, 0]                                   # P(grasp) per point, whatever else is asked
        result.labels                                         # index into result.queries, -1: none

    ``exclusive=None`` follows the model: multi-label for per-query (``bce_dice``) models,
    exclusive for ``cross_entropy`` ones (their scores are only meaningful as a softmax).
    """

    def __init__(self, model, device: str | torch.device = "cpu", num_points: int = DEFAULT_NUM_POINTS,
                 seed: int = 0, mesh_points: int = 10_000, up_axis: str = "y", threshold: float = 0.5,
                 exclusive: bool | None = None):
        if up_axis not in UP_AXES:
            raise ValueError(f"up_axis must be one of {sorted(UP_AXES)}, got {up_axis!r}")
        if not 0 < threshold < 1:
            raise ValueError(f"threshold must be strictly between 0 and 1, got {threshold}")
        per_query = model.config.objective == "bce_dice"
        if exclusive is False and not per_query:
            raise ValueError("this model was trained with a softmax over its classes (objective cross_entropy): "
                             "its scores are only meaningful exclusively; use exclusive=True (--exclusive)")
        self.exclusive = (not per_query) if exclusive is None else exclusive
        self.threshold = threshold
        self.up_axis = up_axis
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.num_points = num_points
        self.seed = seed
        self.mesh_points = mesh_points

    @classmethod
    def from_pretrained(cls, directory: str | Path | None = None, device: str | torch.device | None = None,
                        **kwargs) -> "AffordanceDetector":
        """Load a checkpoint folder; with none given, the model shipped in the package."""
        from lmad.models import LMAD

        directory = Path(directory) if directory is not None else default_checkpoint_dir()
        if not (directory / "model.safetensors").is_file():
            raise FileNotFoundError(
                f"no lmad checkpoint at {directory}: pass the folder of a trained model (config.json + "
                "model.safetensors), e.g. runs/<name>/best from `lmad train`"
            )
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        model = LMAD.from_pretrained(directory, map_location=device)
        meta_points = _checkpoint_num_points(directory)
        kwargs.setdefault("num_points", meta_points or DEFAULT_NUM_POINTS)
        return cls(model, device, **kwargs)

    # ---- inputs --------------------------------------------------------------------------------

    def load(self, item) -> tuple[np.ndarray, str, bool]:
        """A path or an (M, 3) array -> (points, source name, is_mesh)."""
        if isinstance(item, (str, Path)):
            found = read_point_file(item, self.mesh_points, self.seed)
            return found.points, str(item), found.is_mesh
        points = np.asarray(item, dtype=np.float32)
        if points.ndim != 2 or points.shape[1] != 3:
            raise ValueError(f"points must be an (M, 3) array, got shape {points.shape}")
        finite = np.isfinite(points).all(1)
        if not finite.all():
            warnings.warn(f"dropped {int((~finite).sum())} of {len(points)} points with NaN/Inf coordinates",
                          stacklevel=3)
            points = points[finite]
        if len(points) == 0:
            raise ValueError("no points to score")
        return points, "<array>", False

    # ---- running -------------------------------------------------------------------------------

    def __call__(self, points_or_path, queries, attention: bool = False) -> AffordanceResult:
        """Score one object against the queries (exclusive mode appends ``none`` when absent)."""
        return self.predict_many([points_or_path], queries, attention=attention)[0]

    def predict_many(self, items, queries, batch_size: int = 8, attention: bool = False) -> list[AffordanceResult]:
        """Score many objects, ``batch_size`` clouds per forward pass."""
        queries = normalise_queries(queries)
        loaded = [self.load(item) for item in items]
        results = []
        for start in range(0, len(loaded), batch_size):
            results += self.predict_loaded(loaded[start:start + batch_size], queries, attention)
        return results

    @torch.no_grad()
    def predict_loaded(self, loaded, queries: list[str], attention: bool = False) -> list[AffordanceResult]:
        """Score a batch of :meth:`load` outputs in one forward pass (queries already normalised)."""
        rotation = UP_AXES[self.up_axis]
        sampled, nearest_of = [], []
        for points, _, _ in loaded:
            normalised, _, _ = normalize_unit_sphere(points)
            pick = resample_indices(len(points), self.num_points, self.seed, normalised)
            sampled.append(normalised[pick] @ rotation.T)
            # every input point takes the scores of its nearest sampled point (in the normalised
            # frame, so float32 precision does not depend on the input's scale or offset)
            nearest_of.append(nearest_sampled(normalised, normalised[pick]))
        batch = torch.from_numpy(np.stack(sampled)).to(self.device)
        queries = list(queries)
        if self.exclusive and NONE_QUERY not in queries:
            queries.append(NONE_QUERY)
        # a per-query model is never asked `none`: its score follows from the other queries'
        scored = queries if self.model.config.objective == "cross_entropy" else [q for q in queries if q != NONE_QUERY]
        none_index = queries.index(NONE_QUERY) if NONE_QUERY in queries else None
        # no FPS generator: every cloud's sampling starts at its first point, so a cloud gets the
        # same result alone or in any batch
        if attention:
            logits, maps = self.model(batch, scored, return_attention=True)
        else:
            logits, maps = self.model(batch, scored), None
        if self.exclusive:
            probabilities = exclusive_probabilities(logits, self.model.config.objective, none_index, self.threshold)
        else:
            probabilities = query_probabilities(logits, "bce_dice")
            if none_index is not None:  # P(none) = 1 - the most probable other query
                rest = 1 - probabilities.max(dim=1, keepdim=True).values
                probabilities = torch.cat([probabilities[:, :none_index], rest, probabilities[:, none_index:]], 1)
        probabilities = probabilities.transpose(1, 2).cpu().numpy()  # (B, N, K)
        if maps is not None and none_index is not None and len(scored) < len(queries):
            # attention rows follow the scored queries; `none` has no attention map
            maps = torch.cat([maps[:, :, :none_index], torch.zeros_like(maps[:, :, :1]), maps[:, :, none_index:]], 2)
        results = []
        for b, ((points, source, is_mesh), nearest) in enumerate(zip(loaded, nearest_of)):
            scores = probabilities[b][nearest].astype(np.float32)
            result = AffordanceResult(points.astype(np.float32), scores, self._labels(scores, none_index),
                                      queries, source, is_mesh, up_axis=self.up_axis, exclusive=self.exclusive,
                                      threshold=self.threshold)
            if maps is not None and maps.shape[1] > 0:
                result.attention = self._attention_at_points(maps[b].cpu().numpy(), nearest)
            results.append(result)
        return results

    def _labels(self, scores: np.ndarray, none_index: int | None) -> np.ndarray:
        """(M, K) scores -> (M,) labels: argmax (exclusive), or the best query reaching the threshold,
        else `none`'s index when it was asked, else -1 (multi-label)."""
        if self.exclusive:
            return scores.argmax(1).astype(np.int64)
        candidates = scores.copy()
        if none_index is not None:
            candidates[:, none_index] = -1.0
        labels = candidates.argmax(1)
        below = candidates.max(1) < self.threshold
        labels[below] = NO_LABEL if none_index is None else none_index
        return labels.astype(np.int64)

    @staticmethod
    def _attention_at_points(maps, nearest) -> dict:
        """(L, K, N) attention over the sampled points -> (L, K, M) at the input points."""
        per_point = maps[:, :, nearest].astype(np.float32)
        return {"per_block": per_point, "overall": per_point.mean(0)}


def _checkpoint_num_points(directory: Path) -> int | None:
    import json

    meta = json.loads((directory / "config.json").read_text())
    return meta.get("num_points")
