"""How much of a real knife depth scan each checkpoint calls `grasp` (no marks exist for these).

    python docs/experiments/2026-12-05-knife-scans.py [CHECKPOINT ...]   # 'shipped' for the default

The five single-view depth scans of knives in ../shared/data/scans/ (knife1-5.xyz, -y up, as
benchmarks/real_objects.py reads them): per scan, the share of points whose `grasp`, `cut` and
`stab` scores are >= 0.5 (one view).
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from grasp_voxels import DEFAULT_DATA  # noqa: E402

from lmad.data.files import read_points  # noqa: E402
from lmad.predict import AffordanceDetector  # noqa: E402

QUERIES = ["grasp", "cut", "stab"]

for checkpoint in sys.argv[1:] or ["shipped"]:
    detector = AffordanceDetector.from_pretrained(None if checkpoint == "shipped" else checkpoint, tta=1)
    detector = detector.with_options(up_axis="-y")
    for index in range(1, 6):
        points = read_points(DEFAULT_DATA / "scans" / f"knife{index}.xyz")
        shares = (detector(points, QUERIES).scores >= 0.5).mean(axis=0)
        print(f"{checkpoint} | knife{index}.xyz ({len(points)} points) | "
              + ", ".join(f"{q} {share:.2f}" for q, share in zip(QUERIES, shares)), flush=True)
