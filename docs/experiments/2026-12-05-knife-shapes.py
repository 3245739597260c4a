"""What the real knives the shipped model fails on look like (diagnosis only; nothing is fitted).

    python docs/experiments/2026-12-05-knife-shapes.py [SCORES_JSON | LABEL]

For each of the 115 grasp-voxels knives (dev and dev-extra; they lie flat, y up): the knife's long
axis in the horizontal plane is oriented so the marked grasp region is at its + end and cut into
10 bins; per bin the width in plan and the thickness (y extent), in voxels. A "guard" is a bin
among the middle-to-handle bins 5-9 at least 1.6x as wide as the knife's median bin (a dagger's
or sword's cross-guard, or a bolster). Printed: the share of knives with a guard, the handle-end /
blade-end width and thickness ratios (bins 7-10 against bins 1-4), each split by whether the
given per-object scores put the knife below grasp AUC 0.5: a run's grasp_voxels.json, or the
label of a run in benchmarks/results/grasp_voxels.json (default "shipped"; the note's figures are
of "previous model", the model shipped when this ran).
"""
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
from grasp_voxels import DEFAULT_DATA, SETS, read_objects  # noqa: E402

VOXEL = 1 / 16  # the grids are 32^3 over the [-1, 1] cube


def profile(points, grasp, bins=10):
    """Width in plan and thickness (both in voxels) per bin along the long axis, grasp end last."""
    plan = points[:, [0, 2]] - points[:, [0, 2]].mean(0)
    _, vectors = np.linalg.eigh(np.cov(plan.T))
    along, across = plan @ vectors[:, -1], plan @ vectors[:, 0]
    if along[grasp].mean() < 0:
        along = -along
    edges = np.linspace(along.min(), along.max(), bins + 1)
    index = np.clip(np.digitize(along, edges) - 1, 0, bins - 1)
    width = np.array([np.ptp(across[index == b]) if (index == b).sum() > 1 else 0.0 for b in range(bins)])
    thick = np.array([np.ptp(points[index == b, 1]) if (index == b).sum() > 1 else 0.0 for b in range(bins)])
    return width / VOXEL + 1, thick / VOXEL + 1  # extents of voxel centres + one cell


given = sys.argv[1] if len(sys.argv) > 1 else "shipped"
if Path(given).is_file():  # a run's grasp_voxels.json (benchmarks/experiment.py): a list of objects
    scores_file, label = Path(given), None
    rows = json.loads(scores_file.read_text())
else:  # a label in benchmarks/results/grasp_voxels.json: that run's objects, per set
    scores_file, label = ROOT / "benchmarks" / "results" / "grasp_voxels.json", given
    rows = [row for rows in json.loads(scores_file.read_text())[label]["objects"].values() for row in rows]
auc = {row["object"]: row["AUC"] for row in rows}
knives = []
for name, points, grasp, category in (found for folder in SETS for found in read_objects(DEFAULT_DATA / folder)):
    if category != "knife":
        continue
    width, thick = profile(points, grasp)
    knives.append({"auc": auc[name], "guard": width[4:9].max() >= 1.6 * np.median(width),
                   "width ratio": width[6:].mean() / width[:4].mean(),
                   "thickness ratio": thick[6:].mean() / thick[:4].mean()})
print(f"{len(knives)} knives, scores from {scores_file}" + (f" ({label})" if label else ""))
for name, group in (("AUC < 0.5", [k for k in knives if k["auc"] < 0.5]), ("AUC >= 0.5", [k for k in knives if k["auc"] >= 0.5])):
    print(f"{name:10s} n={len(group):3d}  with a guard {np.mean([k['guard'] for k in group]):.2f}  "
          f"handle/blade width median {np.median([k['width ratio'] for k in group]):.2f}  "
          f"thickness median {np.median([k['thickness ratio'] for k in group]):.2f}  "
          f"handle thicker {np.mean([k['thickness ratio'] > 1.2 for k in group]):.2f}")
guarded = [k["auc"] < 0.5 for k in knives if k["guard"]]
plain = [k["auc"] < 0.5 for k in knives if not k["guard"]]
print(f"below 0.5: {sum(guarded)} of {len(guarded)} knives with a guard, {sum(plain)} of {len(plain)} without")
