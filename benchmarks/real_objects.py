"""The shipped (or any) checkpoint on real objects: scores against people's annotations and
label-free checks on real meshes, and one contact sheet to look at.

    python benchmarks/real_objects.py                                   # shipped model: scores + sheet
    python benchmarks/real_objects.py --checkpoint runs/x/best --label x --scores-only
    python benchmarks/real_objects.py --readme                          # model card table from the results
    python benchmarks/real_objects.py --readme --labels "before,shipped"  # only these columns, in order

Every object is asked the 18 affordance names, y-up, and read per query: a query's region is
the points whose score reaches the threshold (0.5), whatever else they are.

- grasp-voxels-dev (Li, Schomaker & Kasaei, RO-MAN 2020; 100 real objects with human-annotated
  grasp masks): per class, grasp ROC-AUC against the mask, IoU of grasp's region with it, and
  hit rate (IoU >= 0.25).
- ShapeNet mugs (32): the share of each handle's points in grasp's region.
- ShapeNet knives (26) in 4 poses (flat, on the edge, upright blade up / down): cut's
  blade-vs-handle AUC, grasp's handle-vs-blade AUC, the share of handle points in grasp's region.
- ShapeNet bowls and mugs: contain's inside-vs-outside AUC, and the highest AUC that scores on
  the 1,024 sampled points could reach once carried back to every point (one view).
- The real 3D AffordanceNet chair: per affordance AUC and IoU against its annotation's core
  (soft label >= 0.5), and the share of the legs in move's region.

How each region is found from geometry alone is in ``real_object_regions.py``. Scores go to
``benchmarks/results/real_objects.json`` under ``--label``; ``--readme`` writes the model card's table
(one column per label) from there. None of these objects is training data.

The contact sheet queries each object with its category's affordances plus ``none``, drawn
upright and coloured by the winning query; the printed table gives, per object, the share of
points each query wins. The objects come from ../shared/data (see its README for sources and
licences); they are not part of the repository, so the sheet is written under runs/ by default.
Objects that are missing are skipped.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"

# (label, path under ../shared/data, up axis, category whose affordances are queried)
OBJECTS = [
    ("ShapeNet mug", "meshes/shapenet/meshes/Mug/10f6e09036350e92b3f21f1137c3c347.obj", "y", "Mug"),
    ("ShapeNet mug 2", "meshes/shapenet/meshes/Mug/128ecbc10df5b05d96eaf1340564a4de.obj", "y", "Mug"),
    ("pybullet mug", "meshes/pybullet/mug.obj", "z", "Mug"),
    ("ContactDB mug", "meshes/contactdb/mug.stl", "z", "Mug"),
    ("ShapeNet knife", "meshes/shapenet/meshes/Knife/ba31cc5e739da65b8295dee32711a98b.obj", "y", "Knife"),
    ("ShapeNet knife 2", "meshes/shapenet/meshes/Knife/298d152fd0adb0f33347c5de2992cc8.obj", "y", "Knife"),
    ("ContactDB knife", "meshes/contactdb/knife.stl", "z", "Knife"),
    ("ShapeNet scissors", "first:meshes/shapenet/meshes/Scissors", "y", "Scissors"),
    ("ContactDB scissors", "meshes/contactdb/scissors.stl", "z", "Scissors"),
    ("YCB scissors", "meshes/ycb/YcbScissors.obj", "z", "Scissors"),
    ("ShapeNet bottle", "first:meshes/shapenet/meshes/Bottle", "y", "Bottle"),
    ("YCB mustard", "meshes/ycb/YcbMustardBottle.obj", "z", "Bottle"),
    ("ShapeNet bowl", "first:meshes/shapenet/meshes/Bowl", "y", "Bowl"),
    ("ShapeNet table", "first:meshes/shapenet/meshes/Table", "y", "Table"),
    ("chair mesh", "meshes/chair-3dhighlighter/chair.obj", "y", "Chair"),
    ("ShapeNet hat", "first:meshes/shapenet/meshes/Hat", "y", "Hat"),
    ("mug scan", "scans/mug1_real.pcd", "-y", "Mug"),
    ("knife scan", "scans/knife1.xyz", "-y", "Knife"),
]


def resolve(relative: str) -> Path | None:
    if relative.startswith("first:"):
        folder = SHARED / relative[len("first:"):]
        files = sorted(folder.glob("*.obj")) if folder.is_dir() else []
        return files[0] if files else None
    path = SHARED / relative
    return path if path.exists() else None


def affordance_queries() -> list[str]:
    """The 18 affordance names (every class but ``none``)."""
    from lmad.data.classes import AFFORDANCE_CLASSES
    from lmad.queries import affordance_indices

    return [AFFORDANCE_CLASSES[i] for i in affordance_indices(AFFORDANCE_CLASSES)]


def score_grasp_voxels(detector) -> dict | None:
    """Per class and overall: mean grasp AUC, IoU and hit rate on grasp-voxels-dev (None if absent),
    scored as ``grasp_voxels.py`` scores each object (its figures with intervals come from there)."""
    from grasp_voxels import score_objects  # benchmarks/, beside this script

    rows = score_objects(detector, SHARED / "grasp-voxels-dev")
    if not rows:
        return None
    table = {}
    for category in sorted({r["category"] for r in rows}) + ["all"]:
        chosen = [r for r in rows if category in ("all", r["category"])]
        table[category] = {"objects": len(chosen), "AUC": float(np.nanmean([r["AUC"] for r in chosen])),
                           "IoU": float(np.mean([r["IoU"] for r in chosen])),
                           "hit_rate": float(np.mean([r["hit"] for r in chosen]))}
    return table


def mesh_points(path: Path, up: str = "y", count: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Surface samples (count, 3) and triangles (F, 3, 3) of a mesh, upright in the unit cube."""
    import trimesh
    from real_object_regions import upright_unit_cube

    mesh = trimesh.load(str(path), force="mesh", process=False)
    points, _ = trimesh.sample.sample_surface(mesh, count, seed=0)
    both = upright_unit_cube(np.concatenate([points, np.asarray(mesh.triangles).reshape(-1, 3)]), up)
    return both[:count], both[count:].reshape(-1, 3, 3)


def shapenet_meshes(category: str) -> list[Path]:
    return sorted((SHARED / "meshes" / "shapenet" / "meshes" / category).glob("*.obj"))


def score_mug_handles(detector) -> dict | None:
    """ShapeNet mugs: the share of each handle's points in grasp's region (handles found by
    geometry, :func:`real_object_regions.mug_handle`)."""
    from real_object_regions import mug_handle

    files = shapenet_meshes("Mug")
    if not files:
        return None
    detector = detector.with_options(up_axis="y")
    shares = []
    for path in files:
        points, _ = mesh_points(path)
        handle = mug_handle(points)
        result = detector(points, affordance_queries())
        shares.append(float(result.region(result.queries.index("grasp"))[handle].mean()) if handle.any() else np.nan)
    shares = np.array(shares)
    return {"mugs": len(files), "handle_grasp_share_mean": float(np.nanmean(shares)),
            "mugs_with_half_the_handle_grasp": int((shares >= 0.5).sum())}


KNIFE_POSES = {  # knife frame: x long (blade towards +x), y across the blade, z its thin axis
    "flat": ("x", "z"), "on its edge": ("x", "y"), "upright, blade up": ("y", "x"), "upright, blade down": ("-y", "x"),
}


def _pose(frame: np.ndarray, long_to: str, across_to: str) -> np.ndarray:
    """Place the knife-frame points so the long axis points along ``long_to`` and the blade's
    width along ``across_to`` (y is up)."""
    unit = {"x": [1, 0, 0], "y": [0, 1, 0], "z": [0, 0, 1], "-y": [0, -1, 0]}
    a, b = np.array(unit[long_to], float), np.array(unit[across_to], float)
    return frame[:, :1] * a + frame[:, 1:2] * b + frame[:, 2:3] * np.cross(a, b)


def score_knives(detector) -> dict | None:
    """ShapeNet knives in 4 poses: blade-vs-handle AUC of cut and grasp, and the share of handle
    points in grasp's region (blade and handle found by geometry,
    :func:`real_object_regions.knife_blade_and_handle`; knives it cannot split are left out)."""
    from real_object_regions import knife_blade_and_handle

    from lmad.eval import roc_auc

    files = shapenet_meshes("Knife")
    if not files:
        return None
    detector = detector.with_options(up_axis="y")
    rows = {pose: [] for pose in KNIFE_POSES}
    used = 0
    for path in files:
        points, _ = mesh_points(path)
        blade, handle = knife_blade_and_handle(points)
        if blade.mean() < 0.1 or handle.mean() < 0.1:
            continue
        used += 1
        centred = points - points.mean(0)
        _, _, axes = np.linalg.svd(centred, full_matrices=False)
        frame = centred @ axes.T
        if frame[blade, 0].mean() < frame[handle, 0].mean():  # blade towards +x
            frame[:, :2] *= -1
        for pose, (long_to, across_to) in KNIFE_POSES.items():
            result = detector(_pose(frame, long_to, across_to), affordance_queries())
            cut, grasp = result.queries.index("cut"), result.queries.index("grasp")
            both = blade | handle
            rows[pose].append((roc_auc(result.scores[both, cut], blade[both]),
                               roc_auc(result.scores[both, grasp], handle[both]),
                               float(result.region(grasp)[handle].mean())))
    table = {"knives": used}
    for pose, values in rows.items():
        cut_auc, grasp_auc, share = np.array(values).T
        table[pose] = {"cut_blade_vs_handle_AUC": float(np.nanmean(cut_auc)),
                       "grasp_handle_vs_blade_AUC": float(np.nanmean(grasp_auc)),
                       "handle_grasp_share": float(share.mean())}
    return table


def score_containers(detector) -> dict | None:
    """ShapeNet bowls and mugs: contain's inside-vs-outside AUC (by visibility,
    :func:`real_object_regions.inside_and_outside`)."""
    from real_object_regions import inside_and_outside

    from lmad.eval import roc_auc

    detector = detector.with_options(up_axis="y")
    table = {}
    for category in ("Bowl", "Mug"):
        files = shapenet_meshes(category)
        aucs, ceilings = [], []
        for path in files:
            points, triangles = mesh_points(path)
            inside, outside = inside_and_outside(points, triangles)
            if inside.sum() < 20 or outside.sum() < 20:
                continue
            prepared = detector.prepare(points)
            result = detector.score_prepared([prepared], affordance_queries())[0]
            either = inside | outside
            aucs.append(roc_auc(result.scores[either, result.queries.index("contain")], inside[either]))
            ceilings.append(carry_back_ceiling(prepared.nearest[either], inside[either]))
        if aucs:
            table[category.lower()] = {"objects": len(aucs), "contain_inside_vs_outside_AUC": float(np.nanmean(aucs)),
                                       "carry_back_ceiling_AUC": float(np.nanmean(ceilings))}
    return table or None


def carry_back_ceiling(nearest: np.ndarray, positive: np.ndarray) -> float:
    """The highest ROC-AUC any scores on the sampled points can reach once carried back: every
    point takes its nearest sampled point's score, so points sharing one (``nearest``, (M,) ints)
    share a score, and ranking those groups by their share of positives is the best order."""
    from lmad.eval import roc_auc

    groups, group_of = np.unique(nearest, return_inverse=True)
    share = np.bincount(group_of, weights=positive.astype(np.float64), minlength=len(groups)) / np.bincount(group_of)
    return roc_auc(share[group_of], positive)


def score_real_chair(detector) -> dict | None:
    """The real 3D AffordanceNet chair: per affordance AUC and IoU against its soft labels'
    core (score >= 0.5), and the share of leg points (:func:`real_object_regions.chair_legs`)
    in move's region."""
    from real_object_regions import chair_legs, upright_unit_cube

    from lmad.data import load_affordancenet
    from lmad.eval import roc_auc

    folder = SHARED / "affordancenet-sample" / "original"
    if not folder.exists():
        return None
    record = load_affordancenet(folder, "full", "val").records[0]
    result = detector.with_options(up_axis="y")(record.points, affordance_queries())
    table = {}
    for name in ("sittable", "support", "move"):
        k = result.queries.index(name)
        core = record.soft_labels[:, k] >= 0.5
        picked = result.region(k)
        table[name] = {"AUC": roc_auc(result.scores[:, k], core),
                       "IoU": float((picked & core).sum() / max((picked | core).sum(), 1)),
                       "share": float(picked.mean()), "annotated_share": float(core.mean())}
    legs = chair_legs(upright_unit_cube(record.points, "y"))
    table["move_share_of_legs"] = float(result.region(result.queries.index("move"))[legs].mean())
    return table


TARGETS = {
    "grasp-voxels-dev grasp AUC (all 100)": ">= 0.85",
    "grasp-voxels-dev hit rate (all 100)": ">= 0.6",
    "grasp-voxels-dev grasp AUC, worst class": ">= 0.75",
    **{f"grasp-voxels-dev, {c}: grasp AUC / IoU / hit rate": "AUC >= 0.75"
       for c in ("mug", "knife", "chair", "lamp", "guitar")},
    "ShapeNet mugs with >= 50 % of the handle grasp": ">= 25 of 32",
    "ShapeNet knives cut blade-vs-handle AUC, worst pose": ">= 0.8",
    "ShapeNet knives handle share grasp, worst pose": ">= 0.5",
    "contain inside-vs-outside AUC, bowls": ">= 0.85",
    "contain inside-vs-outside AUC, mugs": ">= 0.85",
    "real chair sittable AUC": ">= 0.9",
    "real chair: leg points in move's region": "(no longer on the legs)",
}


def headline(scores: dict) -> dict[str, str]:
    """The figures the issue sets targets for, formatted, from the scores dict."""
    out = {}
    voxels = scores.get("grasp_voxels_dev")
    if voxels:
        out["grasp-voxels-dev grasp AUC (all 100)"] = f"{voxels['all']['AUC']:.3f}"
        out["grasp-voxels-dev hit rate (all 100)"] = f"{voxels['all']['hit_rate']:.2f}"
        worst = min((v["AUC"], k) for k, v in voxels.items() if k != "all")
        out["grasp-voxels-dev grasp AUC, worst class"] = f"{worst[0]:.3f} ({worst[1]})"
        for category, v in voxels.items():
            if category != "all":
                out[f"grasp-voxels-dev, {category}: grasp AUC / IoU / hit rate"] = (
                    f"{v['AUC']:.3f} / {v['IoU']:.3f} / {v['hit_rate']:.2f}")
    mugs = scores.get("shapenet_mugs")
    if mugs:
        share = mugs["handle_grasp_share_mean"]
        out["ShapeNet mugs with >= 50 % of the handle grasp"] = (
            f"{mugs['mugs_with_half_the_handle_grasp']} of {mugs['mugs']} (mean share {share:.2f})")
    knives = scores.get("shapenet_knives")
    if knives:
        poses = {k: v for k, v in knives.items() if k != "knives"}
        worst = min((v["cut_blade_vs_handle_AUC"], k) for k, v in poses.items())
        out["ShapeNet knives cut blade-vs-handle AUC, worst pose"] = f"{worst[0]:.3f} ({worst[1]})"
        worst = min((v["handle_grasp_share"], k) for k, v in poses.items())
        out["ShapeNet knives handle share grasp, worst pose"] = f"{worst[0]:.2f} ({worst[1]})"
    for kind in ("bowl", "mug"):
        entry = (scores.get("containers") or {}).get(kind)
        if entry:
            ceiling = entry.get("carry_back_ceiling_AUC")  # absent in runs scored before it was added
            out[f"contain inside-vs-outside AUC, {kind}s"] = f"{entry['contain_inside_vs_outside_AUC']:.3f}" + (
                f" (reachable {ceiling:.3f})" if ceiling is not None else "")
    chair = scores.get("real_chair")
    if chair:
        out["real chair sittable AUC"] = f"{chair['sittable']['AUC']:.3f}"
        out["real chair: leg points in move's region"] = f"{chair['move_share_of_legs']:.0%}"
    return out


def print_scores(scores: dict) -> None:
    voxels = scores.get("grasp_voxels_dev")
    if voxels:
        print("grasp-voxels-dev: class, objects, grasp AUC, IoU, hit rate (IoU >= 0.25)")
        for category, entry in voxels.items():
            print(f"  {category:8s} {entry['objects']:4d}  {entry['AUC']:.3f}  {entry['IoU']:.3f}"
                  f"  {entry['hit_rate']:.2f}")
    knives = scores.get("shapenet_knives")
    if knives:
        print(f"ShapeNet knives ({knives['knives']} split by geometry): pose, cut blade-vs-handle AUC, "
              "grasp handle-vs-blade AUC, handle share grasp")
        for pose, entry in knives.items():
            if pose != "knives":
                print(f"  {pose:20s} {entry['cut_blade_vs_handle_AUC']:.3f}  {entry['grasp_handle_vs_blade_AUC']:.3f}"
                      f"  {entry['handle_grasp_share']:.2f}")
    chair = scores.get("real_chair")
    if chair:
        print("real 3D AffordanceNet chair: affordance, AUC, IoU, share predicted, share annotated (core)")
        for name in ("sittable", "support", "move"):
            e = chair[name]
            print(f"  {name:9s} {e['AUC']:.3f}  {e['IoU']:.3f}  {e['share']:.2f}  {e['annotated_share']:.2f}")
    print("targets:")
    for key, value in headline(scores).items():
        print(f"  {key}: {value}   (target {TARGETS[key]})")


def readme_table(runs: dict[str, dict]) -> str:
    """Markdown: one row per target figure, one column per scored checkpoint."""
    heads = {label: headline(scores) for label, scores in runs.items()}
    lines = ["| figure | " + " | ".join(runs) + " | target |", "|---" * (len(runs) + 2) + "|"]
    for key, target in TARGETS.items():
        cells = [heads[label].get(key, "-") for label in runs]
        lines.append(f"| {key} | " + " | ".join(cells) + f" | {target} |")
    return "\n".join(lines)


def main(argv=None):
    global SHARED
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", help="a checkpoint folder (default: the shipped one)")
    parser.add_argument("--label", default="shipped", help="this run's name in results/real_objects.json")
    parser.add_argument("--out", default=str(ROOT / "runs" / "real_objects.png"))
    parser.add_argument("--columns", type=int, default=6)
    parser.add_argument("--scores-only", action="store_true", help="no contact sheet")
    parser.add_argument("--tta", type=int, help="test-time views (default: the detector's, lmad.predict.DEFAULT_VIEWS)")
    parser.add_argument("--readme", action="store_true",
                        help="only write the table into the model card from saved results")
    parser.add_argument("--labels", help="with --readme: comma-separated runs for the table, in order (default: all)")
    parser.add_argument("--data", default=str(SHARED),
                        help="folder with the real objects (default ../shared/data; the layout and sources are "
                             "in this script's OBJECTS list and in benchmarks/README.md)")
    args = parser.parse_args(argv)
    import json

    SHARED = Path(args.data)

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    results_path = ROOT / "benchmarks" / "results" / "real_objects.json"
    saved = json.loads(results_path.read_text()) if results_path.exists() else {}
    saved = saved if "runs" in saved else {"runs": {}}
    if args.readme:
        from generated_tables import write_table

        labels = args.labels.split(",") if args.labels else list(saved["runs"])
        missing = [label for label in labels if label not in saved["runs"]]
        if missing:
            raise SystemExit(f"no saved run named {missing} in {results_path}; saved: {list(saved['runs'])}")
        table = readme_table({label: saved["runs"][label] for label in labels})
        write_table("real-objects-table", table)
        print(table)
        return
    from lmad.predict import AffordanceDetector

    detector = AffordanceDetector.from_pretrained(args.checkpoint)
    detector = detector.with_options(tta=args.tta) if args.tta else detector
    scores = {"checkpoint": args.checkpoint or "shipped", "tta": detector.tta}
    for key, score in (("grasp_voxels_dev", score_grasp_voxels), ("shapenet_mugs", score_mug_handles),
                       ("shapenet_knives", score_knives), ("containers", score_containers),
                       ("real_chair", score_real_chair)):
        value = score(detector)
        if value is not None:
            scores[key] = value
    print_scores(scores)
    saved["runs"][args.label] = scores
    results_path.parent.mkdir(parents=True, exist_ok=True)
    results_path.write_text(json.dumps(saved, indent=2))
    print(f"wrote {results_path} ({args.label})")
    if args.scores_only:
        return

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    from lmad.data.classes import AFFORDANCE_CLASSES
    from lmad.data.synthetic.categories import CATEGORY_AFFORDANCES
    from lmad.predict import AffordanceDetector
    from lmad.viz.render import class_colors, draw_cloud

    found = [(label, resolve(rel), up, category) for label, rel, up, category in OBJECTS]
    found = [item for item in found if item[1] is not None]
    if not found:
        raise SystemExit(f"no real objects under {SHARED}; nothing to render")
    detector = AffordanceDetector.from_pretrained(args.checkpoint)
    palette = dict(zip(AFFORDANCE_CLASSES, class_colors(AFFORDANCE_CLASSES)))
    rows = int(np.ceil(len(found) / args.columns))
    fig, axes = plt.subplots(rows, args.columns, figsize=(2.8 * args.columns, 2.8 * rows + 0.8), squeeze=False,
                             dpi=90)
    used, clouds = set(), []
    for ax, (label, path, up, category) in zip(axes.flat, found):
        detector.up_axis = up
        queries = list(CATEGORY_AFFORDANCES[category]) + ["none"]
        result = detector(str(path), queries)
        points = result.upright_points()
        keep = np.random.default_rng(0).choice(len(points), min(len(points), 4000), replace=False)
        names = [queries[i] for i in result.labels[keep]]
        clouds.append((points[keep], [palette[n] for n in names]))
        shares = {q: float(np.mean(result.labels == k)) for k, q in enumerate(queries)}
        used.update(names)
        ax.set_title(label, fontsize=9)
        print(f"{label:20s} " + "  ".join(f"{q} {s:4.0%}" for q, s in shares.items()))
    for ax in axes.flat:
        ax.axis("off")
    handles = [Patch(color=palette[n], label=n) for n in AFFORDANCE_CLASSES if n in used]
    fig.legend(handles=handles, loc="lower center", ncol=10, frameon=False, fontsize=8)
    fig.tight_layout(rect=(0, 0.05, 1, 1))  # before drawing: the clouds are drawn at the final size
    for ax, (points, colors) in zip(axes.flat, clouds):
        draw_cloud(ax, points, colors, azimuth=35, elevation=25, size=1.5)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    plt.close(fig)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
