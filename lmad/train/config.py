"""Training configuration: YAML files in ``configs/``, overridable with ``--set key=value``."""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from pathlib import Path

import yaml


@dataclass
class ModelSection:
    name: str = "lmad"  # a name from lmad.available_models()
    overrides: dict = field(default_factory=dict)  # any LMADConfig field, e.g. backbone: lite
    # start from a trained checkpoint's weights (fine-tuning): a checkpoint folder, or "shipped"
    # for the model shipped with lmad; its model config must equal this one's
    init_from: str | None = None


@dataclass
class DataSection:
    source: str = "affordancenet"  # affordancenet | synthetic | folder
    root: str = "data/affordancenet"
    task: str = "full"  # full | partial | both (both: full shapes and partial views together)
    repeat_full: int = 1  # task both: each full shape is in an epoch this often (4 views per shape: 4 gives 1:1)
    paraphrases: float = 0.0  # chance that a training query is asked by a paraphrase (lmad.data.PARAPHRASES)
    train_split: str = "train"
    val_split: str = "val"
    num_points: int | None = None  # random subset of this many points per training sample
    none_threshold: float = 0.0
    skip_bad: bool = False
    augment: dict = field(default_factory=dict)  # lmad.data.Augment fields; off by default (OpenAD)


@dataclass
class OptimSection:
    optimizer: str = "adam"
    lr: float = 1e-3
    weight_decay: float = 1e-4
    batch_size: int = 16
    epochs: int = 200
    lr_step_epochs: int = 20  # lr and BatchNorm momentum halve every this many epochs
    lr_decay: float = 0.5
    lr_min: float = 1e-5
    bn_momentum: float = 0.1
    bn_momentum_min: float = 0.01
    language_model_lr: float = 1e-5  # for pretrained LM weights, when they are trained
    grad_clip_norm: float | None = None  # clip the gradient norm (None: off, as OpenAD)
    # bce_dice: negatives within this distance of a positive of the same query get its positive
    # weight (lmad.train.objectives.near_negatives; 0: off)
    near_negative_radius: float = 0.0
    max_steps_per_epoch: int | None = None  # cap an epoch (quick runs, tests)


@dataclass
class RunSection:
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda
    precision: str = "fp32"  # fp32 | bf16 | fp16 (mixed precision on CUDA only)
    num_workers: int = 0
    eval_every: int = 1  # epochs between validations
    checkpoint_every_steps: int = 0  # also save `last` every this many steps (0: end of epoch only)
    eval_batch_size: int = 16
    progress: bool = True


@dataclass
class TrainConfig:
    model: ModelSection = field(default_factory=ModelSection)
    data: DataSection = field(default_factory=DataSection)
    optim: OptimSection = field(default_factory=OptimSection)
    run: RunSection = field(default_factory=RunSection)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        return _build(cls, data or {}, "")

    @classmethod
    def from_file(cls, path: str | Path, overrides: list[str] | None = None) -> "TrainConfig":
        """Read a YAML config and apply ``key.sub=value`` overrides (values parsed as YAML)."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"config file {path} not found (see the configs/ folder)")
        data = yaml.safe_load(path.read_text()) or {}
        return cls.from_dict(apply_overrides(data, overrides or []))


def apply_overrides(data: dict, overrides: list[str]) -> dict:
    """``["optim.lr=0.01", "model.overrides.backbone=lite"]`` -> a new nested dict."""
    data = copy.deepcopy(data)
    for item in overrides:
        if "=" not in item:
            raise ValueError(f"--set expects key=value, got {item!r}")
        key, value = item.split("=", 1)
        node = data
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ValueError(f"--set {key}: {part!r} is not a section")
        node[parts[-1]] = yaml.safe_load(value)
    return data


def _build(cls, data: dict, where: str):
    if not isinstance(data, dict):
        raise ValueError(f"config section {where or '(top)'} must be a mapping, got {data!r}")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ValueError(f"unknown config keys {[f'{where}{k}' for k in unknown]}; "
                         f"known in {where or 'the top level'}: {sorted(known)}")
    values = {}
    for name, value in data.items():
        default = known[name].default_factory() if callable(known[name].default_factory) else None
        if is_dataclass(default):
            values[name] = _build(type(default), value, f"{where}{name}.")
        else:
            values[name] = value
    return cls(**values)
