"""The example objects shipped with lmad (``lmad demo``, the page of ``lmad serve``)."""

from __future__ import annotations

import json
from pathlib import Path

FOLDER = Path(__file__).resolve().parent


def manifest() -> dict:
    """name -> {"queries": [...], "up_axis": ..., "source": ..., "licence": ...} (``manifest.json``)."""
    return json.loads((FOLDER / "manifest.json").read_text())
