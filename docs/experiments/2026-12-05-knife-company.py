"""Which training company drags the real knives down? Two arms x 3 seeds of a 200-step
fine-tuning of the shipped model, knives half of the clouds in both:

    lmad synth --out synth_ktools  --train 1000 --val 50 --seed 0 --balance uniform --categories Knife,Hammer,Racket,Guitar,Scissors
    lmad synth --out synth_kothers --train 1000 --val 50 --seed 0 --balance uniform --categories Knife,Chair,Mug,Bowl,Bed
    lmad train --config configs/default_model_cpu_finetune.yaml --out RUNS/ARM_sSEED --set data.root=synth_ARM \\
        --set optim.max_steps_per_epoch=200 --set data.repeat_categories.Knife=4 --set run.seed=SEED
    (seed 0 in RUNS/ARM)

    python docs/experiments/2026-12-05-knife-company.py RUNS
    python docs/experiments/2026-12-05-knife-company.py RUNS --runs kGuitar kHammer ...   # any runs, one line each

Scores each run's best/ on the 115 real grasp-voxels knives (evaluation only, one view; cached in
RUNS/<run>/knives.json), prints its mean knife AUC and how many knives fall below 0.5, then
kothers - ktools per knife (seed means) with its 95 % bootstrap interval.
"""
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from experiment import seed_mean  # noqa: E402
from grasp_voxels import DEFAULT_DATA, SETS, compare, score_objects  # noqa: E402


def knives(folder: Path) -> list[dict]:
    """The run's per-knife scores (grasp_voxels.score_objects rows), scored once and cached."""
    cache = folder / "knives.json"
    if not cache.exists():
        from lmad.predict import AffordanceDetector

        detector = AffordanceDetector.from_pretrained(folder / "best", tta=1)
        rows = [row for name in SETS for row in score_objects(detector, Path(DEFAULT_DATA) / name)
                if row["category"] == "knife"]
        cache.write_text(json.dumps(rows))
    rows = json.loads(cache.read_text())
    aucs = np.array([r["AUC"] for r in rows])
    print(f"{folder.name:10s} knives AUC {aucs.mean():.3f}, {int((aucs < 0.5).sum())} of {len(aucs)} below 0.5")
    return rows


runs = Path(sys.argv[1])
if sys.argv[2:3] == ["--runs"]:
    for name in sys.argv[3:]:
        knives(runs / name)
    sys.exit()
arms = {}
for arm in ("ktools", "kothers"):
    for folder in (runs / arm, runs / f"{arm}_s1", runs / f"{arm}_s2"):
        arms.setdefault(arm, []).append(knives(folder))
difference = compare(seed_mean(arms["ktools"]), seed_mean(arms["kothers"]))["all"]
print("kothers - ktools, seed means: " + "  ".join(
    f"{m} {v['difference']:+.3f} [{v['low']:+.3f}, {v['high']:+.3f}] {v['verdict'].split(' ')[0]}" for m, v in difference.items()))
