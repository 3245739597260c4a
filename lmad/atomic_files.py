"""Writing files so that a reader never sees half of one: a temporary file beside the target,
renamed over it when complete (``os.replace`` is atomic within a folder).

An interruption (Ctrl-C, a full disk, a crash of the writer) leaves the previous file, or no
file, under the final name, never a truncated one; the temporary file is removed.
"""

from __future__ import annotations

import os
from pathlib import Path


def atomic_write(path: str | Path, write) -> Path:
    """Call ``write(temporary_path)``, then rename the temporary file to ``path``.

    The temporary file is in the same folder, hidden, with the same suffix as ``path`` (writers
    such as matplotlib pick the format from it) and a name no other process uses at once.
    Returns ``path``.
    """
    path = Path(path)
    temporary = path.with_name(f".{path.stem}.{os.getpid()}-{id(write):x}.tmp{path.suffix}")
    try:
        write(temporary)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path

