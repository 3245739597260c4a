"""Checkpoint folders: the one place that knows their layout.

    <folder>/config.json          the model config, the language model's fingerprint, the points per
                                  cloud the model was trained with, a SHA-256 of the weights file,
                                  what training recorded
    <folder>/model.safetensors    the weights (a frozen pretrained language model is left out)
    <folder>/training_state.pt    `last/` checkpoints only: optimizer, step, RNG (for --resume)

The model shipped with lmad lives in ``default/`` beside this file, with its model card
(``default/README.md``). Saving is atomic (a temporary folder swapped in); loading checks the
JSON, the checksum and every tensor name and shape, and fails with :class:`CheckpointError`
saying what is wrong.

This module knows the folder, not the model class: it writes and reads any model that offers
``config.to_dict()``, ``state_dict()``, ``stored_state_prefix_skipped()`` (the frozen language
model's weights, left out) and ``language_model_fingerprint()``; building the model from the
config is the model's own business (``LMAD.from_pretrained``).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from lmad.atomic_files import atomic_write
from lmad.errors import LMADError

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
TRAINING_STATE_FILE = "training_state.pt"
DEFAULT_NUM_POINTS = 2048  # for checkpoints that do not record theirs


class CheckpointError(LMADError, ValueError):
    """A folder is not a usable lmad checkpoint; the message says why and what to do."""


def default_checkpoint_dir() -> Path:
    """The checkpoint shipped inside the package (``lmad/checkpoints/default``)."""
    return Path(__file__).resolve().parent / "default"


def read_metadata(directory: str | Path) -> dict:
    """``config.json`` of a checkpoint folder, checked to describe a model."""
    directory = Path(directory)
    if not directory.is_dir():
        raise CheckpointError(f"no lmad checkpoint at {directory}: pass the folder of a trained model "
                              "(config.json + model.safetensors), e.g. runs/<name>/best from `lmad train`")
    for required in (CONFIG_FILE, WEIGHTS_FILE):
        if not (directory / required).is_file():
            raise CheckpointError(f"{directory} is not an lmad checkpoint: {required} is missing")
    try:
        meta = json.loads((directory / CONFIG_FILE).read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CheckpointError(f"{directory / CONFIG_FILE} is not valid JSON ({error}); the checkpoint is damaged")
    if not isinstance(meta, dict) or not isinstance(meta.get("model"), dict):
        raise CheckpointError(f"{directory / CONFIG_FILE} has no \"model\" section: it was not written by lmad "
                              "(save models with model.save_pretrained or `lmad train`)")
    return meta


def num_points(meta: dict) -> int:
    """The points per cloud a checkpoint's model was trained with (from its ``read_metadata``)."""
    return int(meta.get("num_points") or DEFAULT_NUM_POINTS)


def model_config_dict(meta: dict) -> dict:
    """The model config a checkpoint's ``config.json`` describes (with the defaults of checkpoints
    written before the per-query head and the sigmoid objective existed)."""
    return {"head": "pooled", "objective": "cross_entropy", **meta["model"]}


def save_model(model, directory: str | Path, extra: dict | None = None) -> Path:
    """Write ``config.json`` and ``model.safetensors`` of ``model`` into ``directory``.

    A frozen pretrained LM is not stored: the config names it and records a fingerprint of its
    weights, which loading checks. ``extra`` entries (e.g. the points per cloud) go into
    ``config.json``, with a SHA-256 of the weights file.
    """
    from safetensors.torch import save_file

    from lmad import __version__

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    skipped = model.stored_state_prefix_skipped()
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()
             if skipped is None or not k.startswith(skipped)}
    weights = directory / WEIGHTS_FILE
    atomic_write(weights, lambda path: save_file(state, str(path), metadata={"format": "pt"}))
    meta = {
        "lmad_version": __version__,
        "model": model.config.to_dict(),
        "language_model_fingerprint": model.language_model_fingerprint(),
        "language_model_stored": skipped is None,
        **(extra or {}),
        "weights_sha256": _sha256(weights),
    }
    atomic_write(directory / CONFIG_FILE, lambda path: path.write_text(json.dumps(meta, indent=2)))
    return directory


def load_weights(model, directory: str | Path, meta: dict | None = None, map_location="cpu") -> None:
    """Load a checkpoint folder's weights into ``model`` (built from the same config); ``meta`` is
    the folder's ``read_metadata`` when the caller has it already.

    The weights must match the checksum in ``config.json`` (when it has one), and a checkpoint
    without the frozen LM must meet the same LM weights (fingerprint check).
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    directory = Path(directory)
    meta = read_metadata(directory) if meta is None else meta
    weights = directory / WEIGHTS_FILE
    expected = meta.get("weights_sha256")
    if expected is not None and _sha256(weights) != expected:
        raise CheckpointError(f"{weights} does not match the checksum in its config.json: the file is damaged or "
                              "was replaced; copy the checkpoint again")
    try:
        state = load_file(str(weights), device=str(map_location))
    except (SafetensorError, OSError) as error:
        raise CheckpointError(f"{weights} cannot be read as safetensors ({error}); the file is damaged") from error
    stored = meta.get("language_model_stored", True)
    model.load_checked_state_dict(state, partial_language_model=not stored)
    if not stored:
        found = model.language_model_fingerprint()
        if found != meta.get("language_model_fingerprint"):
            raise CheckpointError(
                f"checkpoint {directory} was trained on language model {meta['model'].get('language_model')!r} "
                f"with weights fingerprint {meta.get('language_model_fingerprint')}, but the model found "
                f"here has fingerprint {found}: install the same language model version"
            )


def save_training_checkpoint(directory: str | Path, model, training_state: dict | None = None,
                             extra: dict | None = None) -> None:
    """Write a checkpoint folder atomically (into a temporary folder, then swapped in), with the
    training state for ``--resume`` when given."""
    import torch

    directory = Path(directory)
    temporary = directory.with_name(directory.name + ".tmp")
    shutil.rmtree(temporary, ignore_errors=True)
    save_model(model, temporary, extra)
    if training_state is not None:
        torch.save(training_state, temporary / TRAINING_STATE_FILE)
    previous = directory.with_name(directory.name + ".old")
    if directory.exists():
        shutil.rmtree(previous, ignore_errors=True)
        directory.rename(previous)
    temporary.rename(directory)
    shutil.rmtree(previous, ignore_errors=True)


def has_training_state(directory: str | Path) -> bool:
    return (Path(directory) / TRAINING_STATE_FILE).is_file()


def load_training_state(directory: str | Path) -> dict:
    """The optimizer state, step counters and RNG of a ``last/`` checkpoint (tensors only, no pickle code)."""
    import torch

    return torch.load(Path(directory) / TRAINING_STATE_FILE, map_location="cpu", weights_only=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()



def average_checkpoints(directories: list, out: str | Path) -> Path:
    """A uniform weight average ("model soup") of checkpoints of one model, written to ``out``.

    The checkpoints must describe the same model (``config.json``'s model section and the
    language model's fingerprint) with the same tensors, e.g. runs fine-tuned from one parent
    with different seeds. Floating-point tensors are averaged (BatchNorm statistics included);
    integer ones (step counters) are taken from the first. ``out/config.json`` is the first's,
    with ``averaged_from`` listing the members.
    """
    from safetensors.torch import load_file, save_file

    directories = [Path(d) for d in directories]
    if len(directories) < 2:
        raise CheckpointError("averaging needs at least two checkpoints")
    metas = [read_metadata(d) for d in directories]
    # a frozen language model is not stored: its fingerprint must match; a stored one is averaged
    keys = ("model", "language_model_stored") + (() if metas[0].get("language_model_stored", True)
                                                 else ("language_model_fingerprint",))
    for directory, meta in zip(directories[1:], metas[1:]):
        for key in keys:
            if meta.get(key) != metas[0].get(key):
                raise CheckpointError(f"{directory} holds another model than {directories[0]} ({key} differs); "
                                      "average checkpoints of one model, e.g. fine-tunings of one parent")
    states = [load_file(str(d / WEIGHTS_FILE)) for d in directories]
    names = set(states[0])
    for directory, state in zip(directories[1:], states[1:]):
        if set(state) != names or any(state[k].shape != states[0][k].shape for k in names):
            raise CheckpointError(f"{directory}'s tensors differ in names or shapes from {directories[0]}'s")
    averaged = {}
    for name, first in states[0].items():
        if first.is_floating_point():
            averaged[name] = sum(state[name].double() for state in states).div(len(states)).to(first.dtype)
        else:
            averaged[name] = first
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    weights = out / WEIGHTS_FILE
    atomic_write(weights, lambda path: save_file(averaged, str(path), metadata={"format": "pt"}))
    meta = {**metas[0], "averaged_from": [str(d) for d in directories], "weights_sha256": _sha256(weights)}
    for key in ("val_mIoU", "epoch"):
        meta.pop(key, None)
    atomic_write(out / CONFIG_FILE, lambda path: path.write_text(json.dumps(meta, indent=2)))
    return out
