"""Speed on a busy machine: farthest point sampling, the backbone and a whole prediction, with
1 thread, 2 threads, lmad's defaults and the settings before them, idle and beside a CPU-bound process.

    python docs/experiments/busy_machine.py            # about 3 minutes on 2 cores
    python docs/experiments/busy_machine.py --json docs/experiments/busy_machine.json

A robot's computer always runs other processes. Loops of many small tensor ops (farthest point
sampling picks its points one by one) enter a parallel region per op and wait at its barrier for
every worker thread; when another process holds a core, a descheduled worker makes each of those
waits long. lmad runs such loops on one thread (``lmad.runtime.single_threaded``) and lets idle
OpenMP workers spin only briefly before they sleep (``GOMP_SPINCOUNT=4000``, when lmad is imported
before torch or runs as the ``lmad`` command; libgomp spins 300,000 times). Each case runs
in a fresh process (thread settings are per process); "busy" starts one pure-Python spinning
process per --busy core beside it. Printed: median wall time of --repeats runs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CASES = {  # each imports lmad first, as a user's program would, so that lmad's defaults apply
    "fps 2048->512": """
import lmad
import torch
from lmad.ops import farthest_point_sample
x = torch.rand(1, 2048, 3, generator=torch.Generator().manual_seed(0))
run = lambda: farthest_point_sample(x, 512)
""",
    "fps 32768->2048": """
import lmad
import torch
from lmad.ops import farthest_point_sample
x = torch.rand(1, 32768, 3, generator=torch.Generator().manual_seed(0))
run = lambda: farthest_point_sample(x, 2048)
""",
    "backbone forward B=1 N=2048": """
import lmad
import torch
from lmad.models import PointNet2Backbone
model = PointNet2Backbone().eval()
x = torch.rand(1, 2048, 3, generator=torch.Generator().manual_seed(0)) * 2 - 1
def run():
    with torch.no_grad():
        model(x)
""",
    "prediction 20k points": """
import numpy as np
from lmad.predict import AffordanceDetector
detector = AffordanceDetector.from_pretrained(device="cpu")
points = np.random.default_rng(0).normal(size=(20_000, 3))
run = lambda: detector(points, ["grasp", "contain", "pour"])
""",
}

TIMER = """
import statistics, time
run()
times = []
for _ in range({repeats}):
    start = time.perf_counter(); run(); times.append(time.perf_counter() - start)
print(statistics.median(times))
"""

SPIN = "while True:\n    pass\n"


def measure(case: str, threads: int | None, repeats: int, spin_count: str | None = None) -> float:
    env = dict(os.environ)
    for key in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT"):
        env.pop(key, None)
    if threads is not None:
        env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(threads)
    if spin_count is not None:  # lmad only fills in an unset variable
        env["GOMP_SPINCOUNT"] = spin_count
    code = CASES[case] + TIMER.format(repeats=repeats)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--busy", type=int, default=1, help="spinning background processes (default 1)")
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args(argv)
    # name -> (threads, GOMP_SPINCOUNT); "default" = lmad's defaults (all cores, 4,000 spins),
    # "before" = all cores with libgomp's default 300,000 spins, as lmad ran before it set them
    settings = {"1 thread": (1, None), "2 threads": (2, None), "default": (None, None), "before": (None, "300000")}
    results = {}
    print(f"cpus={os.cpu_count()} busy processes={args.busy}; median of {args.repeats}, seconds")
    print(f"{'case':30s} {'load':6s} " + " ".join(f"{name:>10s}" for name in settings) + "   default / best")
    for case in args.cases.split(","):
        for load in ("idle", "busy"):
            spinners = [subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(args.busy if load == "busy" else 0)]
            try:
                time.sleep(0.5 if spinners else 0)
                row = {name: measure(case, threads, args.repeats, policy) for name, (threads, policy) in settings.items()}
            finally:
                for spinner in spinners:
                    spinner.kill()
                    spinner.wait()
            best = min(row["1 thread"], row["2 threads"])
            results.setdefault(case, {})[load] = row
            print(f"{case:30s} {load:6s} " + " ".join(f"{row[name]:10.4f}" for name in settings)
                  + f"   {row['default'] / best:5.2f}x")
        idle, busy = results[case]["idle"]["default"], results[case]["busy"]["default"]
        before = results[case]["busy"]["before"] / results[case]["idle"]["before"]
        print(f"{'':30s} default busy / idle: {busy / idle:.2f}x (before: {before:.2f}x)")
    if args.json:
        Path(args.json).write_text(json.dumps({"cpus": os.cpu_count(), "busy": args.busy, "repeats": args.repeats,
                                               "results": results}, indent=2))
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
