"""lmad: language-conditioned 3D affordance detection (LM-AD).

Importing ``lmad`` is cheap: torch, transformers and the models load only when a name that
needs them is first used (``from lmad import LMAD`` does).
"""

from __future__ import annotations

import importlib
import os

__version__ = "0.1.0"

# OpenMP worker threads spin for a short while between parallel regions, then sleep (libgomp's
# default spins 300,000 times): on a busy machine the long spin made every small op wait for
# descheduled workers (a backbone forward 7x slower beside one busy process; 4,000 spins keep it
# within 2x and cost nothing measurable idle: benchmarks/busy_machine.py). libgomp reads this when
# torch loads it, so it takes effect when lmad is imported before torch (the `lmad` command always
# is); set GOMP_SPINCOUNT or OMP_WAIT_POLICY yourself to choose otherwise.
if "OMP_WAIT_POLICY" not in os.environ:
    os.environ.setdefault("GOMP_SPINCOUNT", "4000")

# public name -> module that defines it, imported on first access
_LAZY = {
    "AffordanceDetector": "lmad.predict",
    "AffordanceResult": "lmad.predict",
    "LMAD": "lmad.models",
    "LMADConfig": "lmad.models",
    "PointNet2Backbone": "lmad.models",
    "available_models": "lmad.models",
    "build_model": "lmad.models",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'lmad' has no attribute {name!r}")
