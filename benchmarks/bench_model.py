"""Forward latency and peak memory of LM-AD and its baselines (batch 1, N = 2048, K = 19).

    python benchmarks/bench_model.py [--device cpu] [--repeats 5]

Variants: LM-AD with the embedded MiniLM (AQM attending to all N point tokens, and to 512
farthest-point-sampled tokens), LM-AD with a randomly initialised BERT-base-sized language
model (12 blocks, width 768), the no-AQM ablation and the OpenAD-style baseline. Memory on CPU
is the rise of the process's peak resident set during the forward (Linux), on CUDA the peak
allocated by torch.
"""

from __future__ import annotations

import argparse
import statistics
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


def forward_peak_mib(run, device) -> float:
    """Peak memory the call adds: CUDA allocator peak, or the rise of VmHWM on Linux."""
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        start = torch.cuda.memory_allocated(device)
        run()
        return (torch.cuda.max_memory_allocated(device) - start) / 2**20
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak resident set size
    start = _status_kib("VmRSS")
    run()
    return (_status_kib("VmHWM") - start) / 1024


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--num-points", type=int, default=2048)
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    torch.manual_seed(0)
    print(f"device={device} threads={torch.get_num_threads()} torch={torch.__version__} "
          f"N={args.num_points} K={len(CLASSES)} batch=1")
    points = torch.rand(1, args.num_points, 3, device=device) * 2 - 1
    rows = []
    for label, (name, overrides) in VARIANTS.items():
        model = build_model(name, **overrides).to(device).eval()

        def run():
            with torch.no_grad():
                model(points, CLASSES)
            if device.type == "cuda":
                torch.cuda.synchronize()

        run()
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        peak = forward_peak_mib(run, device)
        rows.append((label, statistics.median(times) * 1000, peak, model.num_parameters()))
        del model
    baseline = dict((r[0], r[1]) for r in rows)["OpenAD-style, MiniLM"]
    print(f"\n{'model':36s}{'forward ms':>12s}{'x OpenAD':>10s}{'peak MiB':>10s}{'params':>14s}")
    for label, ms, peak, params in rows:
        print(f"{label:36s}{ms:12.1f}{ms / baseline:10.2f}{peak:10.0f}{params:14,d}")


if __name__ == "__main__":
    main()
