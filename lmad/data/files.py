"""Reading your own point clouds and meshes.

Point clouds: ``.ply`` (ascii/binary, via plyfile), ``.pcd`` (ascii/binary, via pypcd4),
``.xyz`` / ``.txt`` (whitespace or comma separated, first three columns), ``.npy`` / ``.npz``.
Meshes: ``.obj``, ``.stl``, ``.off``, ``.glb``/``.gltf`` and ``.ply`` with faces (via trimesh),
surface-sampled area-weighted with a seed.

Coordinates are read as float64 and every row is kept, in the file's order: rows with NaN/Inf
coordinates are marked invalid (``PointFile.valid``), not removed, so results can be given back
row for row. Array layouts are read where they are unambiguous and refused otherwise
(:func:`points_from_array`). Every problem (unknown extension, missing, empty or corrupt file,
an ambiguous layout, too few points, all points identical) raises :class:`PointFileError`
naming the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lmad.errors import LMADError

POINT_CLOUD_EXTENSIONS = (".ply", ".pcd", ".xyz", ".txt", ".npy", ".npz")
MESH_EXTENSIONS = (".obj", ".stl", ".off", ".glb", ".gltf", ".ply")
SUPPORTED_EXTENSIONS = tuple(sorted(set(POINT_CLOUD_EXTENSIONS + MESH_EXTENSIONS)))
DEFAULT_MESH_POINTS = 10_000
MIN_POINTS = 16  # fewer valid points than this is not a shape to score
NPZ_POINT_KEYS = ("points", "xyz", "coordinate", "coordinates")
# the optional packages a file type needs, and how to get them
_OPTIONAL_READERS = {"plyfile": "pip install 'lmad[io]'", "pypcd4": "pip install 'lmad[io]'",
                     "trimesh": "pip install trimesh"}


class PointFileError(LMADError, ValueError):
    """A file (or array) could not be turned into points; the message says which and why."""


@dataclass
class PointFile:
    """What :func:`read_point_file` found.

    points: (M, 3) float64, every row of the input in its order (invalid rows included)
    valid: (M,) bool, False where a row has NaN/Inf coordinates
    is_mesh: the points are surface samples of a mesh (then all valid)
    notes: how the layout was read, when it needed interpreting (e.g. a transposed array)
    """

    points: np.ndarray
    valid: np.ndarray
    is_mesh: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def dropped_rows(self) -> int:
        return int((~self.valid).sum())


def read_points(path: str | Path, mesh_points: int = DEFAULT_MESH_POINTS, seed: int = 0) -> np.ndarray:
    """Read any supported file as points: (M', 3) float64, the valid rows only (meshes surface-sampled)."""
    found = read_point_file(path, mesh_points, seed)
    return found.points[found.valid]


def read_point_file(path: str | Path, mesh_points: int = DEFAULT_MESH_POINTS, seed: int = 0) -> PointFile:
    """Read a point cloud or mesh file as a :class:`PointFile` (all rows, with a validity mask)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.exists():
        raise PointFileError(f"{path}: no such file or folder")
    if not path.is_file():
        raise PointFileError(f"{path}: not a file")
    if suffix not in SUPPORTED_EXTENSIONS:
        raise PointFileError(f"{path}: unsupported file type {suffix or '(no extension)'!r}; "
                             f"lmad reads {', '.join(SUPPORTED_EXTENSIONS)}")
    if path.stat().st_size == 0:
        raise PointFileError(f"{path}: the file is empty")
    notes: list[str] = []
    try:
        if suffix == ".ply":
            raw, is_mesh = _read_ply(path, mesh_points, seed)
        elif suffix in MESH_EXTENSIONS:
            raw, is_mesh = _sample_mesh(path, mesh_points, seed), True
        elif suffix == ".pcd":
            raw, is_mesh = _read_pcd(path), False
        elif suffix in (".xyz", ".txt"):
            raw, is_mesh = _read_text(path), False
        else:
            raw, is_mesh = _read_numpy(path, notes), False
    except PointFileError:
        raise
    except ImportError as error:
        if error.name in _OPTIONAL_READERS:
            raise PointFileError(f"{path}: reading {suffix} files needs {error.name}: "
                                 f"{_OPTIONAL_READERS[error.name]}") from error
        raise PointFileError(f"{path}: could not be read as {suffix} (the file looks corrupt)") from error
    except Exception as error:  # noqa: BLE001 - any parser failure means a corrupt file
        raise PointFileError(f"{path}: could not be read as {suffix} ({type(error).__name__}: {error})") from error
    points, more_notes = points_from_array(raw, str(path))
    return check_points(points, str(path), is_mesh, notes + more_notes)


def points_from_array(array, where: str) -> tuple[np.ndarray, list[str]]:
    """Interpret an array as (M, 3) coordinates: float64, every row kept.

    Read: (M, 3) as is; a structured array with fields x, y, z; (M, C > 3) by its first three
    columns (x, y, z then intensity, colour or normals, as every common layout has them); (3, M)
    transposed, M > 3 (it cannot be M points of 3 coordinates). Refused: bool, complex, object
    or string data, other shapes. ``where`` names the source in messages and notes.
    """
    array = np.asarray(array)
    notes = []
    if array.dtype.names is not None:
        missing = {"x", "y", "z"} - set(array.dtype.names)
        if missing:
            raise PointFileError(f"{where}: structured array with fields {list(array.dtype.names)} lacks "
                                 f"{sorted(missing)}; lmad needs fields x, y, z")
        array = np.stack([np.asarray(array[name], dtype=np.float64).reshape(-1) for name in "xyz"], axis=1)
        notes.append(f"{where}: read fields x, y, z of a structured array")
    if array.dtype.kind not in "iuf":
        raise PointFileError(f"{where}: coordinates must be numbers, got dtype {array.dtype}")
    if array.ndim != 2:
        raise PointFileError(f"{where}: expected an (M, 3) array of coordinates, got shape {array.shape}")
    rows, columns = array.shape
    if rows == 3 and columns > 3:
        array = array.T
        notes.append(f"{where}: read a (3, {columns}) array as {columns} points (transposed)")
    elif columns > 3:
        notes.append(f"{where}: used the first 3 of {columns} columns as x, y, z")
    elif columns < 3:
        raise PointFileError(f"{where}: expected rows of 3 coordinates, got shape {array.shape}")
    return np.ascontiguousarray(array[:, :3], dtype=np.float64), notes


def check_points(points: np.ndarray, where: str, is_mesh: bool = False, notes=None) -> PointFile:
    """(M, 3) float64 -> :class:`PointFile`, refusing what cannot be scored (too few valid points,
    no extent, coordinates too large to centre)."""
    valid = np.isfinite(points).all(axis=1)
    count = int(valid.sum())
    if count < MIN_POINTS:
        found = (f"holds {count} points" if count == len(points)
                 else f"only {count} of its {len(points)} rows have finite coordinates")
        raise PointFileError(f"{where}: {found}; lmad needs at least {MIN_POINTS} points")
    kept = points[valid]
    with np.errstate(over="ignore", invalid="ignore"):
        centred = kept - kept.mean(axis=0)
        extent = float(np.abs(centred).max())
    if not np.isfinite(extent):
        raise PointFileError(f"{where}: coordinates up to {np.abs(kept).max():.3g} are too large to centre "
                             "in float64; rescale the cloud")
    if extent == 0.0:
        raise PointFileError(f"{where}: all {count} points are identical; there is no shape to score")
    return PointFile(points, valid, is_mesh, list(notes or []))


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


def _read_numpy(path: Path, notes: list[str]) -> np.ndarray:
    """A ``.npy`` array, or the points of a ``.npz``: the array named points / xyz / coordinates,
    else its only array; several unnamed candidates are ambiguous and refused."""
    magic = b"\x93NUMPY" if path.suffix.lower() == ".npy" else b"PK"
    with open(path, "rb") as handle:
        if handle.read(len(magic)) != magic:
            raise PointFileError(f"{path}: not a NumPy {path.suffix.lower()} file (it does not start as one); "
                                 "the file is damaged or in another format")
    if path.suffix.lower() == ".npy":
        try:
            return np.load(path, allow_pickle=False)
        except ValueError as error:
            if "pickle" in str(error):
                raise PointFileError(f"{path}: holds Python objects, not numbers; lmad reads numeric arrays "
                                     "only (save the coordinates as an (M, 3) float array)") from None
            raise
    with np.load(path, allow_pickle=False) as archive:
        for key in NPZ_POINT_KEYS:
            if key in archive:
                return archive[key]
        if len(archive.files) == 1:
            notes.append(f"{path}: read its only array {archive.files[0]!r} as the points")
            return archive[archive.files[0]]
        raise PointFileError(f"{path}: an archive of arrays {archive.files} and none is named "
                             f"{' / '.join(NPZ_POINT_KEYS)}; name the coordinates 'points'")


def _sample_mesh(path: Path, count: int, seed: int) -> np.ndarray:
    import trimesh

    mesh = trimesh.load(str(path), force="mesh", process=False)
    if not isinstance(mesh, trimesh.Trimesh) or len(mesh.faces) == 0:
        raise PointFileError(f"{path}: the file holds no mesh faces to sample")
    if mesh.area <= 0:
        raise PointFileError(f"{path}: the mesh has zero surface area")
    points, _ = trimesh.sample.sample_surface(mesh, count, seed=seed)
    return points
