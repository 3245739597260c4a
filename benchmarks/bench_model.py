"""Forward latency and peak memory of LM-AD and its baselines (batch 1, N = 2048, K = 19).

    python benchmarks/bench_model.py [--device cpu] [--repeats 5]

Variants: LM-AD with the embedded MiniLM (AQM attending to all N point tokens, and to 512
farthest-point-sampled tokens), LM-AD with a randomly initialised BERT-base-sized language
model (12 blocks, width 768), the no-AQM ablation and the OpenAD-style baseline. Memory on CPU
is the rise of the peak resident set during the first forward (Linux), on CUDA the peak
allocated by torch.
Each variant runs in a fresh process, so that none inherits another's warmed-up allocator.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

from lmad import build_model

CLASSES = ["grasp", "contain", "lift", "openable", "layable", "sittable", "support", "wrap_grasp", "pourable",
           "move", "display", "pushable", "pull", "listen", "wear", "press", "cut", "stab", "none"]
BERT_BASE = {"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072}

VARIANTS = {
    "LM-AD, MiniLM (all N tokens)": ("lmad", {}),
    "LM-AD, MiniLM, 512 point tokens": ("lmad", {"aqm_point_tokens": 512}),
    "LM-AD, BERT-base size (random)": ("lmad", {"language_model_config": BERT_BASE}),
    "LM-AD, BERT-base size, 512 tokens": ("lmad", {"language_model_config": BERT_BASE, "aqm_point_tokens": 512}),
    "no-AQM, MiniLM": ("no_aqm", {}),
    "OpenAD-style, MiniLM": ("openad", {}),
}


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def measure_variant(label: str, device: torch.device, num_points: int, repeats: int) -> dict:
    """Build one variant, take the peak memory of its first forward, then its median latency."""
    name, overrides = VARIANTS[label]
    torch.manual_seed(0)
    model = build_model(name, **overrides).to(device).eval()
    points = torch.rand(1, num_points, 3, device=device) * 2 - 1

    def run():
        with torch.no_grad():
            model(points, CLASSES)
        if device.type == "cuda":
            torch.cuda.synchronize()

    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        start = torch.cuda.memory_allocated(device)
        run()
        peak = (torch.cuda.max_memory_allocated(device) - start) / 2**20
    else:  # in a fresh process the first forward's temporaries all raise the resident set
        start = _status_kib("VmRSS")
        run()
        peak = (_status_kib("VmHWM") - start) / 1024
    for _ in range(3):
        run()
    times = []
    for _ in range(repeats):
        begin = time.perf_counter()
        run()
        times.append(time.perf_counter() - begin)
    return {"label": label, "ms": statistics.median(times) * 1000, "peak_mib": peak,
            "params": model.num_parameters()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--num-points", type=int, default=2048)
    parser.add_argument("--variant", help=argparse.SUPPRESS)  # internal: measure one variant, print JSON
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    if args.variant:
        print(json.dumps(measure_variant(args.variant, device, args.num_points, args.repeats)))
        return
    print(f"device={device} threads={torch.get_num_threads()} torch={torch.__version__} "
          f"N={args.num_points} K={len(CLASSES)} batch=1 (each variant in its own process)")
    rows = []
    for label in VARIANTS:  # a fresh process per variant: same allocator state for all
        out = subprocess.run([sys.executable, __file__, "--variant", label, "--device", args.device,
                              "--repeats", str(args.repeats), "--num-points", str(args.num_points)],
                             check=True, capture_output=True, text=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
    baseline = next(r["ms"] for r in rows if r["label"] == "OpenAD-style, MiniLM")
    print(f"\n{'model':36s}{'forward ms':>12s}{'x OpenAD':>10s}{'peak MiB':>10s}{'params':>14s}")
    for r in rows:
        print(f"{r['label']:36s}{r['ms']:12.1f}{r['ms'] / baseline:10.2f}{r['peak_mib']:10.0f}{r['params']:14,d}")


if __name__ == "__main__":
    main()
