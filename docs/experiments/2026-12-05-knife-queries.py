"""On the real grasp-voxels knives (evaluation only): does the model see a knife whose grasp it
puts on the blade? Per knife, grasp's AUC against the mark and cut's AUC against the rest (the
blade side); then, for the knives with grasp AUC < 0.5 and the others, cut's AUC and each query's
highest score on the knife.

    python docs/experiments/2026-12-05-knife-queries.py shipped|CHECKPOINT
"""
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from grasp_voxels import DEFAULT_DATA, judge_queries, read_objects  # noqa: E402

from lmad.eval import roc_auc  # noqa: E402
from lmad.predict import AffordanceDetector  # noqa: E402

checkpoint = None if sys.argv[1:] in ([], ["shipped"]) else sys.argv[1]
detector = AffordanceDetector.from_pretrained(checkpoint, tta=1).with_options(up_axis="y")
queries = judge_queries()
grasp_aucs, cut_aucs, tops = [], [], []
for name in ("grasp-voxels-dev", "grasp-voxels-dev-extra"):
    for _, points, mask, category in read_objects(Path(DEFAULT_DATA) / name):
        if category != "knife":
            continue
        scores = detector(points, queries).scores
        marked = mask.astype(bool)
        grasp_aucs.append(roc_auc(scores[:, queries.index("grasp")], marked))
        cut_aucs.append(roc_auc(scores[:, queries.index("cut")], ~marked))
        tops.append(scores.max(0))
grasp_aucs, cut_aucs, tops = np.array(grasp_aucs), np.array(cut_aucs), np.array(tops)
flipped = grasp_aucs < 0.5
print(f"{len(grasp_aucs)} knives, {flipped.sum()} with grasp AUC < 0.5")
print(f"cut AUC on the unmarked side: those {cut_aucs[flipped].mean():.3f}, the others {cut_aucs[~flipped].mean():.3f}")
for i in np.argsort(-tops.mean(0))[:5]:
    print(f"  highest {queries[i]:10s} score: {tops[flipped, i].mean():.2f} / {tops[~flipped, i].mean():.2f}")
