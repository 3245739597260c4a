"""Speed where users feel it, in one run: the machine's GEMM rate and the backbone against its FLOP
bound, start-up, one 20k-point prediction, M = 2k ... 5M points, farthest point sampling, and a
training step per cloud, each beside its target.

    python benchmarks/speed.py                       # this checkout; writes results/speed_after.json
    python benchmarks/speed.py --label before        # e.g. run from an older checkout's root
    python benchmarks/speed.py --readme              # the README table from speed_before/after.json

Runs through the same APIs on old and new code (AffordanceDetector, the lmad command, the
backbone, the shipped checkpoint), so a checkout of an earlier commit can be measured with this
file, from the old checkout's root (so that `python -m lmad` is the old command too):
`cd <old checkout> && PYTHONPATH=. python <this file> --label before`. Latencies are
medians; every prediction includes what a user waits for (reading or normalising, sampling, the
model, carrying scores back to all M points). The training step is the shipped model's config
(batch 16, its points per cloud, all 19 class names, Adam), in a process set up as `lmad train`
sets itself up.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
TARGETS = {  # figure -> (target, "<=" or ">="), as issue "Speed where users feel it" sets them
    "predict_20k_wall_s": (2.0, "<="),
    "predict_1M_s": (1.0, "<="),
    "predict_5M_s": (5.0, "<="),
    "backbone_vs_flop_bound": (2.0, "<="),
}


def timed(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cloud(m: int, seed: int = 0) -> np.ndarray:
    points = np.random.default_rng(seed).normal(size=(m, 3))
    return (points / np.linalg.norm(points, axis=1, keepdims=True) * [0.04, 0.09, 0.04]).astype(np.float32)


def gemm_rate(repeats: int) -> float:
    import torch

    a, b = torch.rand(2048, 2048), torch.rand(2048, 2048)
    return 2 * 2048**3 / timed(lambda: a @ b, repeats) / 1e9


def backbone_figures(rate_gflops: float, repeats: int) -> dict:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from lmad.models import PointNet2Backbone

    model = PointNet2Backbone().eval()
    x = torch.rand(1, 2048, 3, generator=torch.Generator().manual_seed(0)) * 2 - 1
    with torch.no_grad():
        counter = FlopCounterMode(display=False)
        with counter:
            model(x)
        seconds = timed(lambda: model(x), repeats)
    flops = counter.get_total_flops()
    bound = flops / (rate_gflops * 1e9)
    return {"backbone_forward_ms": 1000 * seconds, "backbone_gflop": flops / 1e9,
            "backbone_flop_bound_ms": 1000 * bound, "backbone_vs_flop_bound": seconds / bound}


def startup_figures(repeats: int) -> dict:
    """Wall time of `lmad predict` on a 20k-point file, and what part of it is imports."""
    work = Path(tempfile.mkdtemp(prefix="lmad-speed-"))
    np.save(work / "scan.npy", cloud(20_000))
    env = dict(os.environ)
    command = [sys.executable, "-m", "lmad", "predict", str(work / "scan.npy"), "--queries", "grasp,contain,pour",
               "--out", str(work / "out"), "--format", "npz", "--device", "cpu"]

    def run():
        subprocess.run(command, check=True, capture_output=True, env=env)

    wall = timed(run, repeats)
    imports = [sys.executable, "-c", "import time; t = time.perf_counter(); import torch; "
               "from lmad.predict import AffordanceDetector; print(time.perf_counter() - t)"]
    load = [sys.executable, "-c", "import time; from lmad.predict import AffordanceDetector; "
            "t = time.perf_counter(); AffordanceDetector.from_pretrained(device='cpu'); print(time.perf_counter() - t)"]
    figures = {"predict_20k_wall_s": wall}
    for name, code in (("import_s", imports), ("model_load_s", load)):
        figures[name] = statistics.median(
            float(subprocess.run(code, check=True, capture_output=True, text=True, env=env).stdout.split()[-1])
            for _ in range(repeats))
    return figures


def prediction_figures(repeats: int) -> dict:
    from lmad.predict import AffordanceDetector

    detector = AffordanceDetector.from_pretrained(device="cpu")
    queries = ["grasp", "contain", "pour", "wrap_grasp", "cut"]
    figures = {}
    for m, label in ((2_000, "2k"), (20_000, "20k"), (200_000, "200k"), (1_000_000, "1M"), (5_000_000, "5M")):
        points = cloud(m)
        figures[f"predict_{label}_s"] = timed(lambda: detector(points, queries), 1 if m >= 1_000_000 else repeats)
    return figures


def sampling_figures(repeats: int) -> dict:
    import torch

    from lmad.ops import farthest_point_sample

    small = torch.rand(1, 2048, 3, generator=torch.Generator().manual_seed(0))
    large = torch.rand(1, 20_000, 3, generator=torch.Generator().manual_seed(0))
    return {"fps_2048_to_512_ms": 1000 * timed(lambda: farthest_point_sample(small, 512), repeats),
            "fps_20k_to_1024_ms": 1000 * timed(lambda: farthest_point_sample(large, 1024), repeats)}


def training_figures(repeats: int) -> dict:
    """A training step (B = 16, Adam) of the shipped checkpoint's model, and of the previous
    shipped configuration (lite backbone, 1024 points, 256 AQM point tokens, pooled head,
    cross-entropy), built fresh so that old and new code measure the same architecture."""
    import dataclasses
    import resource

    import torch

    import lmad
    from lmad.data import AFFORDANCE_CLASSES
    from lmad.models import LMAD, LMADConfig, build_model

    checkpoint = Path(lmad.__file__).resolve().parent / "checkpoints" / "default"  # of the code measured
    meta = json.loads((checkpoint / "config.json").read_text())
    previous = {"backbone": "lite", "aqm_point_tokens": 256, "dropout": 0.0}
    fields = {f.name for f in dataclasses.fields(LMADConfig)}
    previous.update({k: v for k, v in (("head", "pooled"), ("objective", "cross_entropy")) if k in fields})
    figures = {}
    for name, make, points_per_cloud in (
            ("train_step", lambda: LMAD.from_pretrained(checkpoint), meta.get("num_points", 2048)),
            ("train_step_previous_config", lambda: build_model("lmad", **previous), 1024)):
        torch.manual_seed(0)
        model = make().train()
        optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-4)
        generator = torch.Generator().manual_seed(0)
        batch = torch.rand(16, points_per_cloud, 3, generator=generator) * 2 - 1
        labels = torch.randint(0, len(AFFORDANCE_CLASSES), (16, points_per_cloud), generator=generator)

        def step():
            logits = model(batch, list(AFFORDANCE_CLASSES))
            loss = torch.nn.functional.cross_entropy(logits.float(), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

        step()
        before = resource.getrusage(resource.RUSAGE_SELF)
        seconds = timed(step, repeats)
        after = resource.getrusage(resource.RUSAGE_SELF)
        figures[f"{name}_per_cloud_ms"] = 1000 * seconds / 16
        figures[f"{name}_page_faults"] = (after.ru_minflt - before.ru_minflt) / (repeats + 1)
    return figures


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--label", default="after", help="name of this run's results (speed_<label>.json)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--readme", action="store_true", help="only write the README table from saved results")
    args = parser.parse_args(argv)
    if args.readme:
        write_speed_table()
        return
    allocator = getattr(__import__("lmad.cli", fromlist=["cli"]), "ALLOCATOR_ENVIRONMENT", None)
    if allocator and "MALLOC_MMAP_THRESHOLD_" not in os.environ:  # as the lmad command runs itself
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **allocator})
    import torch

    figures = {"threads": torch.get_num_threads(), "cpus": os.cpu_count(), "torch": torch.__version__,
               "allocator_env": bool(allocator)}
    figures["gemm_gflops"] = gemm_rate(args.repeats)
    print(f"GEMM 2048^3 fp32: {figures['gemm_gflops']:.0f} GFLOP/s on {figures['threads']} threads", flush=True)
    for part in (backbone_figures, startup_figures, sampling_figures, prediction_figures, training_figures):
        found = part(figures["gemm_gflops"], args.repeats) if part is backbone_figures else part(args.repeats)
        figures.update(found)
        for key, value in found.items():
            target = TARGETS.get(key)
            suffix = f"   (target {target[1]} {target[0]})" if target else ""
            print(f"{key:32s} {value:12.4f}{suffix}", flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"speed_{args.label}.json"
    path.write_text(json.dumps(figures, indent=2))
    print(f"wrote {path}")


ROWS = [  # key, what, format
    ("gemm_gflops", "GEMM 2048^3 fp32 (GFLOP/s)", "{:.0f}"),
    ("backbone_forward_ms", "backbone forward B=1, N=2048 (ms)", "{:.1f}"),
    ("backbone_vs_flop_bound", "... as a multiple of its FLOP bound", "{:.2f}x"),
    ("import_s", "imports for a prediction (s)", "{:.2f}"),
    ("model_load_s", "loading the shipped model (s)", "{:.2f}"),
    ("predict_20k_wall_s", "`lmad predict` of a 20k-point file, wall (s)", "{:.2f}"),
    ("fps_2048_to_512_ms", "farthest point sampling 2,048 -> 512 (ms)", "{:.1f}"),
    ("fps_20k_to_1024_ms", "farthest point sampling 20,000 -> 1,024 (ms)", "{:.1f}"),
    ("predict_2k_s", "prediction, M = 2k points (s)", "{:.3f}"),
    ("predict_20k_s", "prediction, M = 20k (s)", "{:.3f}"),
    ("predict_200k_s", "prediction, M = 200k (s)", "{:.3f}"),
    ("predict_1M_s", "prediction, M = 1M (s)", "{:.2f}"),
    ("predict_5M_s", "prediction, M = 5M (s)", "{:.2f}"),
    ("train_step_previous_config_per_cloud_ms", "training step per cloud, previous shipped config, B=16 (ms)",
     "{:.1f}"),
    ("train_step_previous_config_page_faults", "... page faults per step", "{:,.0f}"),
    ("train_step_per_cloud_ms", "training step per cloud, the shipped model of each version (ms)", "{:.1f}"),
    ("train_step_page_faults", "... page faults per step", "{:,.0f}"),
]


def write_speed_table() -> None:
    runs = {label: json.loads((RESULTS / f"speed_{label}.json").read_text())
            for label in ("before", "after") if (RESULTS / f"speed_{label}.json").exists()}
    lines = ["| figure | " + " | ".join(runs) + " | target |", "|---" * (len(runs) + 2) + "|"]
    for key, what, fmt in ROWS:
        cells = [fmt.format(run[key]) if key in run else "-" for run in runs.values()]
        target = TARGETS.get(key)
        if key == "train_step_previous_config_per_cloud_ms":
            target_text = ">= 1.5x faster than before"
        else:
            target_text = f"{target[1]} {target[0]}" if target else ""
        lines.append(f"| {what} | " + " | ".join(cells) + f" | {target_text} |")
    from generated_tables import write_table

    write_table("speed-table", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
