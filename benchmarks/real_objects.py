"""The shipped (or any) checkpoint on real meshes and scans: one contact sheet to look at, and
scores on the 100 human-annotated objects of grasp-voxels-dev.

    python benchmarks/real_objects.py                       # ../shared/data, shipped model
    python benchmarks/real_objects.py --checkpoint runs/x/best --out runs/real_objects.png
    python benchmarks/real_objects.py --grasp-voxels        # only the grasp-voxels-dev scores

grasp-voxels-dev (Li, Schomaker & Kasaei, RO-MAN 2020; evaluation only, never training data):
per object the model is asked the 18 affordance names, y-up; the ``grasp`` score is ranked
against the annotated mask (ROC-AUC), the points labelled ``grasp`` are compared with it (IoU),
and a hit is IoU >= 0.25. Printed per class and overall; written to
``benchmarks/results/real_objects.json``.

Each object is queried with its category's affordances (3D AffordanceNet's lists) plus ``none``
and drawn upright, coloured by the winning query; the printed table gives, per object, the share
of points each query wins. The objects come from ../shared/data (see its README for sources and
licences); they are not part of the repository, so the sheet is written under runs/ by default.
Objects that are missing are skipped.
"""

from __future__ import annotations

import argparse
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


def score_grasp_voxels(detector) -> dict | None:
    """Per class and overall: mean grasp AUC, IoU and hit rate on grasp-voxels-dev (None if absent)."""
    from lmad.data.classes import AFFORDANCE_CLASSES
    from lmad.eval import roc_auc

    folder = SHARED / "grasp-voxels-dev"
    files = sorted(folder.glob("*.npz"))
    if not files:
        return None
    queries = [c for c in AFFORDANCE_CLASSES if c != "none"]
    detector.up_axis = "y"
    rows = {}
    for path in files:
        data = np.load(path)
        result = detector(data["points"], queries)
        mask = data["grasp"].astype(bool)
        grasp = result.queries.index("grasp")
        picked = result.labels == grasp
        iou = (picked & mask).sum() / max((picked | mask).sum(), 1)
        rows.setdefault(str(data["category"]), []).append((roc_auc(result.scores[:, grasp], mask), iou))
    table = {}
    for category, values in sorted(rows.items()):
        aucs, ious = np.array(values).T
        table[category] = {"objects": len(values), "AUC": float(np.nanmean(aucs)), "IoU": float(ious.mean()),
                           "hit_rate": float((ious >= 0.25).mean())}
    everything = np.array([v for values in rows.values() for v in values])
    table["all"] = {"objects": len(everything), "AUC": float(np.nanmean(everything[:, 0])),
                    "IoU": float(everything[:, 1].mean()), "hit_rate": float((everything[:, 1] >= 0.25).mean())}
    return table


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", help="a checkpoint folder (default: the shipped one)")
    parser.add_argument("--out", default=str(ROOT / "runs" / "real_objects.png"))
    parser.add_argument("--columns", type=int, default=6)
    parser.add_argument("--grasp-voxels", action="store_true", help="only score grasp-voxels-dev")
    parser.add_argument("--tta", type=int, default=1, help="test-time augmentation views (AffordanceDetector tta)")
    args = parser.parse_args(argv)
    from lmad.predict import AffordanceDetector

    scores = score_grasp_voxels(AffordanceDetector.from_pretrained(args.checkpoint, tta=args.tta))
    if scores is not None:
        print("grasp-voxels-dev: class, objects, grasp AUC, IoU, hit rate (IoU >= 0.25)")
        for category, entry in scores.items():
            print(f"  {category:8s} {entry['objects']:4d}  {entry['AUC']:.3f}  {entry['IoU']:.3f}  {entry['hit_rate']:.2f}")
        import json

        (ROOT / "benchmarks" / "results").mkdir(parents=True, exist_ok=True)
        (ROOT / "benchmarks" / "results" / "real_objects.json").write_text(
            json.dumps({"checkpoint": args.checkpoint or "shipped", "tta": args.tta, "grasp_voxels_dev": scores},
                       indent=2))
    if args.grasp_voxels:
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
    fig, axes = plt.subplots(rows, args.columns, figsize=(2.8 * args.columns, 2.8 * rows + 0.8), squeeze=False)
    used = set()
    for ax, (label, path, up, category) in zip(axes.flat, found):
        detector.up_axis = up
        queries = list(CATEGORY_AFFORDANCES[category]) + ["none"]
        result = detector(str(path), queries)
        points = result.upright_points()
        keep = np.random.default_rng(0).choice(len(points), min(len(points), 4000), replace=False)
        names = [queries[i] for i in result.labels[keep]]
        draw_cloud(ax, points[keep], [palette[n] for n in names], azimuth=35, elevation=25, size=1.5)
        shares = {q: float(np.mean(result.labels == k)) for k, q in enumerate(queries)}
        used.update(names)
        ax.set_title(label, fontsize=9)
        print(f"{label:20s} " + "  ".join(f"{q} {s:4.0%}" for q, s in shares.items()))
    for ax in list(axes.flat)[len(found):]:
        ax.axis("off")
    handles = [Patch(color=palette[n], label=n) for n in AFFORDANCE_CLASSES if n in used]
    fig.legend(handles=handles, loc="lower center", ncol=10, frameon=False, fontsize=8)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    plt.close(fig)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
