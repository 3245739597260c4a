"""How large the predicted regions are against the labels: in-domain per affordance, and on real grasp marks.

    python benchmarks/region_size.py --data data/synthetic                      # the shipped model
    python benchmarks/region_size.py --data data/synthetic --checkpoint runs/x/best --json out.json

In-domain (the procedural val split, full shapes, 2,048 points): per affordance, the points scored >= the
threshold over all objects that have it, divided by the points its labels mark (the hard label,
the generator's core), and the label IoU. Two thresholds, both fixed before looking at any result:
0.5, and w / (1 + w) for an affordance whose positives the loss weights by w (the training
data's class weights): with that weight, BCE's optimum puts a point whose true chance is one half
at w / (1 + w), so this threshold undoes the weighting; it is derived, not fitted. Also the
in-domain ROC-AUC per (category, affordance), printed for the grasp of the five grasp-voxels classes.

Real objects (``--real-data``/grasp-voxels-dev, evaluation only; never used to choose anything):
per class, the points scored ``grasp`` >= each threshold divided by the points people marked, and
the mean IoU of the two.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from grasp_voxels import DEFAULT_DATA, judge_queries, read_objects  # noqa: E402


def loss_thresholds(data: str) -> dict[str, float]:
    """w / (1 + w) per affordance, w its class weight in the training split's loss."""
    from lmad.data.sources import read_split

    train = read_split("synthetic", data, "train", task="full")
    return {name: float(w / (1 + w)) for name, w in zip(train.class_names, train.class_weights()) if name != "none"}


def in_domain(detector, data: str, thresholds: dict[str, float]) -> dict:
    from lmad.data.sources import read_split
    from lmad.eval import roc_auc

    val = read_split("synthetic", data, "val", task="full")
    names = list(val.class_names)
    totals: dict[str, dict[str, float]] = {}
    aucs: dict[str, list[float]] = {}  # "Category affordance" -> per-object ROC-AUC
    for record in val.records:
        present = [i for i in np.unique(record.labels) if names[i] != "none"]
        result = detector(np.asarray(record.points, np.float64), [names[i] for i in present])
        for k, i in enumerate(present):
            label = record.labels == i
            aucs.setdefault(f"{record.category} {names[i]}", []).append(roc_auc(result.scores[:, k], label))
            row = totals.setdefault(names[i], {"label": 0.0, "objects": 0})
            row["label"] += label.sum()
            row["objects"] += 1
            for rule, cut in (("0.5", 0.5), ("w/(1+w)", thresholds[names[i]])):
                region = result.scores[:, k] >= cut
                row[f"predicted {rule}"] = row.get(f"predicted {rule}", 0.0) + region.sum()
                row[f"IoU sum {rule}"] = row.get(f"IoU sum {rule}", 0.0) + (region & label).sum() / max((region | label).sum(), 1)
    report = {"AUC per category": {key: float(np.mean(values)) for key, values in sorted(aucs.items())}}
    for name, row in sorted(totals.items()):
        report[name] = {"objects": row["objects"], "threshold w/(1+w)": thresholds[name]}
        for rule in ("0.5", "w/(1+w)"):
            report[name][f"ratio {rule}"] = float(row[f"predicted {rule}"] / max(row["label"], 1))
            report[name][f"IoU {rule}"] = float(row[f"IoU sum {rule}"] / row["objects"])
    return report


def real_grasp(detector, folder: Path, threshold: float) -> dict:
    queries = judge_queries()
    detector = detector.with_options(up_axis="y")
    per_class: dict[str, dict[str, list]] = {}
    for _, points, mask, category in read_objects(folder):
        scores = detector(points, queries).scores[:, queries.index("grasp")]
        row = per_class.setdefault(category, {})
        for rule, cut in (("0.5", 0.5), ("w/(1+w)", threshold)):
            region = scores >= cut
            row.setdefault(f"ratio {rule}", []).append(region.sum() / max(mask.sum(), 1))
            row.setdefault(f"IoU {rule}", []).append((region & mask).sum() / max((region | mask).sum(), 1))
    report = {category: {key: float(np.mean(values)) for key, values in row.items()} | {"objects": len(row["IoU 0.5"])}
              for category, row in sorted(per_class.items())}
    for rule in ("0.5", "w/(1+w)"):
        report.setdefault("all", {})[f"IoU {rule}"] = float(np.mean([v for row in per_class.values()
                                                                      for v in row[f"IoU {rule}"]]))
    return report


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", help="a checkpoint folder (default: the shipped model)")
    parser.add_argument("--data", default="data/synthetic", help="a lmad synth folder (val split; train split's weights)")
    parser.add_argument("--real-data", default=str(DEFAULT_DATA), help="folder holding grasp-voxels-dev/")
    parser.add_argument("--tta", type=int, default=1, help="test-time views (default 1: the model's own answer)")
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args(argv)
    from lmad.predict import AffordanceDetector

    detector = AffordanceDetector.from_pretrained(args.checkpoint, device="cpu", tta=args.tta)
    thresholds = loss_thresholds(args.data)
    figures = {"in_domain": in_domain(detector, args.data, thresholds)}
    print("in-domain (procedural val, full shapes): predicted / label points, label IoU")
    print(f"  {'affordance':12s} {'objects':>7s}  {'ratio@0.5':>9s} {'IoU@0.5':>8s}   {'w/(1+w)':>7s} {'ratio':>6s} {'IoU':>6s}")
    for name, row in figures["in_domain"].items():
        if name == "AUC per category":
            continue
        print(f"  {name:12s} {row['objects']:7d}  {row['ratio 0.5']:9.2f} {row['IoU 0.5']:8.3f}   "
              f"{row['threshold w/(1+w)']:7.3f} {row['ratio w/(1+w)']:6.2f} {row['IoU w/(1+w)']:6.3f}")
    per_category = figures["in_domain"]["AUC per category"]
    print("in-domain ROC-AUC of the grasp-voxels classes' grasp: " + ", ".join(
        f"{key} {value:.3f}" for key, value in per_category.items()
        if key.endswith(" grasp") and key.split()[0] in ("Knife", "Mug", "Chair", "Lamp", "Guitar")))
    folder = Path(args.real_data) / "grasp-voxels-dev"
    if folder.is_dir():
        figures["grasp_voxels_dev"] = real_grasp(detector, folder, thresholds["grasp"])
        print(f"grasp-voxels-dev (evaluation only): predicted / marked grasp points, IoU "
              f"(w/(1+w) = {thresholds['grasp']:.3f})")
        for category, row in figures["grasp_voxels_dev"].items():
            if category == "all":
                print(f"  all          IoU {row['IoU 0.5']:.3f} at 0.5, {row['IoU w/(1+w)']:.3f} at w/(1+w)")
                continue
            print(f"  {category:12s} ratio {row['ratio 0.5']:.2f} IoU {row['IoU 0.5']:.3f} at 0.5;  "
                  f"ratio {row['ratio w/(1+w)']:.2f} IoU {row['IoU w/(1+w)']:.3f} at w/(1+w)")
    else:
        print(f"grasp-voxels-dev not found under {args.real_data}: real-object part skipped")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main()
