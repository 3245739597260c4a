"""Speed of AffordanceDetector on inputs of M points and K queries; writes benchmarks/results/.

    python benchmarks/speed.py [--checkpoint DIR] [--device cpu|cuda] [--quick]

Latency (batch 1) for M in 2k, 20k, 200k, 1M (K = 5) and for K in 1, 5, 19, 50 (M = 20k);
throughput at batch 16 (M = 2k, K = 19); peak resident memory (CPU) or allocator peak (CUDA);
one training step of the checkpoint's model at batch 16. Each latency includes everything a
user waits for: normalisation, sampling, the model, carrying scores back to all M points.
Writes speed.json and speed.png (latency vs M and vs K) to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from lmad.data import AFFORDANCE_CLASSES
from lmad.predict import AffordanceDetector

RESULTS = Path(__file__).resolve().parent / "results"
QUERIES = [c for c in AFFORDANCE_CLASSES if c != "none"]


def peak_mib(device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def timed(fn, repeats, device):
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cloud(m, seed=0):
    rng = np.random.default_rng(seed)
    points = rng.normal(size=(m, 3)).astype(np.float32)
    return points / np.linalg.norm(points, axis=1, keepdims=True) * np.array([1.0, 2.0, 1.0], dtype=np.float32)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", help="default: the shipped model")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    detector = AffordanceDetector.from_pretrained(args.checkpoint, device=device)
    repeats = 2 if args.quick else 5
    print(f"device={device} threads={torch.get_num_threads()} model N={detector.num_points} "
          f"backbone={detector.model.config.backbone}")
    results = {"device": str(device), "threads": torch.get_num_threads(), "num_points": detector.num_points,
               "latency_vs_M": {}, "latency_vs_K": {}}
    for m in (2_000, 20_000, 200_000, 1_000_000):
        points = cloud(m)
        seconds = timed(lambda: detector(points, QUERIES[:4]), 1 if m >= 200_000 else repeats, device)
        results["latency_vs_M"][m] = seconds
        print(f"latency  M={m:>9,d} K=5   {seconds * 1000:9.1f} ms")
    points = cloud(20_000)
    for k in (1, 5, 19, 50):
        queries = (QUERIES * 3)[: k - 1] if k > 1 else []
        queries = [f"{q} {i // len(QUERIES)}" if i >= len(QUERIES) else q for i, q in enumerate(queries)]
        seconds = timed(lambda: detector(points, queries or ["grasp"]), repeats, device)
        results["latency_vs_K"][k] = seconds
        print(f"latency  M=   20,000 K={k:<3d} {seconds * 1000:9.1f} ms")
    clouds = [cloud(2_000, seed=s) for s in range(16)]
    seconds = timed(lambda: detector.predict_many(clouds, QUERIES, batch_size=16), repeats, device)
    results["throughput_b16_clouds_per_s"] = 16 / seconds
    print(f"throughput batch 16, M=2,000, K=19: {16 / seconds:.1f} clouds/s")
    model = detector.model
    model.train()
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-4)
    batch = torch.from_numpy(np.stack([c[: detector.num_points] for c in clouds])).to(device)
    labels = torch.randint(0, 19, (16, detector.num_points), device=device)

    def step():
        optimizer.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(batch, list(AFFORDANCE_CLASSES)), labels).backward()
        optimizer.step()

    results["train_step_b16_s"] = timed(step, 2, device)
    print(f"training step batch 16, N={detector.num_points}: {results['train_step_b16_s'] * 1000:.0f} ms")
    results["peak_mib"] = peak_mib(device)
    print(f"peak memory: {results['peak_mib']:.0f} MiB")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "speed.json").write_text(json.dumps(results, indent=2))
    plot(results, RESULTS / "speed.png")
    print(f"wrote {RESULTS / 'speed.json'} and {RESULTS / 'speed.png'}")


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4))
    ms = sorted(int(m) for m in results["latency_vs_M"])
    left.loglog(ms, [results["latency_vs_M"][m] for m in ms], marker="o", label="measured")
    left.loglog(ms, [results["latency_vs_M"][ms[1]] * m / ms[1] for m in ms], "--", color="grey", label="linear in M")
    left.set(xlabel="input points M", ylabel="latency (s)", title=f"K = 5, {results['device']}")
    left.legend()
    ks = sorted(int(k) for k in results["latency_vs_K"])
    right.plot(ks, [1000 * results["latency_vs_K"][k] for k in ks], marker="o")
    right.set(xlabel="queries K", ylabel="latency (ms)", title="M = 20,000")
    for ax in (left, right):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
