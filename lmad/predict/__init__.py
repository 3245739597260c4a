"""Affordances on your own objects: the one inference pipeline.

    AffordanceDetector (detector.py)   a path or array -> AffordanceResult (result.py)
    predict_files (run.py)             files and folders -> outputs on disk (outputs.py), nothing lost
    find_input_files, plan_output_stems (inputs.py)
    OUTPUT_FORMATS (outputs.py)        the output formats, one table: --format, its help, the service
    ModelProcess (model_process.py)    the model's forward passes in a child process (lmad serve)

``lmad predict``, ``lmad demo`` and the Python API all run through ``AffordanceDetector``.
Names are imported on first use, so that reading the format table (``lmad --help``) does not
load torch.
"""

from __future__ import annotations

import importlib

# Test-time views a prediction averages by default (``tta``; more views: headings about up,
# 360/T degrees apart). Chosen by a written rule from procedural accuracy and time, not on the
# real objects: the largest count whose `lmad predict` of a 20k-point file stays within 2 s on 2
# cores. Last timed 2026-12-05 (evening): no count within 2 s, so one; four views cost about
# 0.1 s more than one (docs/performance.md#test-time-views).
DEFAULT_VIEWS = 1

# public name -> module that defines it
_LAZY = {
    "AffordanceDetector": "detector",
    "AffordanceResult": "result",
    "DEFAULT_FORMATS": "outputs",
    "ModelProcess": "model_process",
    "NO_LABEL": "result",
    "OUTPUT_FORMATS": "outputs",
    "OutputFormat": "outputs",
    "PredictionReport": "run",
    "find_input_files": "inputs",
    "parse_formats": "outputs",
    "plan_output_stems": "inputs",
    "predict_files": "run",
    "prepare_output_folder": "run",
    "register_output_format": "outputs",
    "write_outputs": "outputs",
}

__all__ = sorted([*_LAZY, "DEFAULT_VIEWS"])


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f"lmad.predict.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'lmad.predict' has no attribute {name!r}")
