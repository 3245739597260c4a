"""Loading third-party pickles without running their code.

A pickle can name any importable callable and have it called on load. The benchmark files only
need plain containers, strings, numbers and numpy arrays, so the unpickler admits exactly those
globals and refuses everything else before anything is called.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path

from lmad.errors import LMADError

_ALLOWED_GLOBALS = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    ("collections", "OrderedDict"),
}


class UnsafePickleError(pickle.UnpicklingError, ValueError):
    """The pickle asks for something other than plain data (a ``ValueError``: bad input)."""


class DamagedPickleError(LMADError, ValueError):
    """The file is not a complete pickle (truncated or corrupt)."""


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file, source: str):
        super().__init__(file)
        self.source = source

    def find_class(self, module: str, name: str):
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        if module == "numpy" and name.endswith("DType"):  # numpy >= 1.25 pickles dtypes by class
            return super().find_class(module, name)
        raise UnsafePickleError(
            f"{self.source}: refused to load {module}.{name} — this pickle asks to import code, and "
            "lmad only loads plain containers, strings, numbers and numpy arrays from data files. "
            "If you trust and need this file, convert it to .npz yourself."
        )


def safe_load_pickle(path: str | Path):
    """Load a pickle that may only hold plain data (lists, dicts, str, numbers, numpy arrays)."""
    path = Path(path)
    with open(path, "rb") as handle:
        return _load(handle, str(path))


def safe_loads_pickle(data: bytes, source: str = "<bytes>"):
    """:func:`safe_load_pickle` for bytes in memory."""
    return _load(io.BytesIO(data), source)


def _load(handle, source: str):
    try:
        return _RestrictedUnpickler(handle, source).load()
    except UnsafePickleError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError) as error:
        raise DamagedPickleError(f"{source}: not a complete pickle file ({type(error).__name__}: {error}); "
                                 "the file is truncated or damaged, download or copy it again") from error
