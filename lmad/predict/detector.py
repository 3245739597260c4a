"""The inference pipeline: ``AffordanceDetector``.

    path or (M, 3) array -> rows read in float64 (meshes surface-sampled; NaN/Inf rows marked
    invalid, kept in place) -> centred and scaled into the unit sphere (float64 until scaled)
    -> turned y-up -> N points by farthest point sampling among candidates ordered by a hash
    of their coordinates, so row order does not matter (or repeats when M < N) -> batches of
    clouds -> model -> per-query probabilities at the N points -> carried to every valid row
    (nearest sampled point) -> labels, row for row with the input

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

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from lmad.data.files import DEFAULT_MESH_POINTS, PointFile, check_points, points_from_array, read_point_file
from lmad.data.resample import nearest_sampled, resample_indices, sampling_candidates
from lmad.data.transforms import normalize_unit_sphere, rotation_about_y, up_axis_rotation
from lmad.models.scoring import exclusive_probabilities, query_probabilities
from lmad.predict import DEFAULT_VIEWS
from lmad.predict.result import NO_LABEL, AffordanceResult
from lmad.queries import NONE_QUERY, parse_queries


@dataclass
class PreparedInput:
    """One input made ready for the model (:meth:`AffordanceDetector.prepare`): the sampled points
    once, seen in one view per test-time augmentation."""

    source: str
    read: PointFile
    sampled: list[np.ndarray]  # per view (N, 3) float32: the sample, normalised, y-up, turned about y
    nearest: np.ndarray  # (M_valid,) each valid row's nearest point of the sample (its first view's order)
    starts: list[int]  # per view, where in the first view's order its rows start (np.roll by -start)


class AffordanceDetector:
    """Run a trained LM-AD model on point clouds or mesh files.

    Example::

        det = AffordanceDetector.from_pretrained()           # the shipped model
        result = det("mug.obj", ["grasp", "pour"])            # or an (M, 3) array
        result.scores[:, 0]                                   # P(grasp) per point, whatever else is asked
        result.labels                                         # index into result.queries, -1: none

    ``exclusive=None`` follows the model: multi-label for per-query (``bce_dice``) models,
    exclusive for ``cross_entropy`` ones (their scores are only meaningful as a softmax).
    ``tta=T`` averages T views of each object: its sampled points turned about the up axis by
    360/T degrees each and listed from another start (so the backbone picks other centres); the
    sampling and the carry-back are done once, the model runs T clouds in one batch. The default
    is ``lmad.predict.DEFAULT_VIEWS``, ``tta=1`` the fastest.
    """

    def __init__(self, model, device: str | torch.device = "cpu", num_points: int = 2048, seed: int = 0,
                 mesh_points: int = DEFAULT_MESH_POINTS, up_axis: str = "y", threshold: float = 0.5,
                 exclusive: bool | None = None, tta: int = DEFAULT_VIEWS):
        if tta < 1:
            raise ValueError(f"tta must be at least 1 (views per object), got {tta}")
        self.tta = tta
        minimum = model.backbone.min_points
        if num_points < minimum:
            raise ValueError(f"num_points must be at least {minimum} for this model (its backbone samples "
                             f"{minimum} centres per cloud), got {num_points}")
        if mesh_points < 1:
            raise ValueError(f"mesh_points must be positive, got {mesh_points}")
        self.device = torch.device(device)
        self.model = model.to(self.device).eval()
        self.num_points = num_points
        self.seed = seed
        self.mesh_points = mesh_points
        # carry scores back with a KD-tree at every size (a service: scipy.spatial loaded once);
        # False: dense distance rows for small clouds, sparing one prediction that import
        self.kd_tree_carry_back = False
        self._set_reading(up_axis, threshold, exclusive)

    def _set_reading(self, up_axis: str, threshold: float, exclusive: bool | None) -> None:
        """How inputs are turned and scores read; checked here for the constructor and ``with_options``."""
        up_axis_rotation(up_axis)  # refuses an unknown axis
        if not 0 < threshold < 1:
            raise ValueError(f"threshold must be strictly between 0 and 1, got {threshold}")
        per_query = self.model.config.objective == "bce_dice"
        if exclusive is False and not per_query:
            raise ValueError("this model was trained with a softmax over its classes (objective cross_entropy): "
                             "its scores are only meaningful exclusively; use exclusive=True (--exclusive)")
        self.exclusive = (not per_query) if exclusive is None else exclusive
        self.threshold = threshold
        self.up_axis = up_axis

    def with_options(self, up_axis: str | None = None, threshold: float | None = None,
                     exclusive: bool | None = None, tta: int | None = None) -> "AffordanceDetector":
        """A detector sharing this one's model, with other reading options (None: keep this one's,
        except ``exclusive=None``, which follows the model)."""
        from copy import copy

        other = copy(self)
        other._set_reading(self.up_axis if up_axis is None else up_axis,
                           self.threshold if threshold is None else threshold, exclusive)
        if tta is not None:
            if tta < 1:
                raise ValueError(f"tta must be at least 1 (views per object), got {tta}")
            other.tta = tta
        return other

    @classmethod
    def from_pretrained(cls, directory: str | Path | None = None, device: str | torch.device | None = None,
                        **kwargs) -> "AffordanceDetector":
        """Load a checkpoint folder; with none given, the model shipped in the package.

        ``device``: ``"auto"``/None (CUDA when available), ``"cpu"`` or ``"cuda"``. Other keyword
        arguments go to the constructor; ``num_points`` defaults to the checkpoint's.
        """
        from lmad.checkpoints import default_checkpoint_dir, num_points, read_metadata
        from lmad.models import LMAD
        from lmad.runtime import choose_device

        directory = Path(directory) if directory is not None else default_checkpoint_dir()
        device = choose_device(device) if not isinstance(device, torch.device) else device
        meta = read_metadata(directory)  # config.json, read once for the model and its points per cloud
        model = LMAD.from_pretrained(directory, map_location=device, meta=meta)
        kwargs.setdefault("num_points", num_points(meta))
        return cls(model, device, **kwargs)

    # ---- inputs --------------------------------------------------------------------------------

    def load(self, item) -> tuple[PointFile, str]:
        """A path or an (M, 3) array -> (its rows, as read and checked; a name for messages)."""
        if isinstance(item, (str, Path)):
            return read_point_file(item, self.mesh_points, self.seed), str(item)
        points, notes = points_from_array(item, "<array>")
        return check_points(points, "<array>", notes=notes), "<array>"

    def prepare(self, item) -> PreparedInput:
        """Read one input, normalise it and sample its view(s): the work before the model, per
        object (a service runs it for many requests at once, beside the model's batches)."""
        read, source = self.load(item)
        rows = read.points if read.valid.all() else read.points[read.valid]  # no copy of a clean cloud
        normalised, _, _ = normalize_unit_sphere(rows)  # float64 until centred and scaled
        upright = normalised @ up_axis_rotation(self.up_axis).T.astype(normalised.dtype)  # exact: 0 and +-1
        # the same points in any row order, scale or position: the same candidates in the same
        # order, the same answer
        candidates = sampling_candidates(upright)
        pick = candidates[resample_indices(len(candidates), self.num_points, self.seed, upright[candidates])]
        # every valid row takes the scores of its nearest sampled point (in the normalised frame, so
        # float32 precision does not depend on the input's scale or offset); turning about the up
        # axis moves no point nearer another, so one search serves every view
        nearest = nearest_sampled(normalised, normalised[pick], kd_tree=self.kd_tree_carry_back)
        # view v: the same points turned by v/T of a full turn, listed from another start so that
        # the backbone's own sampling (from each cloud's first point) picks other centres
        starts = [len(pick) * view // self.tta for view in range(self.tta)]
        sampled = [(upright[np.roll(pick, -start)] @ rotation_about_y(2 * np.pi * view / self.tta).T)
                   .astype(np.float32) for view, start in enumerate(starts)]
        return PreparedInput(source, read, sampled, nearest, starts)

    # ---- running -------------------------------------------------------------------------------

    def __call__(self, points_or_path, queries, attention: bool = False) -> AffordanceResult:
        """Score one object against the queries (a list, or one comma-separated string)."""
        return self.predict_many([points_or_path], queries, attention=attention)[0]

    def predict_many(self, items, queries, batch_size: int = 8, attention: bool = False) -> list[AffordanceResult]:
        """Score many objects, ``batch_size`` clouds per forward pass; the first failure raises."""
        return [outcome for _, outcome in self.iter_predictions(items, queries, batch_size, attention)]

    def iter_predictions(self, items, queries, batch_size: int = 8, attention: bool = False,
                         skip_errors: bool = False):
        """Yield ``(index, AffordanceResult)`` for each item, ``batch_size`` clouds per forward pass.

        With ``skip_errors`` a failing item yields ``(index, exception)`` and the others go on
        (whatever the exception; an interrupt still stops the run). Results of one batch come
        together, so indices can arrive out of order.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        queries = parse_queries(queries)
        pending = []
        for index, item in enumerate(items):
            try:
                pending.append((index, self.prepare(item)))
            except Exception as error:  # noqa: BLE001 - one bad input must not stop the others
                if not skip_errors:
                    raise
                yield index, error
            if len(pending) == batch_size:
                yield from self._run_batch(pending, queries, attention, skip_errors)
                pending = []
        if pending:
            yield from self._run_batch(pending, queries, attention, skip_errors)

    def _run_batch(self, pending, queries, attention, skip_errors):
        try:
            results = self.score_prepared([prepared for _, prepared in pending], queries, attention)
        except Exception as error:  # noqa: BLE001
            if not skip_errors:
                raise
            results = [error] * len(pending)
        for (index, _), outcome in zip(pending, results):
            yield index, outcome

    @torch.no_grad()
    def score_prepared(self, prepared: list[PreparedInput], queries, attention: bool = False,
                       forward=None) -> list[AffordanceResult]:
        """Score inputs made ready by :meth:`prepare` in one forward pass (a list of queries or
        one comma-separated string). ``forward``: what runs the model, ``(batch (B, N, 3),
        names) -> logits (B, K, N)``; default this detector's model, in this process (a
        service passes a :class:`lmad.predict.model_process.ModelProcess`)."""
        queries = parse_queries(queries)
        if self.exclusive and NONE_QUERY not in queries:
            queries.append(NONE_QUERY)
        objective = self.model.config.objective
        # a per-query model is never asked `none`: its score follows from the other queries'
        scored = queries if objective == "cross_entropy" else [q for q in queries if q != NONE_QUERY]
        none_index = queries.index(NONE_QUERY) if NONE_QUERY in queries else None
        batch = torch.from_numpy(np.stack([view for p in prepared for view in p.sampled])).to(self.device)
        # no FPS generator: every cloud's sampling starts at its first point, so a cloud gets the
        # same result alone or in any batch
        if attention:
            logits, maps = self.model(batch, scored, return_attention=True)
        else:
            logits, maps = (forward or self.model)(batch, scored), None
        if self.exclusive:
            probabilities = exclusive_probabilities(logits, objective, none_index, self.threshold)
        else:
            probabilities = query_probabilities(logits, objective)
            if none_index is not None:  # P(none) = 1 - the most probable other query
                rest = 1 - probabilities.max(dim=1, keepdim=True).values
                probabilities = torch.cat([probabilities[:, :none_index], rest, probabilities[:, none_index:]], 1)
        probabilities = probabilities.transpose(1, 2).cpu().numpy()  # (B, N, K)
        if maps is not None and none_index is not None and len(scored) < len(queries):
            # attention rows follow the scored queries; `none` has no attention map
            maps = torch.cat([maps[:, :, :none_index], torch.zeros_like(maps[:, :, :1]), maps[:, :, none_index:]], 2)
        maps = None if maps is None else maps.cpu().numpy()
        results = []
        for b, item in enumerate(prepared):
            read = item.read
            views = range(b * self.tta, (b + 1) * self.tta)  # this object's views in the batch
            scores = np.full((len(read.points), len(queries)), np.nan, dtype=np.float32)
            scores[read.valid] = _average_views(probabilities, views, item, axis=0)
            labels = np.full(len(read.points), NO_LABEL, dtype=np.int64)
            labels[read.valid] = self._labels(scores[read.valid], none_index)
            result = AffordanceResult(read.points, read.valid, scores, labels, queries, item.source,
                                      read.is_mesh, up_axis=self.up_axis, exclusive=self.exclusive,
                                      threshold=self.threshold, notes=list(read.notes))
            if maps is not None and maps.shape[1] > 0:
                per_point = np.full((maps.shape[1], maps.shape[2], len(read.points)), np.nan, dtype=np.float32)
                per_point[:, :, read.valid] = _average_views(maps, views, item, axis=2)
                result.attention = {"per_block": per_point, "overall": per_point.mean(0)}
            results.append(result)
        return results

    def _labels(self, scores: np.ndarray, none_index: int | None) -> np.ndarray:
        """(M, K) scores -> (M,) labels: argmax (exclusive), or the best query reaching the threshold,
        else `none`'s index when it was asked, else -1 (multi-label)."""
        if self.exclusive:
            return scores.argmax(1)
        candidates = scores.copy()
        if none_index is not None:
            candidates[:, none_index] = -1.0
        labels = candidates.argmax(1)
        labels[candidates.max(1) < self.threshold] = NO_LABEL if none_index is None else none_index
        return labels


def _average_views(values: np.ndarray, views, item: PreparedInput, axis: int) -> np.ndarray:
    """Average one object's views of per-sampled-point values (each put back in the first view's
    order along ``axis``), then carry the average to the object's valid rows."""
    mean = sum(np.roll(values[view], start, axis=axis) for view, start in zip(views, item.starts)) / len(item.starts)
    return np.take(mean, item.nearest, axis=axis)
