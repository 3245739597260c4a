"""Which end of a procedural dagger does a checkpoint grasp?

    python docs/experiments/2026-12-05-dagger-probe.py [CHECKPOINT ...]   # 'shipped' for the default

Procedural daggers / swords only (``lmad.data.synthetic.categories.dagger``, seeds 2000-2039; no
real object), lying flat (thin axis up, as the real grasp-voxels knives lie): the mean `grasp`
ROC-AUC of the grip against the rest and how many of the 40 fall below 0.5 (the blade picked),
at 2,048 surface points and as a 32^3 voxel lattice (as grasp-voxels stores objects).
"""
import sys

import numpy as np

from lmad.data.classes import AFFORDANCE_CLASSES
from lmad.data.synthetic import generate
from lmad.data.synthetic.categories import GENERATORS, dagger
from lmad.data.transforms import voxel_lattice
from lmad.eval import roc_auc
from lmad.predict import AffordanceDetector

QUERIES = [name for name in AFFORDANCE_CLASSES if name != "none"]
FLAT = [(1.0, "x", 90.0)]


def dagger_aucs(detector, count=40):
    original, poses = GENERATORS["Knife"], generate.POSES["Knife"]
    GENERATORS["Knife"], generate.POSES["Knife"] = dagger, FLAT
    try:
        out = {"2048 points": [], "32^3 lattice": []}
        for seed in range(2000, 2000 + count):
            rng = np.random.default_rng(seed)
            obj = generate.make_object("Knife", rng)
            grip = np.array([obj.part_names[i] == "grip" for i in obj.part_index])
            pick = rng.choice(len(obj.points), 2048, replace=False)
            scores = detector(obj.points[pick].astype(np.float64), QUERIES).scores[:, QUERIES.index("grasp")]
            out["2048 points"].append(roc_auc(scores, grip[pick]))
            cells, labels, _ = voxel_lattice(obj.points, grip.astype(np.int64), None, 32, 2)
            scores = detector(cells.astype(np.float64), QUERIES).scores[:, QUERIES.index("grasp")]
            out["32^3 lattice"].append(roc_auc(scores, labels == 1))
        return out
    finally:
        GENERATORS["Knife"], generate.POSES["Knife"] = original, poses


for checkpoint in sys.argv[1:] or ["shipped"]:
    detector = AffordanceDetector.from_pretrained(None if checkpoint == "shipped" else checkpoint, tta=1)
    aucs = dagger_aucs(detector.with_options(up_axis="y"))
    print(f"{checkpoint} | daggers, flat | " + " | ".join(
        f"{key}: AUC {np.mean(v):.3f}, {int((np.array(v) < 0.5).sum())}/40 below 0.5" for key, v in aucs.items()),
        flush=True)
