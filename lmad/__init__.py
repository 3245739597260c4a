"""lmad: language-conditioned 3D affordance detection (LM-AD).

Importing ``lmad`` is cheap and changes nothing in the process (no environment variables, no
files): torch, transformers and the models load only when a name that needs them is first used
(``from lmad import LMAD`` does). The ``lmad`` command sets up its own process
(``lmad.cli.console_main``).
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

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
