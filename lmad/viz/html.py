"""A self-contained interactive HTML viewer for a prediction: no CDN, no network, one file.

Drag to rotate, scroll to zoom, pick the label map, a query's heat map or its attention map,
move the threshold and see the regions redrawn and counted. The renderer is ``viewer.js``
beside this file, the same one the page of ``lmad serve`` uses; the data it draws is
:func:`viewer_data`.
"""

from __future__ import annotations

import base64
import json
from importlib import resources
from pathlib import Path

import numpy as np

from lmad.viz.render import NONE_COLOR, class_colors

MAX_POINTS = 30_000
STYLE = """
body{margin:0;font-family:system-ui,sans-serif;background:#fafafa;color:#222}
.lmad-bar{padding:8px 12px;display:flex;gap:12px;align-items:center;flex-wrap:wrap}
.lmad-legend,.lmad-regions{padding:0 12px 6px;font-size:13px}
.lmad-legend span,.lmad-regions span{display:inline-block;margin-right:12px}
.lmad-legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}
canvas{display:block;background:#fff;border-top:1px solid #ddd;cursor:grab}
"""
_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>lmad: __TITLE__</title><style>__STYLE__</style></head>
<body><div id="viewer"></div>
<script>__VIEWER__
lmadViewer(document.getElementById('viewer'), __DATA__);
</script></body></html>
"""


def viewer_script() -> str:
    """The renderer's JavaScript (``lmadViewer(root, data)``)."""
    return resources.files("lmad.viz").joinpath("viewer.js").read_text(encoding="utf-8")


def viewer_data(points: np.ndarray, scores: np.ndarray, queries, attention: np.ndarray | None = None,
                threshold: float = 0.5, exclusive: bool = False, title: str = "", seed: int = 0) -> dict:
    """What the renderer draws, for (M, 3) upright points, (M, K) scores and optional (K, M) attention.

    Clouds larger than ``MAX_POINTS`` are shown through a seeded random subset; scores travel as
    float32 so that the page's regions (score >= threshold) are the detector's.
    """
    keep = np.arange(len(points))
    if len(points) > MAX_POINTS:
        keep = np.sort(np.random.default_rng(seed).choice(len(points), MAX_POINTS, replace=False))
    centred = points[keep] - points[keep].mean(0)
    centred = centred / max(float(np.linalg.norm(centred, axis=1).max()), 1e-12)
    queries = list(queries)
    colours = class_colors(queries) + [NONE_COLOR]  # the last for points no query reaches
    data = {
        "title": title,
        "points": np.round(centred, 4).reshape(-1).tolist(),
        "queries": queries,
        "colors": colours,
        "scores": _float32_base64(np.asarray(scores, dtype=np.float32)[keep].T),
        "attention": None,
        "threshold": float(threshold),
        "exclusive": bool(exclusive),
        "total_points": int(len(points)),
    }
    if attention is not None:
        maps = np.asarray(attention, dtype=np.float32)[:, keep]
        data["attention"] = _float32_base64(maps / np.maximum(maps.max(axis=1, keepdims=True), 1e-12))
    return data


def viewer_html(data: dict) -> str:
    """The whole viewer page for :func:`viewer_data`'s ``data``."""
    # "<" escaped inside the JSON: a query such as "</script><script>..." cannot end the script
    payload = json.dumps(data).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return (_PAGE.replace("__TITLE__", _escape(data.get("title") or "lmad prediction")).replace("__STYLE__", STYLE)
            .replace("__VIEWER__", viewer_script()).replace("__DATA__", payload))


def write_viewer(path: str | Path, points: np.ndarray, scores: np.ndarray, queries, attention: np.ndarray | None = None,
                 threshold: float = 0.5, exclusive: bool = False, title: str = "", seed: int = 0) -> Path:
    """Write the viewer for (M, 3) upright points, (M, K) scores and optional (K, M) attention."""
    path = Path(path)
    path.write_text(viewer_html(viewer_data(points, scores, queries, attention, threshold, exclusive, title, seed)),
                    encoding="utf-8")
    return path


def _float32_base64(values: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(values, dtype="<f4").tobytes()).decode("ascii")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
