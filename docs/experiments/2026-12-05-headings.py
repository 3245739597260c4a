"""Heading sensitivity of the shipped model on grasp-voxels-dev: each object turned 0/90/180/270 degrees about up,
the grasp AUC range per object, with the default single view and with --tta 4 (run from the repository root)."""
import numpy as np
from pathlib import Path
from lmad.predict import AffordanceDetector
from lmad.eval import roc_auc
from lmad.data.classes import AFFORDANCE_CLASSES
from lmad.data.transforms import rotation_about_y
queries = [q for q in AFFORDANCE_CLASSES if q != "none"]
for tta in (1, 4):
    det = AffordanceDetector.from_pretrained(tta=tta)
    ranges, means = [], []
    for path in sorted(Path("../shared/data/grasp-voxels-dev").glob("*.npz")):
        d = np.load(path); pts, mask = d["points"].astype(np.float64), d["grasp"].astype(bool)
        aucs = []
        for k in range(4):
            r = det(pts @ rotation_about_y(np.pi / 2 * k).astype(np.float64).T, queries)
            aucs.append(roc_auc(r.scores[:, r.queries.index("grasp")], mask))
        ranges.append(max(aucs) - min(aucs)); means.append(np.mean(aucs))
    ranges = np.array(ranges)
    print(f"tta={tta}: objects with AUC range > 0.2 over 4 headings: {(ranges > 0.2).sum()} of {len(ranges)}; mean AUC over headings {np.mean(means):.3f}; median range {np.median(ranges):.3f}")
