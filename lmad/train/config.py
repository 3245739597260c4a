"""Training configuration: YAML files in ``configs/``, overridable with ``--set key=value``."""

from __future__ import annotations

import copy
import types
import typing
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from pathlib import Path

import yaml

from lmad.errors import ConfigError


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
    # each training shape (and its views) of a category is in an epoch this many times, e.g.
    # {Knife: 8} (or --set data.repeat_categories.Knife=8); categories not named: once
    repeat_categories: dict = field(default_factory=dict)
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
    # bce_dice: ask each object its present affordances plus randomly drawn absent ones, this
    # many queries in all (lmad.train.objectives.sample_queries; 0: every affordance, every step)
    queries_per_object: int = 0
    # exponential moving average of the weights (decay per step, e.g. 0.999; 0: off): validation
    # and best/ use the averaged weights, last/ keeps the trained ones and the average for --resume
    ema: float = 0.0


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
        """Build and check a config: unknown keys, wrong types and values out of range raise
        :class:`lmad.errors.ConfigError` naming the key (before any work starts)."""
        config = _build(cls, data or {}, "")
        config.check()
        return config

    @classmethod
    def from_file(cls, path: str | Path, overrides: list[str] | None = None) -> "TrainConfig":
        """Read a YAML config and apply ``key.sub=value`` overrides (values parsed as YAML)."""
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"config file {path} not found (see the configs/ folder)")
        data = _parse_yaml(path.read_text(), str(path))
        if data is None:
            raise ConfigError(f"{path} is empty; start from one of the files in configs/")
        if not isinstance(data, dict):
            raise ConfigError(f"{path} must hold sections (model, data, optim, run), got {type(data).__name__}")
        return cls.from_dict(apply_overrides(data, overrides or []))

    def check(self) -> None:
        """Raise :class:`ConfigError` for a value no run can use, naming its key."""
        from lmad.data.sources import DATA_SOURCES

        data, optim, run = self.data, self.optim, self.run
        rules = [
            ("data.source", data.source in DATA_SOURCES, f"one of {', '.join(DATA_SOURCES)} (lmad.data.sources)"),
            ("data.task", data.task in ("full", "partial", "both"), "full, partial or both"),
            ("data.repeat_full", data.repeat_full >= 1, "at least 1"),
            ("data.repeat_categories", all(isinstance(n, int) and not isinstance(n, bool) and n >= 1
                                           for n in data.repeat_categories.values()),
             "a mapping of category names to whole numbers of at least 1"),
            ("data.paraphrases", 0 <= data.paraphrases <= 1, "between 0 and 1"),
            ("data.num_points", data.num_points is None or data.num_points >= 1, "at least 1 (or null: all)"),
            ("data.none_threshold", 0 <= data.none_threshold <= 1, "between 0 and 1"),
            ("optim.lr", optim.lr > 0, "more than 0"),
            ("optim.weight_decay", optim.weight_decay >= 0, "0 or more"),
            ("optim.batch_size", optim.batch_size >= 1, "at least 1"),
            ("optim.epochs", optim.epochs >= 1, "at least 1"),
            ("optim.lr_step_epochs", optim.lr_step_epochs >= 1, "at least 1"),
            ("optim.lr_decay", 0 < optim.lr_decay <= 1, "in (0, 1]"),
            ("optim.lr_min", optim.lr_min >= 0, "0 or more"),
            ("optim.bn_momentum", 0 <= optim.bn_momentum <= 1, "between 0 and 1"),
            ("optim.bn_momentum_min", 0 <= optim.bn_momentum_min <= 1, "between 0 and 1"),
            ("optim.language_model_lr", optim.language_model_lr >= 0, "0 or more"),
            ("optim.grad_clip_norm", optim.grad_clip_norm is None or optim.grad_clip_norm > 0,
             "more than 0 (or null: off)"),
            ("optim.near_negative_radius", optim.near_negative_radius >= 0, "0 or more"),
            ("optim.ema", 0 <= optim.ema < 1, "in [0, 1) (0: off)"),
            ("optim.queries_per_object", optim.queries_per_object >= 0, "0 or more (0: every affordance)"),
            ("optim.max_steps_per_epoch", optim.max_steps_per_epoch is None or optim.max_steps_per_epoch >= 1,
             "at least 1 (or null: no cap)"),
            ("run.seed", run.seed >= 0, "0 or more"),
            ("run.device", run.device in ("auto", "cpu", "cuda") or run.device.startswith("cuda:"),
             "auto, cpu or cuda"),
            ("run.precision", run.precision in ("fp32", "bf16", "fp16"), "fp32, bf16 or fp16"),
            ("run.num_workers", run.num_workers >= 0, "0 or more"),
            ("run.eval_every", run.eval_every >= 1, "at least 1"),
            ("run.checkpoint_every_steps", run.checkpoint_every_steps >= 0, "0 or more"),
            ("run.eval_batch_size", run.eval_batch_size >= 1, "at least 1"),
        ]
        for key, ok, wanted in rules:
            if not ok:
                section, name = key.split(".")
                value = getattr(getattr(self, section), name)
                raise ConfigError(f"{key} must be {wanted}, got {value!r} (in the YAML file or --set {key}=...)")


def _parse_yaml(text: str, where: str):
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ConfigError(f"{where}: not valid YAML{at} ({problem})") from None


def apply_overrides(data: dict, overrides: list[str]) -> dict:
    """``["optim.lr=0.01", "model.overrides.backbone=lite"]`` -> a new nested dict."""
    data = copy.deepcopy(data)
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"--set expects key=value, got {item!r}")
        key, value = item.split("=", 1)
        node = data
        parts = key.strip().split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"--set {key}: {part!r} is not a section")
        node[parts[-1]] = _parse_yaml(value, f"--set {item}")
    return data


def _build(cls, data: dict, where: str):
    if not isinstance(data, dict):
        raise ConfigError(f"config section {where.rstrip('.') or '(top)'} must be a mapping, got {data!r}")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ConfigError(f"unknown config keys {[f'{where}{k}' for k in unknown]}; "
                          f"known in {where.rstrip('.') or 'the top level'}: {sorted(known)}")
    hints = typing.get_type_hints(cls)
    values = {}
    for name, value in data.items():
        default = known[name].default_factory() if callable(known[name].default_factory) else None
        if is_dataclass(default):
            values[name] = _build(type(default), value, f"{where}{name}.")
        else:
            values[name] = _checked_value(value, hints[name], f"{where}{name}")
    return cls(**values)


_TYPE_WORDS = {int: "a whole number", float: "a number", str: "text", bool: "true or false", dict: "a mapping"}


def _checked_value(value, annotation, key: str):
    """``value`` as the field's type wants it (an int where a float is wanted becomes a float),
    else :class:`ConfigError` naming the key."""
    options = typing.get_args(annotation) if isinstance(annotation, types.UnionType) else (annotation,)
    if value is None and type(None) in options:
        return None
    for wanted in options:
        if wanted is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if wanted is float and isinstance(value, str):  # YAML 1.1 reads 1e-3 (no dot) as text
            try:
                return float(value)
            except ValueError:
                pass
        if wanted is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        if wanted in (str, bool, dict) and isinstance(value, wanted):
            return value
    words = " or ".join(_TYPE_WORDS.get(t, "null" if t is type(None) else str(t)) for t in options)
    raise ConfigError(f"{key} must be {words}, got {value!r} (in the YAML file or --set {key}=...)")
