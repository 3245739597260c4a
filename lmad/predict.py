"""Affordances on your own objects: ``AffordanceDetector`` and the ``lmad predict`` pipeline.

    file or (M, 3) array -> points (meshes surface-sampled) -> normalised into the unit sphere
    -> N points by farthest point sampling (or repeats when M < N) -> model -> per-query
    probabilities at the N points -> carried to all M points (nearest sampled point)
    -> labels = argmax, in the input's own coordinates and order.

Input of any scale and position gives the same labels: normalisation is internal.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from lmad.data import nearest_sampled, normalize_unit_sphere, read_point_file, resample_indices

DEFAULT_NUM_POINTS = 2048
NONE_QUERY = "none"
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
    scores: (M, K) float32 per-query probabilities (softmax over the K queries, ``none`` included)
    labels: (M,) int64 index of the winning query
    queries: the K queries
    attention: optional {"per_block": (L, K, M), "overall": (K, M)} AQM attention over the points
    """

    points: np.ndarray
    scores: np.ndarray
    labels: np.ndarray
    queries: list[str]
    source: str = ""
    is_mesh: bool = False
    attention: dict = field(default_factory=dict)
    up_axis: str = "y"  # which input axis is up: pictures show the object upright

    def upright_points(self) -> np.ndarray:
        """(M, 3) the points rotated so that up is y, for display (results stay in input coordinates)."""
        return self.points @ UP_AXES[self.up_axis].T

    def summary(self) -> dict:
        """Per query: points, fraction, centroid, bounding box, mean score (for robots and scripts)."""
        out = {}
        for k, query in enumerate(self.queries):
            mask = self.labels == k
            entry = {"points": int(mask.sum()), "fraction": float(mask.mean()),
                     "mean_score": float(self.scores[mask, k].mean()) if mask.any() else 0.0}
            if mask.any():
                selected = self.points[mask]
                entry.update(centroid=selected.mean(0).tolist(), bbox_min=selected.min(0).tolist(),
                             bbox_max=selected.max(0).tolist())
            out[query] = entry
        return {"source": self.source, "num_points": int(len(self.points)), "queries": out}


def normalise_queries(queries) -> list[str]:
    """Split a comma-separated string, strip, drop empties and append ``none`` when absent."""
    if isinstance(queries, str):
        queries = queries.split(",")
    queries = [q.strip() for q in queries if q and q.strip()]
    if not queries:
        raise ValueError("give at least one query, e.g. ['grasp', 'pour']")
    if NONE_QUERY not in queries:
        queries.append(NONE_QUERY)
    return queries


class AffordanceDetector:
    """Run a trained LM-AD model on point clouds or mesh files.

    Example::

        det = AffordanceDetector.from_pretrained()           # the shipped model
        result = det("mug.obj", ["grasp", "pour"])            # or an (M, 3) array
        result.labels, result.scores, result.queries          # queries gain "none"
    """

    def __init__(self, model, device: str | torch.device = "cpu", num_points: int = DEFAULT_NUM_POINTS,
                 seed: int = 0, mesh_points: int = 10_000, up_axis: str = "y"):
        if up_axis not in UP_AXES:
            raise ValueError(f"up_axis must be one of {sorted(UP_AXES)}, got {up_axis!r}")
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
        """Score one object against the queries (``none`` is appended when absent)."""
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
        # no FPS generator: every cloud's sampling starts at its first point, so a cloud gets the
        # same result alone or in any batch
        if attention:
            logits, maps = self.model(batch, queries, return_attention=True)
        else:
            logits, maps = self.model(batch, queries), None
        probabilities = torch.softmax(logits.float(), dim=1).transpose(1, 2).cpu().numpy()  # (B, N, K)
        results = []
        for b, ((points, source, is_mesh), nearest) in enumerate(zip(loaded, nearest_of)):
            scores = probabilities[b][nearest].astype(np.float32)
            result = AffordanceResult(points.astype(np.float32), scores, scores.argmax(1).astype(np.int64),
                                      list(queries), source, is_mesh, up_axis=self.up_axis)
            if maps is not None and maps.shape[1] > 0:
                result.attention = self._attention_at_points(maps[b].cpu().numpy(), nearest)
            results.append(result)
        return results

    @staticmethod
    def _attention_at_points(maps, nearest) -> dict:
        """(L, K, N) attention over the sampled points -> (L, K, M) at the input points."""
        per_point = maps[:, :, nearest].astype(np.float32)
        return {"per_block": per_point, "overall": per_point.mean(0)}


def _checkpoint_num_points(directory: Path) -> int | None:
    import json

    meta = json.loads((directory / "config.json").read_text())
    return meta.get("num_points")
