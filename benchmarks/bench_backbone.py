"""Speed of lmad's PointNet++ backbone against a straightforward reference implementation.

    python benchmarks/bench_backbone.py [--repeats 5] [--train-batch 16] [--device cpu]

Prints forward latency at batch 1 and 16 (N = 2048, eval, no grad), one training step
(forward, backward, Adam) at batch 16, a breakdown of the batch-1 forward by stage, and the
ratios ours / reference. The lighter "lite" config is timed too.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reference_pointnet2 import ReferencePointNet2  # noqa: E402

import lmad.models.pointnet2 as pointnet2  # noqa: E402
from lmad.models import PointNet2Backbone  # noqa: E402


def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_call(fn, device, repeats):
    """Median wall time of ``repeats`` calls after three warm-up calls."""
    for _ in range(3):
        fn()
    times = []
    for _ in range(repeats):
        synchronize(device)
        start = time.perf_counter()
        fn()
        synchronize(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def forward_time(model, batch, num_points, device, repeats):
    model.eval()
    xyz = torch.rand(batch, num_points, 3, device=device) * 2 - 1
    with torch.no_grad():
        return time_call(lambda: model(xyz), device, repeats)


def train_step_time(model, batch, num_points, device, repeats):
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    xyz = torch.rand(batch, num_points, 3, device=device) * 2 - 1

    def step():
        optimizer.zero_grad(set_to_none=True)
        model(xyz).square().mean().backward()
        optimizer.step()

    return time_call(step, device, repeats)


@contextlib.contextmanager
def stage_timers(totals):
    """Wrap the ops the backbone calls so that each call adds its wall time to a stage."""
    stages = {
        (pointnet2, "farthest_point_sample"): "sampling",
        (pointnet2, "pairwise_distance"): "neighbour search",
        (pointnet2, "ball_query_from_distances"): "neighbour search",
        (pointnet2, "gather_points"): "grouping",
        (pointnet2.PointwiseMLP, "forward"): "MLPs",
        (pointnet2, "three_nn_interpolate"): "propagation (3-NN interpolation)",
    }
    originals = {key: getattr(*key) for key in stages}

    def timed(fn, stage):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            out = fn(*args, **kwargs)
            totals[stage] += time.perf_counter() - start
            return out

        return wrapper

    try:
        for (owner, name), stage in stages.items():
            setattr(owner, name, timed(originals[(owner, name)], stage))
        yield
    finally:
        for (owner, name), fn in originals.items():
            setattr(owner, name, fn)


def breakdown(model, num_points, device, repeats):
    model.eval()
    xyz = torch.rand(1, num_points, 3, device=device) * 2 - 1
    with torch.no_grad():
        model(xyz)
        totals = defaultdict(float)
        with stage_timers(totals):
            start = time.perf_counter()
            for _ in range(repeats):
                model(xyz)
            total = time.perf_counter() - start
    rows = {stage: seconds / repeats for stage, seconds in totals.items()}
    rows["other (concatenation, pooling, transposes)"] = total / repeats - sum(rows.values())
    return rows, total / repeats


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--train-repeats", type=int, default=3)
    parser.add_argument("--train-batch", type=int, default=16)
    parser.add_argument("--num-points", type=int, default=2048)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    torch.manual_seed(0)
    n = args.num_points
    print(f"device={device} threads={torch.get_num_threads()} torch={torch.__version__} N={n}")

    ours = PointNet2Backbone().to(device)
    lite = PointNet2Backbone("lite").to(device)
    reference = ReferencePointNet2().to(device)
    counts = {name: sum(p.numel() for p in m.parameters()) for name, m in
              [("lmad", ours), ("lite", lite), ("reference", reference)]}
    print("parameters: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))

    # Warm every model at both batch sizes before timing any: the first large allocations of a
    # process pay page faults that later ones do not, which would favour whichever runs last.
    for model in (ours, reference, lite):
        for batch in (1, 16):
            forward_time(model, batch, n, device, repeats=1)
    results = {}
    for name, model in [("lmad", ours), ("reference", reference), ("lite", lite)]:
        results[name] = {
            "forward_b1": forward_time(model, 1, n, device, args.repeats),
            "forward_b16": forward_time(model, 16, n, device, max(1, args.repeats // 3)),
            "train_step": train_step_time(model, args.train_batch, n, device, args.train_repeats),
        }
    print(f"\n{'':24s}{'lmad':>12s}{'reference':>12s}{'ratio':>8s}{'lite':>12s}{'lite/lmad':>10s}")
    labels = {"forward_b1": "forward B=1 (ms)", "forward_b16": "forward B=16 (ms)",
              "train_step": f"train step B={args.train_batch} (ms)"}
    for key, label in labels.items():
        a, r, lt = (results[m][key] * 1000 for m in ("lmad", "reference", "lite"))
        print(f"{label:24s}{a:12.1f}{r:12.1f}{a / r:8.2f}{lt:12.1f}{lt / a:10.3f}")

    rows, total = breakdown(ours, n, device, args.repeats)
    print(f"\nlmad forward B=1 by stage (total {total * 1000:.1f} ms):")
    for stage, seconds in sorted(rows.items(), key=lambda kv: -kv[1]):
        print(f"  {stage:44s}{seconds * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
