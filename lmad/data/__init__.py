"""Data: 3D AffordanceNet readers, lmad's folder format, your own point clouds and meshes.

    load_affordancenet(root, task="full"|"partial", split="train"|"val") -> PointCloudDataset
    load_folder(root, split=None) -> PointCloudDataset
    read_points(path) -> (M, 3) float32
"""

from lmad.data.affordancenet import DataValidationError, hard_labels_from_scores, load_affordancenet
from lmad.data.classes import AFFORDANCE_CLASSES, NONE_INDEX, PARAPHRASES, SYNONYM_QUERIES, canonical_class_name
from lmad.data.dataset import PointCloudDataset, SampleRecord, class_weights, collate_samples, query_targets
from lmad.data.files import SUPPORTED_EXTENSIONS, PointFileError, read_point_file, read_points
from lmad.data.folder import convert_affordancenet, load_folder, write_sample
from lmad.data.resample import nearest_sampled, resample_indices, sampling_candidates
from lmad.data.safe_pickle import UnsafePickleError, safe_load_pickle
from lmad.data.transforms import Augment, normalize_unit_sphere

__all__ = [
    "AFFORDANCE_CLASSES",
    "Augment",
    "DataValidationError",
    "NONE_INDEX",
    "PointCloudDataset",
    "PointFileError",
    "SUPPORTED_EXTENSIONS",
    "PARAPHRASES",
    "SYNONYM_QUERIES",
    "SampleRecord",
    "UnsafePickleError",
    "canonical_class_name",
    "class_weights",
    "query_targets",
    "collate_samples",
    "convert_affordancenet",
    "hard_labels_from_scores",
    "load_affordancenet",
    "load_folder",
    "nearest_sampled",
    "normalize_unit_sphere",
    "read_point_file",
    "read_points",
    "resample_indices",
    "sampling_candidates",
    "safe_load_pickle",
    "write_sample",
]
