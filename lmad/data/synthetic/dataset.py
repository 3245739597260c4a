"""``lmad synth``: write the procedural dataset in both 3D AffordanceNet layouts, with statistics.

    OUT/full_shape_{train,val}_data.pkl, OUT/partial_view_{train,val}_data.pkl   OpenAD layout (hard labels)
    OUT/full_shape_weights.npy, OUT/partial_view_weights.npy                      class weights (train counts)
    OUT/original/full_shape_{split}_data.pkl, OUT/original/partial_{split}_data.pkl   soft labels
    OUT/stats.json                                                                shapes, fractions, region sizes

Every object is generated from ``(seed, split, index)`` alone, so the arrays do not depend on
the number of worker processes.
"""

from __future__ import annotations

import json
import math
import os
import pickle
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from lmad.data.affordancenet import hard_labels_from_scores
from lmad.data.dataset import class_weights
from lmad.data.classes import AFFORDANCE_CLASSES, NONE_INDEX
from lmad.data.synthetic.categories import CATEGORY_AFFORDANCES, GENERATORS, REAL_CATEGORY_COUNTS
from lmad.data.synthetic.generate import (
    AFFORDANCES, NUM_POINTS, VIEWS_PER_SHAPE, lattice_samples, make_object, resample, scan_view,
)

SPLIT_IDS = {"train": 0, "val": 1, "test": 2}
FILE_NAMES = [c if c != "display" else "displaY" for c in AFFORDANCES]  # as the public files spell it


def category_plan(count: int, categories: list[str], balance: str, seed: int) -> list[str]:
    """Which category each of ``count`` shapes is, shuffled by ``seed``.

    ``real``: proportional to 3D AffordanceNet's shape counts, with a floor of max(1, count // 100)
    per category so rare ones (Scissors) still appear. ``uniform``: equal shares.
    """
    if balance not in ("real", "uniform"):
        raise ValueError(f"balance must be 'real' or 'uniform', got {balance!r}")
    if count < len(categories):
        raise ValueError(f"{count} shapes cannot cover {len(categories)} categories; ask for at least {len(categories)}")
    weights = np.array([REAL_CATEGORY_COUNTS[c] if balance == "real" else 1.0 for c in categories], dtype=np.float64)
    floor = max(1, count // 100)
    shares = np.full(len(categories), floor)
    remaining = count - shares.sum()
    extra = np.floor(weights / weights.sum() * remaining).astype(int)
    shares += extra
    for i in np.argsort(-weights)[: count - shares.sum()]:  # rounding leftovers to the largest
        shares[i] += 1
    plan = [c for c, n in zip(categories, shares) for _ in range(n)]
    np.random.default_rng(seed).shuffle(plan)
    return plan


def make_sample(args) -> dict:
    """One object: its full shape and partial views (simulated single-view scans, see
    :func:`~lmad.data.synthetic.generate.scan_view`), compact (only its category's score columns)."""
    seed, split, index, category = args
    rng = np.random.default_rng([seed, SPLIT_IDS[split], index])
    obj = make_object(category, rng)
    columns = [AFFORDANCES.index(a) for a in CATEGORY_AFFORDANCES[category]]
    full = resample(len(obj.points), NUM_POINTS, rng)
    surface = lattice_samples(obj.triangles.astype(np.float64))
    views = {}
    for view in range(VIEWS_PER_SHAPE):
        visible, noisy = scan_view(obj.points.astype(np.float64), surface, rng)
        chosen = resample(len(visible), NUM_POINTS, rng)
        views[view] = (noisy[chosen].astype(np.float32), obj.scores[visible[chosen]][:, columns])
    return {"shape_id": f"synth-{split}-{index:06d}", "category": category, "columns": columns,
            "full": (obj.points[full], obj.scores[full][:, columns]), "views": views}


def _full_scores(scores: np.ndarray, columns: list[int]) -> np.ndarray:
    out = np.zeros((len(scores), len(AFFORDANCES)), dtype=np.float32)
    out[:, columns] = scores
    return out


def generate_dataset(out: str | Path, train: int, val: int, seed: int = 0, categories: list[str] | None = None,
                     balance: str = "real", workers: int | None = None, progress: bool = True) -> dict:
    """Generate and write the dataset; returns the statistics written to ``stats.json``."""
    out = Path(out)
    categories = list(categories or GENERATORS)
    unknown = sorted(set(categories) - set(GENERATORS))
    if unknown:
        raise ValueError(f"unknown categories {unknown}; choose from {sorted(GENERATORS)}")
    for split, count in (("train", train), ("val", val)):  # every check before any work
        if count:
            category_plan(count, categories, balance, seed)
    (out / "original").mkdir(parents=True, exist_ok=True)
    workers = workers or os.cpu_count() or 1
    stats = {"seed": seed, "balance": balance, "points_per_shape": NUM_POINTS, "splits": {}}
    weights = {}
    for split, count in (("train", train), ("val", val)):
        if count == 0:
            continue
        plan = category_plan(count, categories, balance, seed + SPLIT_IDS[split])
        jobs = [(seed, split, i, c) for i, c in enumerate(plan)]
        samples = _run(jobs, workers, progress, f"synth {split}")
        records = _records(samples)
        for name, data in records.items():
            with open(out / name.format(split=split), "wb") as handle:
                pickle.dump(data, handle, protocol=4)
        split_stats = _statistics(samples)
        stats["splits"][split] = split_stats
        if split == "train":
            weights = {task: class_weights(np.array(split_stats[task]["class_counts"])) for task in ("full", "partial")}
    for folder in (out, out / "original"):
        if weights:
            np.save(folder / "full_shape_weights.npy", weights["full"])
            np.save(folder / "partial_view_weights.npy", weights["partial"])
    (out / "stats.json").write_text(json.dumps(stats, indent=2))
    return stats


def _run(jobs, workers, progress, desc):
    from tqdm.auto import tqdm

    bar = tqdm(total=len(jobs), desc=desc, unit="shape", disable=not progress)
    results = []
    if workers <= 1:
        for job in jobs:
            results.append(make_sample(job))
            bar.update()
    else:
        with ProcessPoolExecutor(workers, initializer=_single_threaded_worker) as pool:
            chunk = max(1, min(32, math.ceil(len(jobs) / (4 * workers))))
            for sample in pool.map(make_sample, jobs, chunksize=chunk):
                results.append(sample)
                bar.update()
    bar.close()
    return results


_LIMITS = []


def _single_threaded_worker() -> None:
    """One BLAS thread per worker process: with the default (every core in every worker) the
    workers' small matrix products oversubscribe the cores; a run took 2.5x longer (measured)."""
    from threadpoolctl import threadpool_limits

    _LIMITS.append(threadpool_limits(limits=1))


def _records(samples) -> dict[str, list]:
    zeros = np.zeros((NUM_POINTS, 1), dtype=np.float32)  # shared: pickled once for every absent affordance
    files = {"full_shape_{split}_data.pkl": [], "partial_view_{split}_data.pkl": [],
             "original/full_shape_{split}_data.pkl": [], "original/partial_{split}_data.pkl": []}
    for s in samples:
        head = {"shape_id": s["shape_id"], "semantic class": s["category"], "affordance": list(FILE_NAMES)}

        def soft(scores, columns=s["columns"]):
            label = {name: zeros for name in FILE_NAMES}
            for k, column in enumerate(columns):
                label[FILE_NAMES[column]] = np.ascontiguousarray(scores[:, k:k + 1], dtype=np.float32)
            return label

        def hard(scores, columns=s["columns"]):
            return hard_labels_from_scores(_full_scores(scores, columns))

        points, scores = s["full"]
        files["full_shape_{split}_data.pkl"].append({**head, "full_shape": {"coordinate": points, "label": hard(scores)}})
        files["original/full_shape_{split}_data.pkl"].append({**head, "full_shape": {"coordinate": points, "label": soft(scores)}})
        files["partial_view_{split}_data.pkl"].append(
            {**head, "partial": {v: {"coordinate": p, "label": hard(sc)} for v, (p, sc) in s["views"].items()}})
        files["original/partial_{split}_data.pkl"].append(
            {**head, "partial": {v: {"coordinate": p, "label": soft(sc)} for v, (p, sc) in s["views"].items()}})
    return files


def _statistics(samples) -> dict:
    stats = {"shapes_per_category": {}}
    for s in samples:
        stats["shapes_per_category"][s["category"]] = stats["shapes_per_category"].get(s["category"], 0) + 1
    for task in ("full", "partial"):
        counts = np.zeros(len(AFFORDANCE_CLASSES), dtype=np.int64)
        region_sizes = {a: [] for a in AFFORDANCES}
        presence = {}
        for s in samples:
            clouds = [s["full"]] if task == "full" else list(s["views"].values())
            for _, scores in clouds:
                labels = hard_labels_from_scores(_full_scores(scores, s["columns"]))
                counts += np.bincount(labels, minlength=len(AFFORDANCE_CLASSES))
                for column in s["columns"]:
                    fraction = float((labels == column).mean())
                    if fraction > 0:
                        region_sizes[AFFORDANCES[column]].append(fraction)
                    key = f"{s['category']}/{AFFORDANCES[column]}"
                    hit, total = presence.get(key, (0, 0))
                    presence[key] = (hit + int(fraction > 0), total + 1)
        total = counts.sum()
        stats[task] = {
            "class_counts": counts.tolist(),
            "point_fraction": {c: float(n / total) for c, n in zip(AFFORDANCE_CLASSES, counts)},
            "none_fraction": float(counts[NONE_INDEX] / total),
            "region_size_mean": {a: float(np.mean(v)) for a, v in region_sizes.items() if v},
            "presence": {k: h / t for k, (h, t) in presence.items()},
        }
    return stats
