"""Writing a prediction to disk: ``.npz``, coloured ``.ply``, ``.png`` render, ``.html`` viewer, ``.json`` summary."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from lmad.atomic_files import atomic_write, atomic_write_bytes, atomic_write_text
from lmad.data.transforms import up_axis_rotation

FORMATS = ("npz", "ply", "pcd", "png", "html", "json")
# pictures of larger clouds draw a seeded uniform subset of this many valid points (the files keep
# every row): at 2 points per pixel nothing more is visible, and drawing time grows with each point
MAX_PICTURE_POINTS = 200_000
# formats that need an optional package: (module, how to install it)
_NEEDS = {"ply": ("plyfile", "pip install 'lmad[io]'"), "pcd": ("pypcd4", "pip install 'lmad[io]'"),
          "png": ("matplotlib", "pip install 'lmad[viz]'")}


def parse_formats(text: str) -> list[str]:
    """``"npz,png"`` -> ["npz", "png"] (each once); unknown or no formats are refused."""
    import importlib.util

    formats = list(dict.fromkeys(f.strip().lower() for f in text.split(",") if f.strip()))
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown or not formats:
        raise ValueError(f"unknown output formats {unknown or [text]}; choose from {', '.join(FORMATS)}")
    for fmt in formats:  # before any work, not after it
        if fmt in _NEEDS and importlib.util.find_spec(_NEEDS[fmt][0]) is None:
            raise ValueError(f"--format {fmt} needs {_NEEDS[fmt][0]}: {_NEEDS[fmt][1]}")
    return formats


def pcd_field_names(queries) -> list[str]:
    """One PCD field name per query: ``score_`` + the query with every non-alphanumeric run as ``_``."""
    names = []
    for query in queries:
        name = "score_" + "_".join("".join(c if c.isalnum() else " " for c in query.lower()).split())
        while name in names or name in ("x", "y", "z", "label"):
            name += "_"
        names.append(name)
    return names


def pcd_bytes(result) -> bytes:
    """A binary PCD of the result, PCL's ``PointXYZL`` plus one float32 field per query.

    Fields: x, y, z (float32, as PCL stores them; NaN for invalid rows), ``label`` (uint32:
    query index + 1, 0 = none or invalid, PCL's "unlabelled"), then ``score_<query>`` per query.
    """
    import io

    from pypcd4 import Encoding, PointCloud

    labels = np.where(result.labels >= 0, result.labels + 1, 0).astype(np.uint32)
    names = pcd_field_names(result.queries)
    columns = [result.points[:, 0], result.points[:, 1], result.points[:, 2], labels,
               *[result.scores[:, k] for k in range(result.scores.shape[1])]]
    fields = ["x", "y", "z", "label", *names]
    types = [np.float32, np.float32, np.float32, np.uint32, *[np.float32] * len(names)]
    cloud = PointCloud.from_points([np.asarray(c).astype(t) for c, t in zip(columns, types)], fields, types)
    buffer = io.BytesIO()
    cloud.save(buffer, encoding=Encoding.BINARY)
    return buffer.getvalue()


def write_outputs(result, out_dir: str | Path, stem: str, formats=("npz",)) -> list[Path]:
    """Write ``result`` (an :class:`lmad.predict.AffordanceResult`) as ``out_dir/<stem>.<format>``.

    ``.npz`` and ``.ply`` keep every input row in order (``valid`` marks rows that had NaN/Inf
    coordinates; their scores are NaN); pictures show the valid rows.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    labels, names = result.display_labels()
    shown = np.flatnonzero(result.valid)
    if len(shown) > MAX_PICTURE_POINTS:
        shown = np.sort(np.random.default_rng(0).choice(shown, MAX_PICTURE_POINTS, replace=False))
    upright = result.points[shown] @ up_axis_rotation(result.up_axis).T if {"png", "html"} & set(formats) else None
    for fmt in formats:
        path = out_dir / f"{stem}.{fmt}"
        if fmt == "npz":
            arrays = {"points": result.points, "valid": result.valid, "scores": result.scores,
                      "labels": result.labels, "queries": np.asarray(result.queries, dtype=str)}
            if result.attention:
                arrays["attention_per_block"] = result.attention["per_block"]
                arrays["attention"] = result.attention["overall"]
            atomic_write(path, lambda temporary: save_npz(temporary, arrays))
        elif fmt == "ply":
            atomic_write(path, lambda temporary: _write_ply(temporary, result))
        elif fmt == "pcd":
            atomic_write_bytes(path, pcd_bytes(result))
        elif fmt == "png":
            from lmad.viz.render import render_labels

            atomic_write(path, lambda temporary: render_labels(
                temporary, upright, labels[shown], names,
                title=f"{stem}: " + ", ".join(result.queries), scores=result.scores[shown]))
        elif fmt == "html":
            from lmad.viz.html import write_viewer

            attention = result.attention["overall"][:, shown] if result.attention else None
            atomic_write(path, lambda temporary: write_viewer(
                temporary, upright, result.scores[shown], labels[shown], result.queries,
                attention, title=stem, label_names=names))
        elif fmt == "json":
            atomic_write_text(path, json.dumps(result.summary(), indent=2))
        written.append(path)
    return written


def save_npz(path: str | Path, arrays: dict) -> None:
    """``np.savez_compressed`` at the fastest deflate level: a tenth larger than the default
    level, and 3-4x faster on millions of float coordinates (which compress little at any level).
    Read with ``np.load``."""
    import zipfile

    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, array in arrays.items():
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


def _write_ply(path: Path, result) -> None:
    from plyfile import PlyData, PlyElement

    from lmad.viz.render import class_colors

    labels, names = result.display_labels()
    palette = np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in class_colors(names)], dtype=np.uint8)
    rgb = palette[labels]
    vertex = np.empty(len(result.points), dtype=[("x", "f8"), ("y", "f8"), ("z", "f8"), ("red", "u1"),
                                                  ("green", "u1"), ("blue", "u1"), ("label", "i4")])
    vertex["x"], vertex["y"], vertex["z"] = result.points.T
    vertex["red"], vertex["green"], vertex["blue"] = rgb.T
    vertex["label"] = result.labels
    PlyData([PlyElement.describe(vertex, "vertex")], text=False).write(str(path))
