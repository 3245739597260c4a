"""Which rule recovers the up axis? Procedural objects (seeded), each given with up = each candidate."""
import sys, time
import numpy as np, torch
from lmad.predict import AffordanceDetector
from lmad.data.synthetic import make_object, GENERATORS
from lmad.data.transforms import up_axis_rotation
from lmad.data.classes import AFFORDANCE_CLASSES
from lmad.data.resample import resample_indices

CANDIDATES = ["y", "z", "x"]
det = AffordanceDetector.from_pretrained()
probe = [c for c in AFFORDANCE_CLASSES if c != "none"]
rng = np.random.default_rng(int(sys.argv[1]) if len(sys.argv) > 1 else 123)
cats = sorted(GENERATORS)
n_obj = int(sys.argv[2]) if len(sys.argv) > 2 else 46
hits = {}
t0 = time.time()
for i in range(n_obj):
    obj = make_object(cats[i % len(cats)], rng)
    pts = obj.points.astype(np.float64)
    pick = resample_indices(len(pts), 2048, 0, pts)
    pts = pts[pick]
    for true in ["y", "z", "x"]:
        given = pts @ up_axis_rotation(true)  # inverse rotation: up_axis_rotation(true) maps given -> y-up
        batch = torch.from_numpy(np.stack([(given @ up_axis_rotation(c).T).astype(np.float32) for c in CANDIDATES]))
        with torch.no_grad():
            p = torch.sigmoid(det.model(batch, probe)).numpy()  # (C, K, N)
        rules = {
            "decisive": np.abs(2 * p - 1).mean((1, 2)),
            "max_claim": p.max(1).mean(1),
            "neg_entropy": (p * np.log(p + 1e-9) + (1 - p) * np.log(1 - p + 1e-9)).mean((1, 2)),
            "top_decisive": np.abs(2 * p.max(1) - 1).mean(1),
        }
        for name, score in rules.items():
            hits.setdefault(name, []).append(CANDIDATES[int(np.argmax(score))] == true)
print({k: float(np.mean(v)) for k, v in hits.items()}, f"{len(hits['decisive'])} cases, {time.time()-t0:.0f}s")
