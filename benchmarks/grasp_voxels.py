"""Grasp regions on real objects, with confidence intervals: a checkpoint against people's marks.

    python benchmarks/grasp_voxels.py                                  # the shipped model
    python benchmarks/grasp_voxels.py --checkpoint runs/x/best --label x
    python benchmarks/grasp_voxels.py --compare runs/a/best runs/b/best   # paired differences
    python benchmarks/grasp_voxels.py --compare-saved shipped "shipped, 4 views"   # two saved runs
    python benchmarks/grasp_voxels.py --data /path/to/data              # where the sets are

The data: grasp-voxels (Li, Schomaker & Kasaei, RO-MAN 2020, GitHub yikun-li/pc-3d-grasp-ds,
``dataset.zip``): real objects as voxel-centre clouds with human-annotated grasp masks, prepared
as ``<data>/grasp-voxels-dev/`` (100 objects, 20 each of mug, knife, chair, lamp, guitar) and
``<data>/grasp-voxels-dev-extra/`` (351 more of the same source), each object an ``.npz`` with
``points`` (M, 3, +y up), ``grasp`` (M,) 0/1 and ``category``. The default ``--data`` is
``../shared/data`` beside the checkout. Evaluation only: never train or tune on these.

Per object: ROC-AUC of the grasp score against the mask, IoU of the grasp region (score >= the
detector's threshold) with it, and a hit (IoU >= 0.25). Every figure comes with a 95 %
bootstrap interval over objects, resampled within each class (2,000 resamples, seeded);
``--compare A B`` gives B - A per object on the same objects and the interval of its mean, and
calls a difference better or worse only when that interval excludes 0.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data"
SETS = ("grasp-voxels-dev", "grasp-voxels-dev-extra")
RESAMPLES = 2000


def judge_queries() -> list[str]:
    """The 18 affordance names: every object is asked all of them, as a user asking for any would."""
    from lmad.data.classes import AFFORDANCE_CLASSES

    return [name for name in AFFORDANCE_CLASSES if name != "none"]


def read_objects(folder: Path):
    """Each object of a grasp-voxels folder, in name order: (name, points (M, 3) float64 +y up,
    grasp mask (M,) bool, category)."""
    for path in sorted(folder.glob("*.npz")):
        with np.load(path) as data:
            yield path.stem, data["points"].astype(np.float64), data["grasp"].astype(bool), str(data["category"])


def score_objects(detector, folder: Path) -> list[dict]:
    """One row per object of ``folder``: name, category, grasp AUC, IoU, hit (empty if absent)."""
    from lmad.eval import roc_auc

    queries = judge_queries()
    detector = detector.with_options(up_axis="y")
    rows = []
    for name, points, mask, category in read_objects(folder):
        result = detector(points, queries)
        grasp = result.queries.index("grasp")
        region = result.region(grasp)
        iou = float((region & mask).sum() / max((region | mask).sum(), 1))
        rows.append({"object": name, "category": category, "AUC": roc_auc(result.scores[:, grasp], mask),
                     "IoU": iou, "hit": float(iou >= 0.25)})
    return rows


def bootstrap_interval(values: np.ndarray, strata: np.ndarray, statistic, seed: int = 0) -> tuple[float, float]:
    """95 % interval of ``statistic(values, strata)`` over resamples of the objects within each stratum."""
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(strata == s) for s in np.unique(strata)]
    draws = []
    for _ in range(RESAMPLES):
        pick = np.concatenate([rng.choice(g, len(g)) for g in groups])
        draws.append(statistic(values[pick], strata[pick]))
    low, high = np.nanpercentile(draws, [2.5, 97.5])
    return float(low), float(high)


def object_mean(values, strata) -> float:
    return float(np.nanmean(values))


def class_mean(values, strata) -> float:
    return float(np.nanmean([np.nanmean(values[strata == s]) for s in np.unique(strata)]))


def summarise(rows: list[dict]) -> dict:
    """{"all": {metric: [value, low, high]}, "class_mean": ..., "<category>": ...} for AUC, IoU, hit."""
    strata = np.array([r["category"] for r in rows])
    out = {}
    for metric in ("AUC", "IoU", "hit"):
        values = np.array([r[metric] for r in rows], dtype=float)
        out.setdefault("all", {})[metric] = [object_mean(values, strata), *bootstrap_interval(values, strata, object_mean)]
        out.setdefault("class_mean", {})[metric] = [class_mean(values, strata),
                                                    *bootstrap_interval(values, strata, class_mean)]
        for category in sorted(set(strata)):
            inside = strata == category
            out.setdefault(category, {})[metric] = [object_mean(values[inside], None),
                                                    *bootstrap_interval(values[inside], strata[inside], object_mean)]
    for key in out:
        out[key]["objects"] = int(len(rows) if key in ("all", "class_mean") else (strata == key).sum())
    return out


def compare(rows_a: list[dict], rows_b: list[dict]) -> dict:
    """B - A per object, its mean and 95 % interval per metric, overall and per class, and a verdict."""
    by_name = {r["object"]: r for r in rows_a}
    paired = [(by_name[r["object"]], r) for r in rows_b if r["object"] in by_name]
    strata = np.array([b["category"] for _, b in paired])
    out = {}
    for metric in ("AUC", "IoU", "hit"):
        difference = np.array([b[metric] - a[metric] for a, b in paired], dtype=float)
        for key, inside in [("all", np.ones(len(paired), bool))] + [(c, strata == c) for c in sorted(set(strata))]:
            low, high = bootstrap_interval(difference[inside], strata[inside], object_mean)
            verdict = "better" if low > 0 else "worse" if high < 0 else "not measured (the interval includes 0)"
            out.setdefault(key, {})[metric] = {"difference": object_mean(difference[inside], None), "low": low,
                                               "high": high, "verdict": verdict}
    return out


def format_summary(name: str, summary: dict) -> str:
    lines = [f"{name}: mean over objects [95 % interval]"]
    for key, figures in summary.items():
        cells = "  ".join(f"{m} {v[0]:.3f} [{v[1]:.3f}, {v[2]:.3f}]" for m, v in figures.items() if m != "objects")
        lines.append(f"  {key:11s} ({figures['objects']:3d})  {cells}")
    return "\n".join(lines)


def markdown_table(summaries: dict) -> str:
    """The model card's table: per set, overall, class mean and per class, AUC / IoU / hit rate with intervals."""
    lines = ["| set | objects | grasp AUC [95 % CI] | IoU [95 % CI] | hit rate [95 % CI] |", "|---|---|---|---|---|"]
    for set_name, summary in summaries.items():
        for key, figures in summary.items():
            label = {"all": "all objects", "class_mean": "mean of the classes"}.get(key, key)
            cells = " | ".join(f"{v[0]:.3f} [{v[1]:.3f}, {v[2]:.3f}]" for m, v in figures.items() if m != "objects")
            lines.append(f"| {set_name}: {label} | {figures['objects']} | {cells} |")
    return "\n".join(lines)


def summary_table(summaries: dict) -> str:
    """The README's short table: the largest set's rows only (all the objects scored)."""
    name = list(summaries)[-1]
    return markdown_table({name: summaries[name]})


def write_tables(summaries: dict) -> None:
    """The model card's full table and the README's short one (benchmarks/generated_tables.py)."""
    sys.path.insert(0, str(Path(__file__).parent))
    from generated_tables import write_table

    write_table("grasp-voxels-table", markdown_table(summaries))
    write_table("grasp-voxels-summary", summary_table(summaries))


def print_comparison(rows_a: dict, rows_b: dict, name_a: str, name_b: str) -> None:
    """B - A per grasp-voxels set (rows per set, the same objects) and over the sets pooled."""
    sets = {name: (rows_a[name], rows_b[name]) for name in rows_a if name in rows_b}
    if len(sets) > 1:
        sets["all sets"] = tuple([r for found in rows.values() for r in found] for rows in (rows_a, rows_b))
    for name, (a, b) in sets.items():
        print(f"{name}: {name_b} - {name_a}")
        for key, metrics in compare(a, b).items():
            print(f"  {key:8s} " + "  ".join(f"{m} {v['difference']:+.3f} [{v['low']:+.3f}, {v['high']:+.3f}] "
                                             f"{v['verdict'].split(' ')[0]}" for m, v in metrics.items()))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", help="checkpoint folder (default: the shipped model)")
    parser.add_argument("--label", default="shipped")
    parser.add_argument("--compare", nargs=2, metavar=("A", "B"), help="two checkpoints: B - A on the same objects")
    parser.add_argument("--data", default=str(DEFAULT_DATA), help="folder holding grasp-voxels-dev[-extra]/")
    parser.add_argument("--compare-saved", nargs=2, metavar=("A", "B"),
                        help="two labels of runs saved in --results (e.g. two --tta of one model): B - A, no scoring")
    parser.add_argument("--tta", type=int, help="test-time views (default: the detector's, lmad.predict.DEFAULT_VIEWS)")
    parser.add_argument("--results", default=str(ROOT / "benchmarks" / "results" / "grasp_voxels.json"))
    parser.add_argument("--model-card", action="store_true",
                        help="write the tables into the model card and the README")
    args = parser.parse_args(argv)
    from lmad.predict import AffordanceDetector

    folders = {name: Path(args.data) / name for name in SETS if (Path(args.data) / name).is_dir()}
    if not folders:
        sys.exit(f"no {' or '.join(SETS)} folder in {args.data}: get the grasp-voxels objects (see this "
                 "script's docstring for the source and layout) and pass --data")
    if args.compare_saved:
        saved = json.loads(Path(args.results).read_text())
        missing = [label for label in args.compare_saved if label not in saved]
        if missing:
            sys.exit(f"{args.results} has no run labelled {', '.join(missing)}; it has: {', '.join(saved)}")
        print_comparison(*(saved[label]["objects"] for label in args.compare_saved), *args.compare_saved)
        return
    checkpoints = args.compare or [args.checkpoint]
    scored = []
    for checkpoint in checkpoints:
        detector = AffordanceDetector.from_pretrained(checkpoint)
        detector = detector.with_options(tta=args.tta) if args.tta else detector
        print(f"{checkpoint or 'shipped'}: {detector.tta} test-time view(s)")
        scored.append({name: score_objects(detector, folder) for name, folder in folders.items()})
    if args.compare:
        print_comparison(scored[0], scored[1], *args.compare)
        return
    rows = scored[0]
    summaries = {name: summarise(found) for name, found in rows.items()}
    if len(rows) == 2:
        summaries["all 451" if sum(map(len, rows.values())) == 451 else "both sets"] = summarise(
            [r for found in rows.values() for r in found])
    for name, summary in summaries.items():
        print(format_summary(name, summary))
    results = Path(args.results)
    saved = json.loads(results.read_text()) if results.exists() else {}
    saved[args.label] = {"checkpoint": args.checkpoint or "shipped", "tta": detector.tta, "summaries": summaries,
                         "objects": rows}
    results.write_text(json.dumps(saved, indent=1) + "\n")
    print(f"wrote {results} ({args.label})")
    if args.model_card:
        write_tables(summaries)


if __name__ == "__main__":
    main()
