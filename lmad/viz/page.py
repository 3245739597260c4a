"""The page ``lmad serve`` answers at ``GET /``: drop a scan, say what you want to do, see where.

One self-contained HTML document (no CDN, no network beyond the server it came from). It posts
the file and the options to ``POST /predict?format=html`` and shows the answer, which is the
``.html`` viewer of ``lmad predict`` (``lmad.viz.html``: the same renderer, threshold slider
included), in a frame; every other output format can be downloaded for the same input. Errors
the API returns are shown as they are sent (one line each).
"""

from __future__ import annotations

import json

from lmad.predict import DEFAULT_VIEWS

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>lmad: affordances of your object</title>
<link rel="icon" href="data:,">
<style>
body{margin:0;font-family:system-ui,sans-serif;background:#f4f5f7;color:#222}
header{padding:10px 16px;background:#1f2937;color:#fff}
header b{font-size:18px}header small{opacity:.8;margin-left:10px}
form{display:flex;flex-wrap:wrap;gap:10px 16px;align-items:center;padding:10px 16px;background:#fff;
     border-bottom:1px solid #ddd}
#drop{border:2px dashed #9ca3af;border-radius:6px;padding:8px 12px;min-width:220px}
#drop.over{border-color:#2563eb;background:#eff6ff}
input[type=text]{width:260px}
#error{color:#b91c1c;padding:6px 16px;white-space:pre-wrap}
#status{color:#374151;padding:6px 16px}
#downloads{padding:0 16px 6px}#downloads button{margin-right:6px}
iframe{width:100%;height:calc(100vh - 190px);border:0;background:#fff}
</style></head><body>
<header><b>lmad</b><small>language-conditioned 3D affordance detection: which points of your object afford what</small></header>
<form id="ask">
  <div id="drop"><label>object: <input type="file" id="file" accept="__ACCEPT__"></label>
    <div><small>or drop a file here, or an example:</small> <select id="example"><option value="">(none)</option></select></div></div>
  <label>queries <input type="text" id="queries" list="names" value="grasp, where to pour from"
         placeholder="grasp, pour, where to sit"></label>
  <datalist id="names"></datalist>
  <label>up axis <select id="up_axis"></select></label>
  <label>views <input type="number" id="tta" min="1" max="__MAX_TTA__" value="__DEFAULT_TTA__" style="width:3em"></label>
  <label><input type="checkbox" id="attention"> attention maps</label>
  <button type="submit" id="go">find</button>
</form>
<div id="error" role="alert"></div>
<div id="status"></div>
<div id="downloads"></div>
<iframe id="result" title="result"></iframe>
<script>
'use strict';
const CONFIG = __CONFIG__;
const $ = (id) => document.getElementById(id);
const token = new URLSearchParams(location.search).get('token');
const headers = token ? {'Authorization': 'Bearer ' + token} : {};
CONFIG.names.forEach((n) => { const o = document.createElement('option'); o.value = n; $('names').append(o); });
CONFIG.up_axes.forEach((a) => { const o = document.createElement('option'); o.value = a; o.textContent = a; $('up_axis').append(o); });
CONFIG.examples.forEach((e) => { const o = document.createElement('option'); o.value = e.name; o.textContent = e.name; $('example').append(o); });
let dropped = null;
$('example').onchange = () => {
  const e = CONFIG.examples.find((x) => x.name === $('example').value);
  if (e) { $('up_axis').value = e.up_axis; $('queries').value = e.queries.join(', '); }
};
const drop = $('drop');
drop.ondragover = (e) => { e.preventDefault(); drop.classList.add('over'); };
drop.ondragleave = () => drop.classList.remove('over');
drop.ondrop = (e) => {
  e.preventDefault(); drop.classList.remove('over');
  if (e.dataTransfer.files.length) { dropped = e.dataTransfer.files[0]; $('status').textContent = 'file: ' + dropped.name; }
};
$('file').onchange = () => { dropped = null; };
async function chosenFile() {
  if (dropped) return dropped;
  if ($('file').files.length) return $('file').files[0];
  const name = $('example').value;
  if (!name) throw new Error('choose a file (or drop one, or pick an example) first');
  const answer = await fetch('/examples/' + encodeURIComponent(name), {headers});
  if (!answer.ok) throw new Error(await errorText(answer));
  return new File([await answer.blob()], name);
}
async function errorText(answer) {
  try { return (await answer.json()).error || answer.statusText; } catch (e) { return answer.status + ' ' + answer.statusText; }
}
async function ask(format) {
  const file = await chosenFile();
  const body = new FormData();
  body.append('file', file, file.name);
  body.append('queries', $('queries').value);
  body.append('up_axis', $('up_axis').value);
  body.append('tta', $('tta').value);
  body.append('attention', $('attention').checked ? 'true' : 'false');
  const answer = await fetch('/predict?format=' + format, {method: 'POST', body, headers});
  if (!answer.ok) throw new Error(await errorText(answer));
  return [file, answer];
}
$('ask').onsubmit = async (e) => {
  e.preventDefault();
  $('error').textContent = ''; $('status').textContent = 'scoring...'; $('go').disabled = true;
  const started = performance.now();
  try {
    const [file, answer] = await ask('html');
    const html = await answer.text();
    const frame = $('result');
    frame.onload = () => {
      const seconds = ((performance.now() - started) / 1000).toFixed(2);
      $('status').textContent = file.name + ': answered and drawn in ' + seconds + ' s';
      document.body.setAttribute('data-drawn', String(Date.now()));
    };
    frame.srcdoc = html;
    $('downloads').replaceChildren(document.createTextNode('download: '), ...CONFIG.formats.map((f) => {
      const b = document.createElement('button'); b.type = 'button'; b.textContent = f;
      b.onclick = () => download(f); return b;
    }));
  } catch (error) {
    $('error').textContent = error.message; $('status').textContent = '';
  } finally { $('go').disabled = false; }
};
async function download(format) {
  $('error').textContent = '';
  try {
    const [file, answer] = await ask(format);
    const link = document.createElement('a');
    link.href = URL.createObjectURL(await answer.blob());
    link.download = file.name.replace(/\\.[^.]*$/, '') + '.' + format;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  } catch (error) { $('error').textContent = error.message; }
}
document.body.setAttribute('data-ready', 'true');
</script></body></html>
"""


def service_page(names, up_axes, examples: list[dict], formats, accept, max_tta: int) -> str:
    """The page: ``names`` suggested as queries, ``examples`` ({name, queries, up_axis}) served at
    ``/examples/<name>``, ``formats`` offered for download, ``accept`` the file extensions."""
    config = {"names": list(names), "up_axes": list(up_axes), "examples": examples, "formats": list(formats)}
    payload = json.dumps(config).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return (_PAGE.replace("__CONFIG__", payload).replace("__ACCEPT__", ",".join(accept))
            .replace("__MAX_TTA__", str(max_tta)).replace("__DEFAULT_TTA__", str(DEFAULT_VIEWS)))
