"""Speed of ``lmad synth``: 5,000 full shapes plus their 20,000 partial views, all cores.

    python benchmarks/bench_synth.py [--shapes 5000] [--workers N]
    python benchmarks/bench_synth.py --table data/synthetic/stats.json   # README statistics table

Prints the wall time of generating and writing both layouts (into a temporary folder that is
removed afterwards), and the per-shape cost; with ``--table``, a markdown table of a generated
dataset's statistics beside what is known of the real 3D AffordanceNet.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time

from lmad.data.synthetic import generate_dataset


# what the project knows of the real data (issue text: validation split, region sizes)
REAL = {"none": "43 % (validation split)"}
SMALL = ("openable", "pushable", "pull", "stab", "lift", "press")


def table(stats_path: str) -> str:
    stats = json.loads(open(stats_path).read())["splits"]["train"]
    lines = ["| | full shapes | partial views | real 3D AffordanceNet |", "|---|---|---|---|",
             f"| `none` points | {stats['full']['none_fraction']:.0%} | {stats['partial']['none_fraction']:.0%} | {REAL['none']} |"]
    for name, size in stats["full"]["region_size_mean"].items():
        real = "3-9 %" if name in SMALL else "mostly 20-40 %"
        partial = stats["partial"]["region_size_mean"].get(name, float("nan"))
        lines.append(f"| {name} region (mean share of its object) | {size:.1%} | {partial:.1%} | {real} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shapes", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--table", help="print the statistics table of this stats.json and exit")
    args = parser.parse_args(argv)
    if args.table:
        print(table(args.table))
        return
    workers = args.workers or os.cpu_count()
    folder = tempfile.mkdtemp(prefix="lmad-synth-bench-")
    try:
        start = time.perf_counter()
        stats = generate_dataset(folder, train=args.shapes, val=0, seed=0, workers=workers, progress=False)
        seconds = time.perf_counter() - start
        size = sum(os.path.getsize(os.path.join(root, f)) for root, _, files in os.walk(folder) for f in files)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    full = stats["splits"]["train"]["full"]
    print(f"workers={workers} shapes={args.shapes} partial views={4 * args.shapes}")
    print(f"wall time {seconds:.1f} s ({1000 * seconds / args.shapes:.1f} ms per shape with its 4 views), "
          f"written {size / 2**30:.2f} GiB, none fraction {full['none_fraction']:.3f}")


if __name__ == "__main__":
    main()
