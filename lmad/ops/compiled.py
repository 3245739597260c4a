"""When the compiled CPU kernels (numba, the ``fast`` extra) are used instead of PyTorch.

Importing numba and loading a cached kernel costs about 0.4 s: more than what one prediction's
sampling and grouping gain (20k -> 1,024 points: 65 ms in PyTorch, under 10 ms compiled). So
the kernels load for a large call, or from the 16th call of a process on (a prediction makes
about 4: training, a service or a folder of files gets them); once numba is loaded, every call
uses them. ``LMAD_NO_NUMBA=1`` keeps the PyTorch loops.
"""

from __future__ import annotations

import importlib.util
import os
from typing import Callable

COMPILE_WORK = 1 << 26  # a call at least this large (e.g. batch x N x npoint) loads the kernels
COMPILE_AFTER_CALLS = 16

_KERNELS: dict[str, Callable | None] = {}  # name -> compiled function, or None without numba
_CALLS = [0]


def worth_compiling(work: int) -> bool:
    """Whether a call of this size should use a compiled kernel (counts the call)."""
    _CALLS[0] += 1
    return bool(_KERNELS) or work >= COMPILE_WORK or _CALLS[0] >= COMPILE_AFTER_CALLS


def compiled_kernel(name: str, build: Callable[[], Callable]) -> Callable | None:
    """The kernel ``name``, built by ``build()`` (numba compiles it, or reads it from its cache)
    on first use; None without numba or with ``LMAD_NO_NUMBA=1``."""
    if name not in _KERNELS:
        usable = os.environ.get("LMAD_NO_NUMBA") != "1" and importlib.util.find_spec("numba") is not None
        _KERNELS[name] = build() if usable else None
    return _KERNELS[name]
