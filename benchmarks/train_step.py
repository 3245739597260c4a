"""Where a training step's time goes, with a training config's data and model.

    python benchmarks/train_step.py                                   # configs/default_model_cpu.yaml
    python benchmarks/train_step.py --config X.yaml --steps 10 --set data.augment={}
    python benchmarks/train_step.py --set optim.queries_per_object=6   # each cloud asked 6 of the 18

Per phase, mean milliseconds per step (of ``optim.batch_size`` clouds) over ``--steps`` steps
after 2 warm-up steps: loading and augmenting the batch (the dataset's ``__getitem__`` and
collation, as the trainer's loader runs them with ``num_workers: 0``), the forward pass split by
module (backbone, projection, point-token sampling, AQM, head; timed by forward hooks), the
loss, the backward pass and the optimizer step (clipping included), and the steps per hour that
make. Needs the config's dataset on disk (``lmad synth`` for the procedural one).

It runs in a process set up as ``lmad train`` sets up its own (glibc keeping freed memory, see
``lmad.cli.console_main``); ``--system-allocator`` measures without that.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default=str(ROOT / "configs" / "default_model_cpu.yaml"))
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--set", action="append", default=[], help="a config override, key=value")
    parser.add_argument("--system-allocator", action="store_true", help="glibc's default (freed memory handed back)")
    args = parser.parse_args(argv)
    import os
    import sys

    from lmad.cli import ALLOCATOR_ENVIRONMENT

    missing = {k: v for k, v in ALLOCATOR_ENVIRONMENT.items() if k not in os.environ}
    if missing and not args.system_allocator:  # must be set when the process starts: run again with it
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **missing})

    import torch

    from lmad.data import collate_samples
    from lmad.models import build_model
    from lmad.train import TrainConfig
    from lmad.ops.compiled import use_compiled_kernels
    from lmad.train.objectives import training_loss, training_queries
    from lmad.train.trainer import Distributed, build_datasets, build_optimizer, epoch_batches, step_queries

    config = TrainConfig.from_file(args.config, args.set)
    use_compiled_kernels()  # as lmad train does
    torch.manual_seed(0)
    train_set, _ = build_datasets(config)
    class_names = list(train_set.class_names)
    model = build_model(config.model.name, **config.model.overrides).train()
    queries = training_queries(class_names, model.config.objective)
    optimizer = build_optimizer(model, config)
    class_weight = torch.as_tensor(train_set.class_weights(), dtype=torch.float32)
    batches = epoch_batches(len(train_set), config.optim.batch_size, 0, 0, Distributed())

    totals = defaultdict(float)

    def timed(name, owner, attribute):  # wrap a method or module function to add its wall time
        inner = getattr(owner, attribute)

        def wrapper(*a, **k):
            tick = time.perf_counter()
            out = inner(*a, **k)
            totals[name] += time.perf_counter() - tick
            return out

        setattr(owner, attribute, wrapper)

    import lmad.models.lmad as lmad_module

    timed("forward: backbone", model.backbone, "forward")
    timed("forward: projection", model.projection, "forward")
    timed("forward: point-token sampling", lmad_module, "farthest_point_sample")
    timed("forward: AQM (language model + cross-attention)", model.query_module, "token_states")
    timed("forward: head", model.head, "forward")

    def step(index, record):
        tick = time.perf_counter()
        batch = collate_samples([train_set[i] for i in batches[index]])
        t_data = time.perf_counter()
        texts, asked = step_queries(queries, batch, class_names, config, index)  # as the trainer asks
        logits = model(batch["points"], texts)
        t_forward = time.perf_counter()
        loss = training_loss(model.config.objective, logits, batch, class_names, class_weight, asked=asked)
        t_loss = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        t_backward = time.perf_counter()
        if config.optim.grad_clip_norm:
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.optim.grad_clip_norm)
        optimizer.step()
        t_step = time.perf_counter()
        if record:
            totals["data: load, augment, collate"] += t_data - tick
            totals["forward: total"] += t_forward - t_data
            totals["loss"] += t_loss - t_forward
            totals["backward"] += t_backward - t_loss
            totals["optimizer step (with clipping)"] += t_step - t_backward
            totals["step"] += t_step - tick

    for i in range(2):
        step(i, record=False)
    totals.clear()
    for i in range(2, 2 + args.steps):
        step(i, record=True)
    per_step = {name: 1000 * value / args.steps for name, value in totals.items()}
    order = ["data: load, augment, collate", "forward: total", "forward: backbone", "forward: projection",
             "forward: point-token sampling", "forward: AQM (language model + cross-attention)", "forward: head",
             "loss", "backward", "optimizer step (with clipping)", "step"]
    allocator = "system allocator" if args.system_allocator else "allocator as lmad train"
    print(f"{args.config}: batch {config.optim.batch_size}, {train_set.num_points} points, "
          f"{torch.get_num_threads()} threads, {allocator}, mean of {args.steps} steps")
    for name in [name for name in order if name in per_step]:  # a model without a part never timed it
        share = per_step[name] / per_step["step"]
        print(f"  {name:50s} {per_step[name]:8.1f} ms  {share:6.1%}")
    per_cloud = per_step["step"] / config.optim.batch_size
    print(f"  steps per hour: {3.6e6 / per_step['step']:.0f}; per cloud {per_cloud:.1f} ms")


if __name__ == "__main__":
    main()
