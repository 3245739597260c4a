"""Does the answer depend on which way a real object faces? grasp-voxels-dev turned about up.

    python benchmarks/headings.py                                  # the shipped model, default views
    python benchmarks/headings.py --checkpoint runs/x/best --tta 1,4

Every grasp-voxels-dev object (evaluation only) turned by 0, 90, 180 and 270 degrees about up
and scored as a user's call scores it (the 18 names asked, ``--tta`` views); per object the range
of the ``grasp`` ROC-AUC over the four headings. Printed per tta: how many objects have a range
above 0.2 (the project's target: at most 5 of 100 with the defaults), the median range, and the
mean AUC over the headings; for each further tta, its per-object difference from the first (the
AUC as given, the mean over the headings, the worst heading) with a 95 % interval, objects
resampled within each class, and the verdict.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from grasp_voxels import DEFAULT_DATA, bootstrap_interval, judge_queries, object_mean, read_objects  # noqa: E402


def heading_ranges(detector, folder: Path) -> dict:
    from lmad.data.transforms import rotation_about_y
    from lmad.eval import roc_auc

    queries = judge_queries()
    detector = detector.with_options(up_axis="y")
    per_object, categories = {}, {}
    for name, points, mask, category in read_objects(folder):
        aucs = []
        for quarter in range(4):
            turned = points @ rotation_about_y(np.pi / 2 * quarter).astype(np.float64).T
            result = detector(turned, queries)
            aucs.append(roc_auc(result.scores[:, result.queries.index("grasp")], mask))
        per_object[name], categories[name] = aucs, category
    ranges = np.array([max(a) - min(a) for a in per_object.values()])
    return {"objects": len(ranges), "range_above_0.2": int((ranges > 0.2).sum()),
            "median_range": float(np.median(ranges)),
            "mean_AUC": float(np.mean([np.mean(a) for a in per_object.values()])), "per_object": per_object,
            "category": categories}


# per object, from its AUCs at the four headings
SUMMARIES = {"as given": lambda aucs: aucs[0], "mean over headings": np.mean, "worst heading": min}


def paired_differences(first: dict, other: dict) -> dict:
    """other - first per object for each summary of the four headings, with a 95 % interval
    (objects resampled within each class) and the verdict."""
    names = sorted(first["per_object"])
    strata = np.array([first["category"][n] for n in names])
    out = {}
    for label, summary in SUMMARIES.items():
        difference = np.array([summary(other["per_object"][n]) - summary(first["per_object"][n]) for n in names])
        low, high = bootstrap_interval(difference, strata, object_mean)
        verdict = "better" if low > 0 else "worse" if high < 0 else "not measured"
        out[label] = {"difference": float(difference.mean()), "low": low, "high": high, "verdict": verdict}
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", help="a checkpoint folder (default: the shipped model)")
    parser.add_argument("--tta", help="comma-separated views to compare (default: the detector's default)")
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="folder holding grasp-voxels-dev/")
    parser.add_argument("--json", help="write the figures here")
    args = parser.parse_args(argv)
    from lmad.predict import AffordanceDetector

    folder = Path(args.data) / "grasp-voxels-dev"
    if not folder.is_dir():
        sys.exit(f"{folder} not found: see benchmarks/README.md for the grasp-voxels objects")
    detector = AffordanceDetector.from_pretrained(args.checkpoint, device="cpu")
    views = [int(v) for v in args.tta.split(",")] if args.tta else [detector.tta]
    figures = {}
    for tta in views:
        row = heading_ranges(detector.with_options(tta=tta), folder)
        figures[f"tta={tta}"] = row
        print(f"tta={tta}{' (default)' if tta == detector.tta else ''}: {row['range_above_0.2']} of {row['objects']} "
              f"objects with a grasp AUC range > 0.2 over 4 headings; median range {row['median_range']:.3f}; "
              f"mean AUC over the headings {row['mean_AUC']:.3f}", flush=True)
        if tta != views[0]:
            row[f"minus tta={views[0]}"] = paired_differences(figures[f"tta={views[0]}"], row)
            for label, d in row[f"minus tta={views[0]}"].items():
                print(f"  tta={tta} - tta={views[0]}, {label}: {d['difference']:+.4f} [{d['low']:+.4f}, "
                      f"{d['high']:+.4f}] {d['verdict']}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main()
