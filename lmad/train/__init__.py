"""Training: configs, the loop (CPU, CUDA, DDP via torchrun), checkpoints and resume."""

from lmad.train.config import TrainConfig, apply_overrides
from lmad.train.trainer import TrainingDivergedError, build_datasets, epoch_batches, train

__all__ = ["TrainConfig", "TrainingDivergedError", "apply_overrides", "build_datasets", "epoch_batches", "train"]
