"""Peak resident memory of a short `lmad train` run (steps, then one validation), as users run it.

    lmad synth --out /tmp/synth_small --train 200 --val 40 --seed 0 --balance uniform
    python benchmarks/train_memory.py --data /tmp/synth_small            # the shipped recipe's config
    python benchmarks/train_memory.py --data /tmp/synth_small --repeats 3 --steps 6

Each run is the `lmad` command in a fresh process (so with its allocator settings); the figure
is the peak resident set size of that process (``os.wait4``) and its wall time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_once(config: str, data: str, steps: int, out: Path) -> tuple[float, float]:
    """(wall seconds, peak RSS GB) of one short training run."""
    lmad = shutil.which("lmad")
    if lmad is None:
        raise SystemExit("the lmad command is not on PATH: pip install -e . first")
    started = time.perf_counter()
    child = subprocess.Popen([lmad, "train", "--config", config, "--out", str(out),
                              "--set", f"data.root={data}", "--set", "optim.epochs=1",
                              "--set", f"optim.max_steps_per_epoch={steps}", "--set", "run.progress=false",
                              "--set", "run.eval_every=1"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"lmad train failed: {child.stderr.read().decode()[-500:]}")
    return time.perf_counter() - started, usage.ru_maxrss / 1024 ** 2


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="a procedural dataset folder (lmad synth --out ...)")
    parser.add_argument("--config", default=str(ROOT / "configs" / "default_model_cpu.yaml"))
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        runs = [run_once(args.config, args.data, args.steps, Path(folder) / f"run{i}") for i in range(args.repeats)]
    print(f"{args.steps} steps + one validation, {args.repeats} runs: peak RSS "
          f"{', '.join(f'{m:.2f}' for _, m in runs)} GB (median {statistics.median(m for _, m in runs):.2f}); "
          f"wall {', '.join(f'{w:.1f}' for w, _ in runs)} s")


if __name__ == "__main__":
    main()
