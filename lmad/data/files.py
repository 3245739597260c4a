"""Reading your own point clouds and meshes.

Point clouds: ``.ply`` (ascii/binary, via plyfile), ``.pcd`` (ascii/binary, via pypcd4),
``.xyz`` / ``.txt`` (whitespace or comma separated, first three columns), ``.npy`` / ``.npz``.
Meshes: ``.obj``, ``.stl``, ``.off``, ``.glb``/``.gltf`` and ``.ply`` with faces (via trimesh),
surface-sampled area-weighted with a seed.

Rows with NaN/Inf coordinates are dropped with a warning that counts them; every other problem
(unknown extension, empty or corrupt file, no points, all points identical) raises
:class:`PointFileError` naming the file.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

POINT_CLOUD_EXTENSIONS = (".ply", ".pcd", ".xyz", ".txt", ".npy", ".npz")
MESH_EXTENSIONS = (".obj", ".stl", ".off", ".glb", ".gltf", ".ply")
SUPPORTED_EXTENSIONS = tuple(sorted(set(POINT_CLOUD_EXTENSIONS + MESH_EXTENSIONS)))
DEFAULT_MESH_POINTS = 10_000


class PointFileError(ValueError):
    """A file could not be turned into points; the message says which file and why."""


@dataclass
class PointFile:
    """What :func:`read_point_file` found: the points and whether they came from a mesh."""

    points: np.ndarray  # (M, 3) float32
    is_mesh: bool
    dropped_rows: int = 0


def read_points(path: str | Path, mesh_points: int = DEFAULT_MESH_POINTS, seed: int = 0) -> np.ndarray:
    """Read any supported file as points: (M, 3) float32 (meshes are surface-sampled)."""
    return read_point_file(path, mesh_points, seed).points


def read_point_file(path: str | Path, mesh_points: int = DEFAULT_MESH_POINTS, seed: int = 0) -> PointFile:
    """Like :func:`read_points`, also telling whether the file was a mesh and how many rows were dropped."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_EXTENSIONS:
        raise PointFileError(f"{path}: unsupported file type {suffix or '(none)'!r}; "
                             f"lmad reads {', '.join(SUPPORTED_EXTENSIONS)}")
    if not path.is_file():
        raise PointFileError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise PointFileError(f"{path}: the file is empty")
    try:
        if suffix == ".ply":
            points, is_mesh = _read_ply(path, mesh_points, seed)
        elif suffix in MESH_EXTENSIONS:
            points, is_mesh = _sample_mesh(path, mesh_points, seed), True
        elif suffix == ".pcd":
            points, is_mesh = _read_pcd(path), False
        elif suffix in (".xyz", ".txt"):
            points, is_mesh = _read_text(path), False
        else:
            points, is_mesh = _read_numpy(path), False
    except PointFileError:
        raise
    except ImportError as error:
        raise PointFileError(f"{path}: reading {suffix} files needs {error.name}: pip install 'lmad[io]'") from error
    except Exception as error:  # noqa: BLE001 - any parser failure means a corrupt file
        raise PointFileError(f"{path}: could not be read as {suffix} ({type(error).__name__}: {error})") from error
    return _clean(points, path, is_mesh)


def _clean(points: np.ndarray, path: Path, is_mesh: bool) -> PointFile:
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] < 3:
        raise PointFileError(f"{path}: expected rows of at least 3 coordinates, found shape {points.shape}")
    points = points[:, :3]
    if len(points) == 0:
        raise PointFileError(f"{path}: the file holds no points")
    finite = np.isfinite(points).all(axis=1)
    dropped = int((~finite).sum())
    if dropped:
        if dropped == len(points):
            raise PointFileError(f"{path}: every one of its {len(points)} points has NaN/Inf coordinates")
        warnings.warn(f"{path}: dropped {dropped} of {len(points)} points with NaN/Inf coordinates", stacklevel=3)
        points = points[finite]
    if np.ptp(points, axis=0).max() == 0:
        raise PointFileError(f"{path}: all {len(points)} points are identical; there is no shape to score")
    return PointFile(points.astype(np.float32), is_mesh, dropped)


def _read_ply(path: Path, mesh_points: int, seed: int):
    from plyfile import PlyData

    ply = PlyData.read(str(path))
    names = [element.name for element in ply.elements]
    if "face" in names and ply["face"].count > 0:
        return _sample_mesh(path, mesh_points, seed), True
    if "vertex" not in names:
        raise PointFileError(f"{path}: the PLY file has no 'vertex' element")
    vertex = ply["vertex"]
    return np.stack([vertex["x"], vertex["y"], vertex["z"]], axis=1), False


def _read_pcd(path: Path) -> np.ndarray:
    from pypcd4 import PointCloud

    cloud = PointCloud.from_path(path)
    if not {"x", "y", "z"} <= set(cloud.fields):
        raise PointFileError(f"{path}: PCD fields {cloud.fields} lack x, y, z")
    return cloud.numpy(("x", "y", "z"))


def _read_text(path: Path) -> np.ndarray:
    text = path.read_text()
    delimiter = "," if "," in text.split("\n", 1)[0] else None
    return np.loadtxt(path, delimiter=delimiter, ndmin=2, usecols=(0, 1, 2))


def _read_numpy(path: Path) -> np.ndarray:
    if path.suffix.lower() == ".npy":
        return np.load(path, allow_pickle=False)
    with np.load(path, allow_pickle=False) as archive:
        for key in ("points", "xyz", "coordinate", "coordinates"):
            if key in archive:
                return archive[key]
        arrays = [archive[k] for k in archive.files if archive[k].ndim == 2 and archive[k].shape[1] >= 3]
        if not arrays:
            raise PointFileError(f"{path}: no (M, 3) array in the archive (keys: {archive.files}); "
                                 "name it 'points'")
        return arrays[0]


def _sample_mesh(path: Path, count: int, seed: int) -> np.ndarray:
    import trimesh

    mesh = trimesh.load(str(path), force="mesh", process=False)
    if not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) == 0:
        raise PointFileError(f"{path}: the file holds no mesh faces to sample")
    if mesh.area <= 0:
        raise PointFileError(f"{path}: the mesh has zero surface area")
    points, _ = trimesh.sample.sample_surface(mesh, count, seed=seed)
    return points
