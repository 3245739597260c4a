"""Mesh pieces for the procedural objects: primitives, revolutions and sweeps, as numpy arrays.

Every builder returns a :class:`Mesh` (vertices (V, 3), faces (F, 3)) in world coordinates with
y up. Primitives come from trimesh; sweeps of a circle along a path and extruded star-shaped
outlines are built here (they need no mesh booleans).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import trimesh


@dataclass
class Mesh:
    vertices: np.ndarray  # (V, 3) float64
    faces: np.ndarray  # (F, 3) int64

    def moved(self, offset) -> "Mesh":
        return Mesh(self.vertices + np.asarray(offset, dtype=np.float64), self.faces)

    def rotated(self, matrix, centre=(0.0, 0.0, 0.0)) -> "Mesh":
        centre = np.asarray(centre, dtype=np.float64)
        return Mesh((self.vertices - centre) @ np.asarray(matrix).T + centre, self.faces)

    def areas(self) -> np.ndarray:
        a, b, c = (self.vertices[self.faces[:, i]] for i in range(3))
        return 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1)


def _from_trimesh(mesh: trimesh.Trimesh) -> Mesh:
    return Mesh(np.asarray(mesh.vertices, dtype=np.float64), np.asarray(mesh.faces, dtype=np.int64))


def rotation(axis: str, angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    if axis == "x":
        return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])
    if axis == "y":
        return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def box(centre, size) -> Mesh:
    """Axis-aligned box with the given centre and (x, y, z) size."""
    return _from_trimesh(trimesh.creation.box(extents=np.asarray(size, dtype=np.float64))).moved(centre)


def cylinder(centre, radius: float, height: float, axis: str = "y", sections: int = 24) -> Mesh:
    """Closed cylinder along an axis."""
    mesh = _from_trimesh(trimesh.creation.cylinder(radius=radius, height=height, sections=sections))
    if axis == "y":
        mesh = mesh.rotated(rotation("x", -np.pi / 2))
    elif axis == "x":
        mesh = mesh.rotated(rotation("y", np.pi / 2))
    return mesh.moved(centre)


def sphere(centre, radius: float, subdivisions: int = 2) -> Mesh:
    return _from_trimesh(trimesh.creation.icosphere(subdivisions=subdivisions, radius=radius)).moved(centre)


def revolve(radii, heights, sections: int = 32, centre=(0.0, 0.0, 0.0)) -> Mesh:
    """Surface of revolution about the vertical axis of the profile (radius, height) pairs.

    An open profile gives an open surface (a wall); start or end it at radius 0 to close it.
    """
    line = np.stack([np.asarray(radii, dtype=np.float64), np.asarray(heights, dtype=np.float64)], axis=1)
    mesh = _from_trimesh(trimesh.creation.revolve(line, sections=sections))
    return mesh.rotated(rotation("x", -np.pi / 2)).moved(centre)  # trimesh revolves about z


def tube(path, radius: float, sections: int = 8) -> Mesh:
    """A circle of ``radius`` swept along a polyline ``path`` (P, 3), open at the ends."""
    path = np.asarray(path, dtype=np.float64)
    tangents = np.gradient(path, axis=0)
    tangents /= np.linalg.norm(tangents, axis=1, keepdims=True) + 1e-12
    reference = np.array([0.0, 0.0, 1.0]) if abs(tangents[0, 2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    rings = []
    normal = np.cross(tangents[0], reference)
    for point, tangent in zip(path, tangents):
        normal = normal - tangent * normal.dot(tangent)  # parallel transport keeps the tube untwisted
        normal /= np.linalg.norm(normal) + 1e-12
        binormal = np.cross(tangent, normal)
        angles = np.linspace(0, 2 * np.pi, sections, endpoint=False)
        rings.append(point + radius * (np.cos(angles)[:, None] * normal + np.sin(angles)[:, None] * binormal))
    vertices = np.concatenate(rings)
    faces = []
    for i in range(len(path) - 1):
        for j in range(sections):
            a, b = i * sections + j, i * sections + (j + 1) % sections
            c, d = a + sections, b + sections
            faces += [[a, b, d], [a, d, c]]
    return Mesh(vertices, np.asarray(faces, dtype=np.int64))


def arc(centre, radius: float, start: float, stop: float, plane: str = "xy", count: int = 16) -> np.ndarray:
    """Points (count, 3) on a circular arc in a coordinate plane."""
    angles = np.linspace(start, stop, count)
    u, v = np.cos(angles) * radius, np.sin(angles) * radius
    zero = np.zeros_like(u)
    coords = {"xy": (u, v, zero), "xz": (u, zero, v), "yz": (zero, u, v)}[plane]
    return np.stack(coords, axis=1) + np.asarray(centre, dtype=np.float64)


def slab(outline, thickness: float, centre=(0.0, 0.0, 0.0)) -> Mesh:
    """A star-shaped 2D outline (P, 2) in the xy plane extruded by ``thickness`` along z."""
    outline = np.asarray(outline, dtype=np.float64)
    count = len(outline)
    middle = outline.mean(axis=0)
    half = thickness / 2
    vertices = np.concatenate([
        np.c_[outline, np.full(count, half)], np.c_[outline, np.full(count, -half)],
        [[*middle, half], [*middle, -half]],
    ])
    top, bottom = 2 * count, 2 * count + 1
    faces = []
    for i in range(count):
        j = (i + 1) % count
        faces += [[top, i, j], [bottom, count + j, count + i], [i, count + i, count + j], [i, count + j, j]]
    return Mesh(vertices, np.asarray(faces, dtype=np.int64)).moved(centre)


def merge(meshes: list[Mesh]) -> Mesh:
    offsets = np.cumsum([0] + [len(m.vertices) for m in meshes[:-1]])
    return Mesh(np.concatenate([m.vertices for m in meshes]),
                np.concatenate([m.faces + o for m, o in zip(meshes, offsets)]))
