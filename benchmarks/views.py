"""Test-time views: how much averaging headings buys, on procedural objects only, and what it costs.

    python benchmarks/views.py --data data/synthetic                    # the shipped model
    python benchmarks/views.py --data data/synthetic --checkpoint runs/x/best --views 1,2,4,8
    python benchmarks/views.py --timing-only                            # `lmad predict` wall times

Accuracy (the procedural val split, never the real objects, so that the default is not chosen on
the objects that judge it): ``--objects`` val shapes, two per category, each as the generator gives
it (2,048 points) and as a voxel lattice of 32 cells along its longest side (as grasp-voxels
stores objects: a few hundred points, thin parts one cell thick). Each is turned to 4 headings
about up (0, 90, 180, 270 degrees) and scored with ``tta`` = V views; per object the mean ROC-AUC
of its present affordances against their labels. Printed per V and form: the mean AUC, and how
many objects change AUC by more than 0.2 (and 0.1) over the 4 headings, and each V's per-object
difference from the first V with its 95 % bootstrap interval (objects resampled within each
category; better / worse only when it excludes 0).

Time: the wall time of ``lmad predict`` on a 20,000-point file (3 queries) per V, median of
``--repeats`` fresh processes (what a user waits for, start-up included).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from grasp_voxels import bootstrap_interval, object_mean  # noqa: E402

HEADINGS = (0.0, 90.0, 180.0, 270.0)
LATTICE_CELLS = 32


def procedural_objects(root: str, count: int) -> list[dict]:
    """``count`` val shapes, an equal number per category (in the split's order)."""
    from lmad.data.sources import read_split

    records = read_split("synthetic", root, "val", task="full").records
    per_category = max(1, count // len({r.category for r in records}))
    chosen, seen = [], {}
    for record in records:
        if seen.get(record.category, 0) < per_category:
            seen[record.category] = seen.get(record.category, 0) + 1
            chosen.append(record)
    return chosen[:count]


def heading_scores(detector, points: np.ndarray, labels: np.ndarray, class_names: list[str]) -> list[float]:
    """Mean AUC over the object's present affordances, at each of the 4 headings."""
    from lmad.data.transforms import rotation_about_y
    from lmad.eval import roc_auc

    present = [i for i in np.unique(labels) if class_names[i] != "none"]
    queries = [class_names[i] for i in present]  # each query is scored on its own: others change nothing
    out = []
    for degrees in HEADINGS:
        turned = points @ rotation_about_y(np.deg2rad(degrees)).T.astype(np.float64)
        result = detector(turned, queries)
        out.append(float(np.mean([roc_auc(result.scores[:, k], labels == i) for k, i in enumerate(present)])))
    return out


def accuracy(checkpoint: str | None, data: str, views: list[int], count: int) -> dict:
    from lmad.data.transforms import voxel_lattice
    from lmad.predict import AffordanceDetector

    base = AffordanceDetector.from_pretrained(checkpoint, device="cpu")
    from lmad.data.sources import read_split

    objects = procedural_objects(data, count)
    strata = np.array([record.category for record in objects])  # paired intervals resample within each category
    class_names = list(read_split("synthetic", data, "val", task="full").class_names)
    forms = {"as generated": lambda r: (r.points, r.labels),
             f"lattice {LATTICE_CELLS}^3": lambda r: voxel_lattice(r.points, r.labels, None, LATTICE_CELLS,
                                                                 len(class_names))[:2]}
    report = {}
    for form, make in forms.items():
        clouds = [make(r) for r in objects]
        means: dict[int, np.ndarray] = {}
        for v in views:
            detector = base.with_options(tta=v)
            tick = time.perf_counter()
            per_object = [heading_scores(detector, np.asarray(p, np.float64), np.asarray(l), class_names)
                          for p, l in clouds]
            ranges = np.array([max(s) - min(s) for s in per_object])
            means[v] = np.array([np.mean(s) for s in per_object])
            report[f"{form}, tta={v}"] = {
                "objects": len(clouds), "points_median": int(np.median([len(p) for p, _ in clouds])),
                "mean_AUC": float(np.mean(per_object)), "range_above_0.2": int((ranges > 0.2).sum()),
                "range_above_0.1": int((ranges > 0.1).sum()), "seconds": time.perf_counter() - tick}
            row = report[f"{form}, tta={v}"]
            print(f"{form:16s} tta={v}: mean AUC {row['mean_AUC']:.3f}; heading range > 0.2: {row['range_above_0.2']} "
                  f"of {row['objects']}, > 0.1: {row['range_above_0.1']} (median {row['points_median']} points)",
                  flush=True)
            if v != views[0]:  # paired over the same objects, headings averaged per object
                difference = means[v] - means[views[0]]
                low, high = bootstrap_interval(difference, strata, object_mean)
                row[f"AUC minus tta={views[0]}"] = [float(difference.mean()), low, high]
                print(f"{'':16s}   tta={v} - tta={views[0]}: {difference.mean():+.4f} [{low:+.4f}, {high:+.4f}]"
                      f" ({'better' if low > 0 else 'worse' if high < 0 else 'not measured'})", flush=True)
    return report


def predict_times(views: list[int], repeats: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix="lmad-views-"))
    rng = np.random.default_rng(0)
    np.save(work / "scan.npy", rng.normal(size=(20_000, 3)).astype(np.float32))
    times = {}
    for v in views:
        command = [sys.executable, "-m", "lmad", "predict", str(work / "scan.npy"), "--queries", "grasp,contain,pour",
                   "--out", str(work / "out"), "--format", "npz", "--device", "cpu", "--tta", str(v)]
        walls = []
        for _ in range(repeats):
            tick = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True, env=dict(os.environ))
            walls.append(time.perf_counter() - tick)
        times[f"tta={v}"] = statistics.median(walls)
        print(f"lmad predict, 20,000 points, tta={v}: {times[f'tta={v}']:.2f} s (median of {repeats}; "
              f"{', '.join(f'{w:.2f}' for w in walls)})", flush=True)
    return times


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", help="a checkpoint folder (default: the shipped model)")
    parser.add_argument("--data", default="data/synthetic", help="a lmad synth folder (its val split is used)")
    parser.add_argument("--views", default="1,2,4", help="tta values to compare")
    parser.add_argument("--objects", type=int, default=56, help="val shapes (an equal number per category)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--timing-only", action="store_true")
    parser.add_argument("--accuracy-only", action="store_true")
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args(argv)
    views = [int(v) for v in args.views.split(",")]
    figures = {}
    if not args.timing_only:
        figures["accuracy"] = accuracy(args.checkpoint, args.data, views, args.objects)
    if not args.accuracy_only:
        figures["predict_20k_wall_s"] = predict_times(views, args.repeats)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main()
