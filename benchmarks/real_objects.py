"""The shipped (or any) checkpoint on real meshes and scans: one contact sheet to look at.

    python benchmarks/real_objects.py                       # ../shared/data, shipped model
    python benchmarks/real_objects.py --checkpoint runs/x/best --out runs/real_objects.png

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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", help="a checkpoint folder (default: the shipped one)")
    parser.add_argument("--out", default=str(ROOT / "runs" / "real_objects.png"))
    parser.add_argument("--columns", type=int, default=6)
    args = parser.parse_args(argv)

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
