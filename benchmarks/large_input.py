"""One very large file through `lmad predict` with the default formats, as a user runs it:
wall time and peak resident memory of the whole command, beside their targets.

    python benchmarks/large_input.py                  # 10M points; writes results/large_input.json
    python benchmarks/large_input.py --points 2000000

The cloud is the example mug's surface, sampled (seeded) to the asked size and saved as .npy.
Each run is a fresh process (`python -m lmad predict ...`); the figure is the median of --repeats.
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

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"wall_s": 30.0, "peak_rss_gb": 1.5}  # for 10M points with the default formats
MAKE_CLOUD = """import sys, numpy as np, trimesh
mesh = trimesh.load(sys.argv[1], force="mesh")
np.save(sys.argv[3], np.asarray(trimesh.sample.sample_surface(mesh, int(sys.argv[2]), seed=0)[0]))"""


def run_once(path: Path, out: Path) -> tuple[float, float]:
    """(wall seconds, peak RSS GB) of one `lmad predict` of ``path`` in a fresh process."""
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "lmad", "predict", str(path), "--queries", "grasp,contain",
                              "--out", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)  # this child's own peak, not the largest child's so far
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"lmad predict failed with exit status {child.returncode}")
    return wall, usage.ru_maxrss / 1024 ** 2  # KiB on Linux


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--results", default=str(ROOT / "benchmarks" / "results" / "large_input.json"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "large.npy"
        # made in a process of its own: a child forked from a large parent starts at its size, and
        # its peak resident memory would count the parent's
        subprocess.run([sys.executable, "-c", MAKE_CLOUD, str(ROOT / "examples" / "mug.obj"), str(args.points),
                        str(path)], check=True)
        runs = [run_once(path, Path(folder) / f"out{i}") for i in range(args.repeats)]
    figures = {"points": args.points, "formats": "npz,png,json (the default)",
               "wall_s": round(statistics.median(w for w, _ in runs), 2),
               "peak_rss_gb": round(max(m for _, m in runs), 3), "runs": [[round(w, 2), round(m, 3)] for w, m in runs]}
    for key, target in TARGETS.items():
        print(f"{key:12s} {figures[key]:8.2f}   target <= {target} (for 10M points)")
    Path(args.results).write_text(json.dumps(figures, indent=2) + "\n")
    print(f"wrote {args.results}")


if __name__ == "__main__":
    main()
