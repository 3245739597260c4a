// lmad's point-cloud viewer: one renderer for the .html output and the page of `lmad serve`.
// No network, no libraries. lmadViewer(root, data) fills `root` with the controls and a canvas.
// data: {title, points: [x, y, z, ...] (upright, unit sphere), queries: [K names], colors: [K + 1]
// (the last for "none"), scores: base64 float32 (K x M, query-major), attention: base64 float32
// (K x M, each row scaled to [0, 1]) or null, threshold, exclusive, total_points}.
// Text from the data reaches the page as DOM text only, never as markup.
function lmadViewer(root, data) {
  'use strict';
  const decode = (b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    return new Float32Array(bytes.buffer);
  };
  const K = data.queries.length, n = data.points.length / 3;
  const scores = decode(data.scores), attention = data.attention ? decode(data.attention) : null;
  const noneK = data.queries.indexOf('none');
  const el = (tag, attrs, ...children) => {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    children.forEach((c) => node.append(c));
    return node;
  };
  const mode = el('select', {'data-role': 'mode', 'aria-label': 'map'});
  const option = (value, text) => mode.append(el('option', {value}, text));
  option('labels', 'labels');
  data.queries.forEach((q, k) => option('score:' + k, 'heat map: ' + q));
  if (attention) data.queries.forEach((q, k) => { if (q !== 'none') option('attention:' + k, 'attention: ' + q); });
  const slider = el('input', {type: 'range', min: '0.05', max: '0.95', step: '0.05', value: String(data.threshold),
                              'data-role': 'threshold', 'aria-label': 'threshold'});
  const sliderText = el('span', {'data-role': 'threshold-value'});
  const thresholdBox = el('label', {}, 'threshold ', slider, ' ', sliderText);
  if (data.exclusive) thresholdBox.style.display = 'none';
  const legend = el('div', {'data-role': 'legend', class: 'lmad-legend'});
  const regions = el('div', {'data-role': 'regions', class: 'lmad-regions'});
  const canvas = el('canvas', {'data-role': 'canvas'});
  const bar = el('div', {class: 'lmad-bar'}, el('b', {}, data.title || ''), mode, thresholdBox,
                 el('small', {}, 'drag: rotate \u00b7 wheel: zoom'));
  root.replaceChildren(bar, legend, regions, canvas);
  const ctx = canvas.getContext('2d');
  let yaw = 0.6, pitch = 0.4, zoom = 1.0, drag = null, labels = null, fill = null;

  const score = (k, i) => scores[k * n + i];
  function computeLabels(threshold) {  // the detector's rule, row for row
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      let best = -1, bestScore = -1;
      for (let k = 0; k < K; k++) {
        if (!data.exclusive && k === noneK) continue;
        const s = score(k, i);
        if (s > bestScore) { best = k; bestScore = s; }
      }
      if (!data.exclusive && bestScore < threshold) best = noneK >= 0 ? noneK : K;
      out[i] = best;
    }
    return out;
  }
  function regionCounts(threshold) {  // AffordanceResult.region: score >= threshold, or the label
    return data.queries.map((q, k) => {
      let count = 0;
      for (let i = 0; i < n; i++) if (data.exclusive ? labels[i] === k : score(k, i) >= threshold) count++;
      return count;
    });
  }
  function ramp(t) {  // viridis-like, t in [0, 1]
    const stops = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
    const x = Math.min(Math.max(t, 0), 1) * 4, i = Math.min(Math.floor(x), 3), f = x - i;
    return 'rgb(' + stops[i].map((c, j) => Math.round(c + f * (stops[i + 1][j] - c))).join(',') + ')';
  }
  const swatch = (colour, text) => {
    const span = el('span', {});
    if (colour) { const i = el('i', {}); i.style.background = colour; span.append(i); }
    span.append(text);
    return span;
  };
  function refresh() {
    const threshold = +slider.value;
    sliderText.textContent = threshold.toFixed(2);
    labels = computeLabels(threshold);
    const counts = regionCounts(threshold);
    regions.replaceChildren(...data.queries.map((q, k) => {
      const item = el('span', {'data-region': q, 'data-points': String(counts[k])});
      item.append(q + ': ' + counts[k] + ' points (' + (100 * counts[k] / n).toFixed(1) + ' %)');
      return item;
    }));
    const m = mode.value;
    if (m === 'labels') {
      const names = [...data.queries, 'none'], present = new Set(labels);
      const shown = names.map((q, k) => k).filter((k) => present.has(k));
      legend.replaceChildren(...shown.map((k) => swatch(data.colors[k], names[k])));
      fill = Array.from(labels, (k) => data.colors[k]);
    } else {
      const [kind, k] = m.split(':');
      const values = kind === 'score' ? scores : attention;
      legend.replaceChildren(swatch(null, (kind === 'score' ? 'probability' : 'attention (scaled)') + ': low'),
                             swatch(ramp(0), ''), swatch(ramp(0.5), ''), swatch(ramp(1), 'high'));
      fill = Array.from({length: n}, (_, i) => ramp(values[+k * n + i]));
    }
    draw();
  }
  function draw() {
    const width = root.clientWidth || window.innerWidth;
    canvas.width = width;
    canvas.height = Math.max(240, (window.innerHeight || 600) - canvas.getBoundingClientRect().top - 8);
    const cy = Math.cos(yaw), sy = Math.sin(yaw), cp = Math.cos(pitch), sp = Math.sin(pitch);
    const scale = 0.42 * Math.min(canvas.width, canvas.height) * zoom, ox = canvas.width / 2, oy = canvas.height / 2;
    const px = new Float32Array(n), py = new Float32Array(n), pz = new Float32Array(n), order = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      const x = data.points[3 * i], y = data.points[3 * i + 1], z = data.points[3 * i + 2];
      const x1 = cy * x - sy * z, z1 = sy * x + cy * z;
      const y2 = cp * y - sp * z1, z2 = sp * y + cp * z1;
      px[i] = ox + scale * x1; py[i] = oy - scale * y2; pz[i] = z2; order[i] = i;
    }
    order.sort((a, b) => pz[a] - pz[b]);
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    const size = Math.max(1.5, 2.5 * zoom);
    for (const i of order) { ctx.fillStyle = fill[i]; ctx.fillRect(px[i] - size / 2, py[i] - size / 2, size, size); }
  }
  mode.onchange = refresh;
  slider.oninput = refresh;
  canvas.onmousedown = (e) => { drag = [e.clientX, e.clientY]; };
  window.addEventListener('mouseup', () => { drag = null; });
  window.addEventListener('mousemove', (e) => {
    if (!drag) return;
    yaw += (e.clientX - drag[0]) * 0.01; pitch += (e.clientY - drag[1]) * 0.01; drag = [e.clientX, e.clientY]; draw();
  });
  canvas.onwheel = (e) => { e.preventDefault(); zoom *= Math.exp(-e.deltaY * 0.001); draw(); };
  window.addEventListener('resize', draw);
  refresh();
  root.setAttribute('data-ready', 'true');
}
