"""A self-contained interactive HTML viewer for a prediction: no CDN, no network, one file.

Drag to rotate, scroll to zoom, pick the label map, a query's heat map or its attention map
from the menu. Points are drawn on a 2D canvas, far to near.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from lmad.viz.render import class_colors

MAX_POINTS = 30_000

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>lmad: __TITLE__</title>
<style>
body{margin:0;font-family:system-ui,sans-serif;background:#fafafa;color:#222}
header{padding:8px 12px;display:flex;gap:12px;align-items:center;flex-wrap:wrap}
canvas{display:block;background:#fff;border-top:1px solid #ddd;cursor:grab}
#legend span{display:inline-block;margin-right:10px;font-size:13px}
#legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}
</style></head><body>
<header><b>__TITLE__</b><select id="mode"></select><span id="legend"></span>
<small>drag: rotate &middot; wheel: zoom</small></header>
<canvas id="view"></canvas>
<script>
const DATA = __DATA__;
const canvas = document.getElementById('view'), ctx = canvas.getContext('2d');
const mode = document.getElementById('mode'), legend = document.getElementById('legend');
const n = DATA.points.length / 3;
let yaw = 0.6, pitch = 0.4, zoom = 1.0, drag = null;
function option(value, text) { const o = document.createElement('option'); o.value = value; o.textContent = text; mode.appendChild(o); }
option('labels', 'labels');
DATA.queries.forEach((q, k) => option('score:' + k, 'heat map: ' + q));
if (DATA.attention) DATA.queries.forEach((q, k) => { if (q !== 'none') option('attention:' + k, 'attention: ' + q); });
function swatch(colour, text) {  // text is set as text, never parsed as HTML
  const span = document.createElement('span');
  if (colour) { const i = document.createElement('i'); i.style.background = colour; span.appendChild(i); }
  span.appendChild(document.createTextNode(text));
  return span;
}
function ramp(t) {  // viridis-like, t in [0, 1]
  const stops = [[68,1,84],[59,82,139],[33,145,140],[94,201,98],[253,231,37]];
  const x = Math.min(Math.max(t, 0), 1) * 4, i = Math.min(Math.floor(x), 3), f = x - i;
  return 'rgb(' + stops[i].map((c, j) => Math.round(c + f * (stops[i + 1][j] - c))).join(',') + ')';
}
function colours() {
  const m = mode.value;
  if (m === 'labels') {
    legend.replaceChildren(...DATA.label_names.map((q, k) => swatch(DATA.colors[k], q + ' ' + DATA.fractions[k])));
    return Array.from({length: n}, (_, i) => DATA.colors[DATA.labels[i]]);
  }
  const [kind, k] = m.split(':');
  const values = (kind === 'score' ? DATA.scores : DATA.attention)[+k];
  legend.replaceChildren(swatch(null, (kind === 'score' ? 'probability' : 'attention (normalised)') + ': low'),
    swatch(ramp(0), ''), swatch(ramp(0.5), ''), swatch(ramp(1), 'high'));
  return Array.from({length: n}, (_, i) => ramp(values[i] / 255));
}
let fill = colours();
function draw() {
  canvas.width = window.innerWidth; canvas.height = window.innerHeight - 50;
  const cy = Math.cos(yaw), sy = Math.sin(yaw), cp = Math.cos(pitch), sp = Math.sin(pitch);
  const scale = 0.42 * Math.min(canvas.width, canvas.height) * zoom, ox = canvas.width / 2, oy = canvas.height / 2;
  const px = new Float32Array(n), py = new Float32Array(n), pz = new Float32Array(n), order = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const x = DATA.points[3 * i], y = DATA.points[3 * i + 1], z = DATA.points[3 * i + 2];
    const x1 = cy * x - sy * z, z1 = sy * x + cy * z;
    const y2 = cp * y - sp * z1, z2 = sp * y + cp * z1;
    px[i] = ox + scale * x1; py[i] = oy - scale * y2; pz[i] = z2; order[i] = i;
  }
  order.sort((a, b) => pz[a] - pz[b]);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const size = Math.max(1.5, 2.5 * zoom);
  for (const i of order) { ctx.fillStyle = fill[i]; ctx.fillRect(px[i] - size / 2, py[i] - size / 2, size, size); }
}
mode.onchange = () => { fill = colours(); draw(); };
canvas.onmousedown = e => { drag = [e.clientX, e.clientY]; };
window.onmouseup = () => { drag = null; };
window.onmousemove = e => { if (!drag) return; yaw += (e.clientX - drag[0]) * 0.01; pitch += (e.clientY - drag[1]) * 0.01; drag = [e.clientX, e.clientY]; draw(); };
canvas.onwheel = e => { e.preventDefault(); zoom *= Math.exp(-e.deltaY * 0.001); draw(); };
window.onresize = draw;
draw();
</script></body></html>
"""


def write_viewer(path: str | Path, points: np.ndarray, scores: np.ndarray, labels: np.ndarray, queries,
                 attention: np.ndarray | None = None, title: str = "", seed: int = 0,
                 label_names: list[str] | None = None) -> Path:
    """Write the viewer for (M, 3) points, (M, K) scores, (M,) labels and optional (K, M) attention.

    ``label_names`` name the label indices when they differ from the queries (e.g. an extra
    ``none``). Clouds larger than ``MAX_POINTS`` are shown through a seeded random subset. Text
    from the queries reaches the page only as JSON inside the script (with ``<`` escaped) and as
    DOM text, never as markup.
    """
    label_names = list(queries) if label_names is None else list(label_names)
    keep = np.arange(len(points))
    if len(points) > MAX_POINTS:
        keep = np.sort(np.random.default_rng(seed).choice(len(points), MAX_POINTS, replace=False))
    centred = points[keep] - points[keep].mean(0)
    centred = centred / max(float(np.linalg.norm(centred, axis=1).max()), 1e-12)
    data = {
        "points": np.round(centred, 4).reshape(-1).tolist(),
        "labels": labels[keep].tolist(),
        "scores": [np.round(255 * scores[keep, k]).astype(int).tolist() for k in range(scores.shape[1])],
        "queries": list(queries),
        "label_names": label_names,
        "colors": class_colors(label_names),
        "fractions": [f"{np.mean(labels == k):.0%}" for k in range(len(label_names))],
        "attention": None,
    }
    if attention is not None:
        maps = attention[:, keep]
        maps = maps / np.maximum(maps.max(axis=1, keepdims=True), 1e-12)
        data["attention"] = [np.round(255 * m).astype(int).tolist() for m in maps]
    # "<" escaped inside the JSON: a query such as "</script><script>..." cannot end the script
    payload = json.dumps(data).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    html = _PAGE.replace("__TITLE__", _escape(title or "lmad prediction")).replace("__DATA__", payload)
    path = Path(path)
    path.write_text(html, encoding="utf-8")
    return path


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
