"""When the compiled CPU kernels (numba, the ``fast`` extra) are used instead of PyTorch.

Importing numba and loading a cached kernel costs a fraction of a second: more than what one
prediction's sampling and grouping gain (docs/performance.md). So the kernels load for a large
call, or everywhere once a long-running caller says so (:func:`use_compiled_kernels`:
training, a service, a folder of files); once loaded, every call uses them.
``LMAD_NO_NUMBA=1`` keeps the PyTorch loops.
"""

from __future__ import annotations

import importlib.util
import os
from typing import Callable

COMPILE_WORK = 1 << 26  # a call at least this large (e.g. batch x N x npoint) loads the kernels

_KERNELS: dict[str, Callable | None] = {}  # name -> compiled function, or None without numba
_WANTED = [False]  # set by use_compiled_kernels


def use_compiled_kernels(wanted: bool = True) -> None:
    """Use the compiled kernels for every call of this process from now on (``wanted``), or only
    for large calls (the default): callers that make many calls say so once at their start."""
    _WANTED[0] = wanted


def worth_compiling(work: int) -> bool:
    """Whether a call of this size should use a compiled kernel."""
    return _WANTED[0] or bool(_KERNELS) or work >= COMPILE_WORK


def compiled_kernel(name: str, build: Callable[[], Callable]) -> Callable | None:
    """The kernel ``name``, built by ``build()`` (numba compiles it, or reads it from its cache)
    on first use; None without numba or with ``LMAD_NO_NUMBA=1``."""
    if name not in _KERNELS:
        usable = os.environ.get("LMAD_NO_NUMBA") != "1" and importlib.util.find_spec("numba") is not None
        _KERNELS[name] = build() if usable else None
    return _KERNELS[name]
