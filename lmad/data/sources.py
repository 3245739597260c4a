"""Where labelled clouds come from, one table for training and evaluation: :data:`DATA_SOURCES`.

A source reads one split of a dataset folder as a :class:`lmad.data.PointCloudDataset`:
``read(root, split, task, options) -> PointCloudDataset``, where ``options`` holds
``none_threshold``, ``skip_bad``, ``augment`` and ``seed``. ``lmad train`` picks the source its
config names (``data.source``); ``lmad eval`` the one given or the one that recognises the
folder. A new source is a reader plus one :func:`register_data_source` call.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable


@dataclass(frozen=True)
class DataSource:
    """One kind of dataset folder: how to read a split, and how to recognise such a folder."""

    name: str
    description: str
    read: Callable
    recognises: Callable[[Path], bool] = lambda root: False
    tasks: tuple[str, ...] = ("full",)  # what data.task "both" reads: full shapes, partial views


DATA_SOURCES: dict[str, DataSource] = {}


def register_data_source(source: DataSource) -> DataSource:
    DATA_SOURCES[source.name] = source
    return source


def read_split(source: str, root: str | Path, split: str, task: str = "full", none_threshold: float = 0.0,
               skip_bad: bool = False, augment=None, seed: int = 0):
    """One split of a dataset folder, by source name -> PointCloudDataset."""
    if source not in DATA_SOURCES:
        raise ValueError(f"unknown data source {source!r}; choose from {', '.join(DATA_SOURCES)}")
    options = {"none_threshold": none_threshold, "skip_bad": skip_bad, "augment": augment, "seed": seed}
    return DATA_SOURCES[source].read(Path(root), split, task, options)


def recognise_source(root: str | Path) -> str:
    """The name of the first source that recognises ``root`` (a folder), else a ValueError."""
    root = Path(root)
    if not root.is_dir():
        raise ValueError(f"--data {root}: no such folder")
    for name, source in DATA_SOURCES.items():
        if source.recognises(root):
            return name
    raise ValueError(f"{root}: not a dataset folder lmad knows ({', '.join(DATA_SOURCES)})")


def _read_affordancenet(root: Path, split: str, task: str, options: dict):
    from lmad.data.affordancenet import load_affordancenet

    return load_affordancenet(root, task, split, options["none_threshold"], options["skip_bad"], options["augment"],
                              options["seed"])


def _read_folder(root: Path, split: str, task: str, options: dict):
    from lmad.data.folder import load_folder

    return load_folder(root, split, options["skip_bad"], options["augment"], options["seed"])


register_data_source(DataSource("affordancenet", "3D AffordanceNet pickles, OpenAD's or the original layout",
                                _read_affordancenet, lambda root: any(root.glob("*.pkl")), ("full", "partial")))
register_data_source(DataSource("synthetic", "lmad's procedural dataset (written in 3D AffordanceNet's layouts)",
                                _read_affordancenet, tasks=("full", "partial")))
register_data_source(DataSource("folder", "lmad's folder format: one .npz per shape, splits as sub-folders",
                                _read_folder, lambda root: any(root.glob("*.npz")) or any(root.glob("*/*.npz"))))
