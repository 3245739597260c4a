"""The training loop: OpenAD's recipe, CPU or CUDA, DDP through torchrun, exact resume.

    lmad train --config configs/lmad_full.yaml [--set optim.epochs=50 ...] [--out runs/x] [--resume]
    torchrun --nproc_per_node=4 -m lmad train --config ...     # several GPUs or nodes

Every run folder holds ``config.yaml`` (resolved), ``command.txt`` (the command that reproduces
it), ``metrics.csv``, TensorBoard events (when tensorboard is installed), and the checkpoints
``best/`` (by validation mIoU) and ``last/`` (with the optimizer state for ``--resume``).
"""

from __future__ import annotations

import csv
import dataclasses
import math
import os
import shlex
import sys
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import yaml

from lmad.errors import ConfigError, LMADError
from lmad.checkpoints import has_training_state, load_training_state, load_weights, save_training_checkpoint
from lmad.data import PARAPHRASES, Augment, PointCloudDataset, collate_samples
from lmad.data.dataset import query_targets
from lmad.data.sources import DATA_SOURCES, read_split
from lmad.eval.evaluate import evaluate_openad
from lmad.models import LMAD, build_model
from lmad.ops.compiled import use_compiled_kernels
from lmad.runtime import choose_device
from lmad.train.config import TrainConfig
from lmad.train.objectives import sample_queries, training_loss, training_queries


class TrainingDivergedError(LMADError, RuntimeError):
    """The loss became NaN or Inf; the last good checkpoint is kept."""


@dataclass
class Distributed:
    """This process's place in a torchrun launch (world size 1 without one)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @classmethod
    def from_environment(cls) -> "Distributed":
        return cls(int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1)),
                   int(os.environ.get("LOCAL_RANK", 0)))

    @property
    def main(self) -> bool:
        return self.rank == 0


# ---- data -------------------------------------------------------------------------------------

def build_datasets(config: TrainConfig) -> tuple[PointCloudDataset, PointCloudDataset]:
    """Train and validation datasets of the configured source."""
    data = config.data
    augment = None
    if data.augment:
        try:
            augment = Augment(**data.augment)
        except TypeError as error:  # a misspelled key
            known = sorted(f.name for f in dataclasses.fields(Augment))
            raise ValueError(f"data.augment: {error}; known keys: {', '.join(known)}") from error

    def load(split: str, augmented: bool) -> PointCloudDataset:
        aug = augment if augmented else None
        tasks = DATA_SOURCES[data.source].tasks if data.task == "both" else [data.task]
        parts = [read_split(data.source, data.root, split, task, data.none_threshold, data.skip_bad, aug,
                            config.run.seed) for task in tasks]
        training = split == data.train_split
        repeats = data.repeat_categories if training else {}
        present = {r.category for part in parts for r in part.records} if repeats else set()
        if set(repeats) - present:
            raise ValueError(f"data.repeat_categories names {sorted(set(repeats) - present)}, not among the "
                             f"training split's categories: {', '.join(sorted(present))}")
        if len(parts) == 1 and not repeats:
            return parts[0]
        full_times = data.repeat_full if training and len(parts) > 1 else 1  # parts[0]: the full shapes
        records = [r for i, part in enumerate(parts) for r in part.records
                   for _ in range(repeats.get(r.category, 1) * (full_times if i == 0 else 1))]
        return PointCloudDataset(records, parts[0].class_names, source=" + ".join(p.source for p in parts),
                                 augment=aug, seed=config.run.seed, layout=parts[0].layout)

    train_set, val_set = load(data.train_split, True), load(data.val_split, False)
    train_set.num_points = data.num_points
    return train_set, val_set


class WeightAverage:
    """An exponential moving average of a model's trainable weights and float buffers (``optim.ema``):
    after each step ``average = decay * average + (1 - decay) * weights``."""

    def __init__(self, model: torch.nn.Module, decay: float):
        self.decay = decay
        state = model.state_dict()
        trainable = [name for name, parameter in model.named_parameters() if parameter.requires_grad]
        buffers = [name for name, buffer in model.named_buffers() if buffer.is_floating_point()]
        self.names = [name for name in trainable + buffers if name in state]
        self.average = {name: state[name].detach().clone() for name in self.names}

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        state = model.state_dict()
        for name in self.names:
            self.average[name].lerp_(state[name], 1 - self.decay)

    @contextmanager
    def applied(self, model: torch.nn.Module):
        """The model holds the averaged weights inside the block, its own again after it."""
        state = model.state_dict()
        kept = {name: state[name].detach().clone() for name in self.names}
        with torch.no_grad():
            for name in self.names:
                state[name].copy_(self.average[name])
        try:
            yield model
        finally:
            with torch.no_grad():
                for name in self.names:
                    state[name].copy_(kept[name])


def epoch_batches(length: int, batch_size: int, seed: int, epoch: int, dist_info: Distributed) -> list[list[int]]:
    """This rank's batches for one epoch: a seeded shuffle, split evenly across ranks.

    The permutation depends only on (seed, epoch), so every rank agrees and a resumed run
    sees the same batches. The last incomplete batch is dropped (BatchNorm needs > 1 sample).
    """
    order = torch.randperm(length, generator=torch.Generator().manual_seed(seed * 100_003 + epoch)).tolist()
    per_rank = len(order) // dist_info.world_size
    mine = order[dist_info.rank * per_rank:(dist_info.rank + 1) * per_rank]
    count = len(mine) // batch_size if len(mine) >= batch_size else (1 if mine else 0)
    return [mine[i * batch_size:(i + 1) * batch_size] for i in range(count)]


def asked_queries(queries: list[str], paraphrase_chance: float, seed: int, step: int) -> list[str]:
    """The texts a training step asks: each query's name, or with ``paraphrase_chance`` one of
    its paraphrases (``lmad.data.PARAPHRASES``), drawn from (seed, step) so a resumed run asks the same."""
    if paraphrase_chance <= 0:
        return queries
    rng = np.random.default_rng([seed, step])
    asked = []
    for name in queries:
        options = PARAPHRASES.get(name, ())
        use = options and rng.random() < paraphrase_chance
        asked.append(options[int(rng.integers(len(options)))] if use else name)
    return asked


def step_queries(queries: list[str], batch: dict, class_names: list[str], config: TrainConfig, step: int):
    """What a training step asks: the texts (:func:`asked_queries`), shared by the batch, or with
    ``optim.queries_per_object`` one list per cloud; and the (chosen, weight) of
    :func:`lmad.train.objectives.sample_queries` for the loss, or None. Drawn from (seed, step)."""
    texts = asked_queries(queries, config.data.paraphrases, config.run.seed, step)
    if not config.optim.queries_per_object:
        return texts, None
    asked = sample_queries(query_targets(batch, class_names), config.optim.queries_per_object,
                           np.random.default_rng([config.run.seed, step, 1]))
    return [[texts[i] for i in row] for row in asked[0].tolist()], asked


# ---- schedule -----------------------------------------------------------------------------------

def learning_rate(optim, epoch: int) -> float:
    """OpenAD: lr halved every ``lr_step_epochs`` epochs, floored at ``lr_min``."""
    return max(optim.lr * optim.lr_decay ** (epoch // optim.lr_step_epochs), optim.lr_min)


def bn_momentum(optim, epoch: int) -> float:
    return max(optim.bn_momentum * optim.lr_decay ** (epoch // optim.lr_step_epochs), optim.bn_momentum_min)


def set_bn_momentum(model: torch.nn.Module, momentum: float) -> None:
    for module in model.modules():
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.momentum = momentum


def build_optimizer(model: LMAD, config: TrainConfig) -> torch.optim.Optimizer:
    """Adam; pretrained LM weights (when trained) in their own group with a smaller lr."""
    lm, new = [], []
    for name, parameter in model.named_parameters():
        if parameter.requires_grad:
            (lm if name.startswith("query_module.language_model.") else new).append(parameter)
    groups = [{"params": new, "lr": config.optim.lr, "base_lr": config.optim.lr}]
    if lm:
        groups.append({"params": lm, "lr": config.optim.language_model_lr, "base_lr": config.optim.language_model_lr})
    if config.optim.optimizer != "adam":
        raise ValueError(f"optim.optimizer: only 'adam' (OpenAD's recipe) is supported, got {config.optim.optimizer!r}")
    return torch.optim.Adam(groups, lr=config.optim.lr, weight_decay=config.optim.weight_decay)


# ---- the loop -------------------------------------------------------------------------------------

def initialise_from_checkpoint(model, checkpoint: str | Path, device) -> None:
    """Load a trained checkpoint's weights into a freshly built model (``model.init_from``):
    ``"shipped"`` or a checkpoint folder, whose model config must equal the model's."""
    from lmad.checkpoints import default_checkpoint_dir, load_weights, read_metadata
    from lmad.models import LMADConfig

    directory = default_checkpoint_dir() if str(checkpoint) == "shipped" else Path(checkpoint)
    meta = read_metadata(directory)
    stored = dataclasses.asdict(LMADConfig.from_checkpoint(meta, directory))
    differing = sorted(key for key, value in dataclasses.asdict(model.config).items() if stored.get(key) != value)
    if differing:
        raise ValueError(f"model.init_from: {directory} holds a different model ("
                         + ", ".join(f"{key}: {stored.get(key)!r} there, {getattr(model.config, key)!r} here"
                                     for key in differing)
                         + "); set model.overrides to match it")
    load_weights(model, directory, meta, device)


def train(config: TrainConfig, out_dir: str | Path, resume: bool = False, command: str | None = None,
          stop_after_steps: int | None = None) -> dict:
    """Train a model as configured; returns a summary dict (best mIoU, epochs, paths).

    ``stop_after_steps`` ends the run after that many optimizer steps, as an interruption
    would (tests use it to check that ``resume`` gives the same weights).
    """
    out_dir = Path(out_dir)
    dist_info = Distributed.from_environment()
    with _run_folder_claimed(out_dir, dist_info.main):
        return _train(config, out_dir, dist_info, resume, command, stop_after_steps)


@contextmanager
def _run_folder_claimed(out_dir: Path, main_process: bool):
    """Hold ``out_dir/.lock`` for the run: a second training given the same folder is refused at
    once instead of overwriting this one's checkpoints (released when the process ends, even
    killed: an OS file lock, where the platform has one)."""
    if not main_process:
        yield
        return
    try:
        import fcntl
    except ImportError:  # no POSIX file locks (Windows): unguarded
        yield
        return
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        handle = open(out_dir / ".lock", "a+")
    except OSError as error:
        raise LMADError(f"--out {out_dir}: cannot write there ({error.strerror or error}); choose another folder") \
            from error
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise LMADError(f"--out {out_dir} is in use by another training run; wait for it to finish "
                            "or give this one another --out") from None
        yield
    finally:
        handle.close()


def _train(config: TrainConfig, out_dir: Path, dist_info: "Distributed", resume: bool, command: str | None,
           stop_after_steps: int | None) -> dict:
    device = choose_device(config.run.device, dist_info.local_rank)
    use_compiled_kernels()  # thousands of calls: compiled sampling and grouping from the first
    if dist_info.world_size > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    torch.manual_seed(config.run.seed)
    np.random.seed(config.run.seed)

    train_set, val_set = build_datasets(config)
    class_names = list(train_set.class_names)
    model = build_model(config.model.name, **config.model.overrides).to(device)
    if config.model.init_from and not resume:  # a resumed run has its own weights in last/
        initialise_from_checkpoint(model, config.model.init_from, device)
    queries = training_queries(class_names, model.config.objective)
    if config.optim.queries_per_object and model.config.objective != "bce_dice":
        raise ConfigError("optim.queries_per_object needs the bce_dice objective (cross_entropy scores the "
                          "whole class set at once); set it to 0 or use objective: bce_dice")
    optimizer = build_optimizer(model, config)
    class_weight = torch.as_tensor(train_set.class_weights(), dtype=torch.float32, device=device)

    average = WeightAverage(model, config.optim.ema) if config.optim.ema else None
    start_epoch, start_step, global_step, best = 0, 0, 0, {"mIoU": -1.0, "epoch": -1}
    last_dir, best_dir = out_dir / "last", out_dir / "best"
    if resume:
        if not has_training_state(last_dir):
            raise FileNotFoundError(f"--resume: no checkpoint with training state in {last_dir}")
        load_weights(model, last_dir, map_location=device)
        state = load_training_state(last_dir)
        base_lrs = [group["base_lr"] for group in optimizer.param_groups]
        optimizer.load_state_dict(state["optimizer"])
        for group, base_lr in zip(optimizer.param_groups, base_lrs):
            group["base_lr"] = base_lr  # the config's learning rates win over the saved ones
        start_epoch, start_step, global_step = state["epoch"], state["step_in_epoch"], state["global_step"]
        best = state["best"]
        if average is not None and "ema" in state:
            average.average = {name: tensor.to(device) for name, tensor in state["ema"].items()}
        torch.set_rng_state(state["torch_rng"])
        if device.type == "cuda" and "cuda_rng" in state:
            torch.cuda.set_rng_state(state["cuda_rng"], device)
    if dist_info.main:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "config.yaml").write_text(yaml.safe_dump(config.to_dict(), sort_keys=False))
        (out_dir / "command.txt").write_text((command or _current_command()) + "\n")

    network = model
    if dist_info.world_size > 1:
        network = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None)
    amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(config.run.precision)
    use_amp = amp_dtype is not None and device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp and amp_dtype == torch.float16)
    logger = _RunLogger(out_dir, enabled=dist_info.main)
    optim = config.optim
    started = time.time()
    stopped_early = False
    summary_loss = float("nan")

    for epoch in range(start_epoch, optim.epochs):
        lr = learning_rate(optim, epoch)
        for group in optimizer.param_groups:  # every group decays alike, none below its floor
            group["lr"] = max(group["base_lr"] * lr / optim.lr, min(optim.lr_min, group["base_lr"]))
        set_bn_momentum(model, bn_momentum(optim, epoch))
        train_set.set_epoch(epoch)
        batches = epoch_batches(len(train_set), optim.batch_size, config.run.seed, epoch, dist_info)
        if optim.max_steps_per_epoch:
            batches = batches[:optim.max_steps_per_epoch]
        first = start_step if epoch == start_epoch else 0
        # The loader gets its own generator: drawing its worker seed from the global RNG would
        # shift the dropout stream and break exact resume.
        loader = torch.utils.data.DataLoader(train_set, batch_sampler=batches[first:], collate_fn=collate_samples,
                                             num_workers=config.run.num_workers,
                                             generator=torch.Generator().manual_seed(config.run.seed + epoch))
        model.train()
        losses, mid_epoch = [], False
        progress = _progress(loader, total=len(batches), initial=first, desc=f"epoch {epoch + 1}/{optim.epochs}",
                             enabled=dist_info.main and config.run.progress)
        tick = time.time()
        for step, batch in enumerate(progress, start=first):
            points = batch["points"].to(device, non_blocking=True)
            autocast = torch.autocast("cuda", dtype=amp_dtype) if use_amp else nullcontext()
            texts, asked = step_queries(queries, batch, class_names, config, global_step)
            with autocast:
                logits = network(points, texts)
            loss = training_loss(model.config.objective, logits, batch, class_names, class_weight,
                                 optim.near_negative_radius, asked)
            if not _all_finite(loss, dist_info):
                raise TrainingDivergedError(
                    f"the loss became {loss.item()} at epoch {epoch + 1}, step {step + 1}; training stopped. "
                    f"The last good checkpoint is in {last_dir} (lower optim.lr and run again with --resume)."
                )
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            if optim.grad_clip_norm:
                scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(model.parameters(), optim.grad_clip_norm)
            scaler.step(optimizer)
            scaler.update()
            if average is not None:
                average.update(model)
            global_step += 1
            losses.append(loss.item())
            if dist_info.main and config.run.progress:
                rate = points.shape[0] * dist_info.world_size * (step + 1 - first) / max(time.time() - tick, 1e-9)
                progress.set_postfix(loss=f"{losses[-1]:.4f}", clouds_per_s=f"{rate:.1f}")
            interrupted = stop_after_steps is not None and global_step >= stop_after_steps
            periodic = config.run.checkpoint_every_steps and global_step % config.run.checkpoint_every_steps == 0
            mid_epoch = step + 1 < len(batches)
            if (interrupted or periodic) and mid_epoch:
                _save_last(last_dir, model, optimizer, epoch, step + 1, global_step, best, device, dist_info, config,
                           average)
            if interrupted:
                stopped_early = True
                break
        _broadcast_buffers(model, dist_info)
        if stopped_early and mid_epoch:
            break
        summary_loss = float(np.mean(losses)) if losses else float("nan")
        row = {"epoch": epoch + 1, "step": global_step, "train_loss": summary_loss, "lr": lr,
               "seconds": round(time.time() - started, 1)}
        if (epoch + 1) % config.run.eval_every == 0 or epoch + 1 == optim.epochs:
            with average.applied(model) if average is not None else nullcontext():  # validated as saved
                metrics = evaluate_openad(model, val_set, class_names, device, config.run.eval_batch_size, seed=0,
                                          dist_info=dist_info)
                row.update({"val_mIoU": metrics["mIoU"], "val_Acc": metrics["Acc"], "val_mAcc": metrics["mAcc"]})
                if "binary" in metrics:  # per-label: IoU of p >= 0.5, AUC
                    row.update({"val_label_IoU": metrics["binary"]["IoU"],
                                "val_label_AUC": metrics["binary"]["AUC"]})
                if metrics["mIoU"] > best["mIoU"] and dist_info.main:
                    best = {"mIoU": metrics["mIoU"], "epoch": epoch + 1}
                    save_training_checkpoint(best_dir, model, None, _checkpoint_meta(
                        config, val_mIoU=best["mIoU"], epoch=best["epoch"], weights_averaged=average is not None))
        _save_last(last_dir, model, optimizer, epoch + 1, 0, global_step, best, device, dist_info, config, average)
        logger.log(row)
        if stopped_early:
            break
    logger.close()
    summary = {"epochs": optim.epochs, "global_step": global_step, "best_mIoU": best["mIoU"],
               "best_epoch": best["epoch"], "last_train_loss": summary_loss, "out": str(out_dir),
               "seconds": round(time.time() - started, 1), "stopped_early": stopped_early}
    if dist_info.main and (out_dir / "metrics.csv").exists():
        try:
            from lmad.viz.curves import plot_training_curve

            plot_training_curve(out_dir / "metrics.csv", out_dir / "curve.png")
        except ImportError:  # matplotlib is optional
            pass
    if dist_info.main and not stopped_early:
        print(f"done: {optim.epochs} epochs, {global_step} steps in {summary['seconds']:.0f} s; best val mIoU "
              f"{best['mIoU']:.4f} at epoch {best['epoch']}; checkpoints: {best_dir}, {last_dir}")
    return summary


def _checkpoint_meta(config: TrainConfig, **fields) -> dict:
    """What a checkpoint records of its training: the points per cloud (which loading and
    prediction use), the data, the configuration, and ``fields`` (e.g. its epoch and score)."""
    return {"num_points": config.data.num_points or 2048, "trained_on": {"source": config.data.source,
            "root": config.data.root, "task": config.data.task}, **fields, "train_config": config.to_dict()}


def _save_last(directory, model, optimizer, epoch, step, global_step, best, device, dist_info, config,
               average: WeightAverage | None = None):
    if not dist_info.main:
        return
    state = {"optimizer": optimizer.state_dict(), "epoch": epoch, "step_in_epoch": step,
             "global_step": global_step, "best": best, "torch_rng": torch.get_rng_state()}
    if average is not None:
        state["ema"] = average.average
    if device.type == "cuda":
        state["cuda_rng"] = torch.cuda.get_rng_state(device)
    save_training_checkpoint(directory, model, state, _checkpoint_meta(config, epoch=epoch, step_in_epoch=step))


def _broadcast_buffers(model: torch.nn.Module, dist_info: Distributed) -> None:
    """Give every rank rank 0's BatchNorm statistics (DDP's own rule at each forward), so the
    ranks hold identical models for evaluation and checkpoints."""
    if dist_info.world_size > 1:
        for buffer in model.buffers():
            dist.broadcast(buffer, src=0)


def _all_finite(loss: torch.Tensor, dist_info: Distributed) -> bool:
    finite = torch.isfinite(loss.detach()).float()
    if dist_info.world_size > 1:  # every rank stops together
        dist.all_reduce(finite, op=dist.ReduceOp.MIN)
    return bool(finite.item())


def _progress(iterable, total, initial, desc, enabled):
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, initial=initial, desc=desc, unit="batch", dynamic_ncols=True, leave=False)


def _current_command() -> str:
    return " ".join(shlex.quote(a) for a in [Path(sys.argv[0]).name, *sys.argv[1:]])


class _RunLogger:
    """metrics.csv always; TensorBoard when the tensorboard package is installed."""

    def __init__(self, out_dir: Path, enabled: bool):
        self.enabled = enabled
        self.path = out_dir / "metrics.csv"
        self.writer = None
        if enabled:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self.writer = SummaryWriter(str(out_dir / "tensorboard"))
            except ImportError:
                self.writer = None

    def log(self, row: dict) -> None:
        if not self.enabled:
            return
        fields = ["epoch", "step", "train_loss", "val_mIoU", "val_Acc", "val_mAcc", "val_label_IoU", "val_label_AUC",
                  "lr", "seconds"]
        new = not self.path.exists()
        with open(self.path, "a", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields)
            if new:
                writer.writeheader()
            writer.writerow({k: row.get(k, "") for k in fields})
        message = " ".join(f"{k}={v:.4f}" if isinstance(v, float) and not math.isnan(v) else f"{k}={v}"
                           for k, v in row.items())
        print(message, flush=True)
        if self.writer is not None:
            for key, value in row.items():
                if key not in ("epoch", "step") and isinstance(value, float):
                    self.writer.add_scalar(key, value, row["epoch"])
            self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


__all__ = ["TrainingDivergedError", "build_datasets", "epoch_batches", "train"]
