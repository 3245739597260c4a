"""A tiny labelled dataset and config for training tests."""

import numpy as np

from lmad.data import write_sample
from lmad.train import TrainConfig

CLASS_NAMES = ["top", "bottom", "none"]


def write_tiny_dataset(root, shapes=8, points=64, seed=0, absent=()):
    """Clouds whose upper points are 'top', lower 'bottom', a middle band 'none'; ``absent``: more
    class names, before 'none', that no point has."""
    names = CLASS_NAMES[:2] + list(absent) + CLASS_NAMES[2:]
    rng = np.random.default_rng(seed)
    for split, count in (("train", shapes), ("val", max(2, shapes // 4))):
        for i in range(count):
            xyz = rng.normal(size=(points, 3)).astype(np.float32)
            labels = np.where(xyz[:, 1] > 0.3, 0, np.where(xyz[:, 1] < -0.3, 1, len(names) - 1))
            write_sample(root / split / f"shape{i}.npz", xyz, labels, names, shape_id=f"{split}{i}")
    return root


def tiny_config(root, **optim):
    from tests.conftest import TINY_BACKBONE, TINY_LANGUAGE_MODEL

    return TrainConfig.from_dict({
        "model": {"name": "lmad", "overrides": {"backbone": TINY_BACKBONE, "language_model_config": TINY_LANGUAGE_MODEL,
                                                 "dropout": 0.1}},
        "data": {"source": "folder", "root": str(root)},
        "optim": {"batch_size": 2, "epochs": 2, "lr": 3e-3, **optim},
        "run": {"device": "cpu", "progress": False, "eval_batch_size": 4},
    })
