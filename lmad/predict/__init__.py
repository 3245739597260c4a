"""Affordances on your own objects: the one inference pipeline.

    AffordanceDetector (detector.py)   a path or array -> AffordanceResult (result.py)
    predict_files (run.py)             files and folders -> outputs on disk (outputs.py), nothing lost
    find_input_files, plan_output_stems (inputs.py)
    ModelProcess (model_process.py)    the model's forward passes in a child process (lmad serve)

``lmad predict``, ``lmad demo`` and the Python API all run through ``AffordanceDetector``.
"""

from lmad.predict.detector import AffordanceDetector
from lmad.predict.inputs import find_input_files, plan_output_stems
from lmad.predict.model_process import ModelProcess
from lmad.predict.outputs import FORMATS, parse_formats, write_outputs
from lmad.predict.result import NO_LABEL, AffordanceResult
from lmad.predict.run import PredictionReport, predict_files, prepare_output_folder

__all__ = [
    "FORMATS",
    "NO_LABEL",
    "AffordanceDetector",
    "AffordanceResult",
    "ModelProcess",
    "PredictionReport",
    "find_input_files",
    "parse_formats",
    "plan_output_stems",
    "predict_files",
    "prepare_output_folder",
    "write_outputs",
]
