"""Writing a prediction to disk, one file per output format: the table :data:`OUTPUT_FORMATS`.

Each format is an :class:`OutputFormat`: a name (the file's extension and the ``--format``
word), what it holds, a writer ``write(result, path, name)`` and, where it needs an optional
package, which one. ``lmad predict --format``, its help, and the service's ``?format=`` and
``/info`` all read this table. A new format is a writer plus one call of
:func:`register_output_format` (docs/architecture.md shows one).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from lmad.atomic_files import atomic_write

# pictures of larger clouds draw a seeded uniform subset of this many valid points (the files keep
# every row): at 2 points per pixel nothing more is visible, and drawing time grows with each point
MAX_PICTURE_POINTS = 200_000


@dataclass(frozen=True)
class OutputFormat:
    """One output format: ``write(result, path, name)`` writes ``result`` (an AffordanceResult) to
    ``path``; ``name`` is the output's stem, for titles.

    ``to_bytes(result)``, where given, makes the same file's content in memory (a service sends
    it); ``needs`` is (module, how to install it) for a format that needs an optional package.
    """

    name: str
    description: str
    write: Callable
    to_bytes: Callable | None = None
    needs: tuple[str, str] | None = None
    media_type: str = "application/octet-stream"


OUTPUT_FORMATS: dict[str, OutputFormat] = {}
DEFAULT_FORMATS = ("npz", "png", "json")


def register_output_format(output_format: OutputFormat) -> OutputFormat:
    """Add a format to the table (``lmad predict --format NAME`` then writes it); returns it."""
    if not output_format.name.isalnum() or output_format.name != output_format.name.lower():
        raise ValueError(f"an output format's name is its file extension, lower-case letters and digits; "
                         f"got {output_format.name!r}")
    OUTPUT_FORMATS[output_format.name] = output_format
    return output_format


def parse_formats(text: str) -> list[str]:
    """``"npz,png"`` -> ["npz", "png"] (each once); unknown formats, none, or a format whose optional
    package is missing are refused (before any work)."""
    import importlib.util

    formats = list(dict.fromkeys(f.strip().lower() for f in text.split(",") if f.strip()))
    unknown = sorted(set(formats) - set(OUTPUT_FORMATS))
    if unknown or not formats:
        raise ValueError(f"unknown output formats {unknown or [text]}; choose from {', '.join(OUTPUT_FORMATS)}")
    for name in formats:
        needs = OUTPUT_FORMATS[name].needs
        if needs and importlib.util.find_spec(needs[0]) is None:
            raise ValueError(f"--format {name} needs {needs[0]}: {needs[1]}")
    return formats


def write_outputs(result, out_dir: str | Path, stem: str, formats=("npz",)) -> list[Path]:
    """Write ``result`` (an :class:`lmad.predict.AffordanceResult`) as ``out_dir/<stem>.<format>``,
    each file atomically (a temporary file renamed when complete).

    ``.npz``, ``.ply`` and ``.pcd`` keep every input row in order (``valid`` marks rows that had
    NaN/Inf coordinates; their scores are NaN); pictures show the valid rows.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in formats:
        path = out_dir / f"{stem}.{name}"
        atomic_write(path, lambda temporary: OUTPUT_FORMATS[name].write(result, temporary, stem))
        written.append(path)
    return written


def output_bytes(result, name: str, format_name: str) -> bytes:
    """The content of ``<name>.<format_name>`` for ``result``, in memory (a service sends it):
    the format's ``to_bytes`` where it has one, else its writer into a temporary folder."""
    import tempfile

    output_format = OUTPUT_FORMATS[format_name]
    if output_format.to_bytes is not None:
        return output_format.to_bytes(result)
    with tempfile.TemporaryDirectory(prefix="lmad-output-") as folder:
        path = Path(folder) / f"output.{format_name}"
        output_format.write(result, path, name)
        return path.read_bytes()


def picture_rows(result) -> np.ndarray:
    """The valid rows a picture draws: all of them, or a seeded subset of ``MAX_PICTURE_POINTS``."""
    shown = np.flatnonzero(result.valid)
    if len(shown) > MAX_PICTURE_POINTS:
        shown = np.sort(np.random.default_rng(0).choice(shown, MAX_PICTURE_POINTS, replace=False))
    return shown


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


def save_npz(path: str | Path, arrays: dict) -> None:
    """``np.savez_compressed`` at the fastest deflate level (float coordinates compress little
    at any level; the default level's time: docs/performance.md). Read with ``np.load``."""
    import zipfile

    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, array in arrays.items():
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)


def _write_ply(result, path: Path, name: str) -> None:
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


# ---- the built-in formats ------------------------------------------------------------------------

def _write_npz(result, path: Path, name: str) -> None:
    arrays = {"points": result.points, "valid": result.valid, "scores": result.scores, "labels": result.labels,
              "queries": np.asarray(result.queries, dtype=str)}
    if result.attention:
        arrays["attention_per_block"] = result.attention["per_block"]
        arrays["attention"] = result.attention["overall"]
    save_npz(path, arrays)


def _write_png(result, path: Path, name: str) -> None:
    from lmad.data.transforms import up_axis_rotation
    from lmad.viz.render import render_labels

    rows = picture_rows(result)
    labels, names = result.display_labels()
    render_labels(path, result.points[rows] @ up_axis_rotation(result.up_axis).T, labels[rows], names,
                  title=f"{name}: " + ", ".join(result.queries), scores=result.scores[rows])


def _write_html(result, path: Path, name: str) -> None:
    from lmad.data.transforms import up_axis_rotation
    from lmad.viz.html import write_viewer

    rows = picture_rows(result)
    attention = result.attention["overall"][:, rows] if result.attention else None
    write_viewer(path, result.points[rows] @ up_axis_rotation(result.up_axis).T, result.scores[rows], result.queries,
                 attention, result.threshold, result.exclusive, title=name)


def _write_json(result, path: Path, name: str) -> None:
    path.write_text(json.dumps(result.summary(), indent=2), encoding="utf-8")


for _format in (
    OutputFormat("npz", "NumPy archive: points (M, 3) float64, valid, scores (M, K) float32, labels (M,), queries",
                 _write_npz),
    OutputFormat("ply", "PLY points coloured by label, with a label field", _write_ply,
                 needs=("plyfile", "pip install 'lmad[io]'")),
    OutputFormat("pcd", "binary PCD for PCL / ROS: x, y, z, label (uint32, query index + 1, 0 = none), "
                        "one float32 field per query", lambda result, path, name: path.write_bytes(pcd_bytes(result)),
                 to_bytes=pcd_bytes, needs=("pypcd4", "pip install 'lmad[io]'")),
    OutputFormat("png", "four views coloured by label, and the winning score", _write_png,
                 needs=("matplotlib", "pip install 'lmad[viz]'"), media_type="image/png"),
    OutputFormat("html", "a self-contained 3D viewer (no network): label map, heat maps, attention, threshold",
                 _write_html, media_type="text/html; charset=utf-8"),
    OutputFormat("json", "per query: the points reaching the threshold, their count, share, centroid, box",
                 _write_json, media_type="application/json"),
):
    register_output_format(_format)
