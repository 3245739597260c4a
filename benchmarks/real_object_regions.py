"""Where the parts of real objects are, found from geometry alone (no labels), for the label-free
checks of ``real_objects.py``. Every function takes points already upright (y up) and scaled
into the [-1, 1] cube (:func:`upright_unit_cube`), and returns boolean masks over them.

- :func:`mug_handle`: points farther from the body's vertical axis than the body wall at their
  height. The axis is the median of x and z (the handle is a small share of the points); the
  wall radius of a 10-band height slice is its 75th percentile of distance to the axis, and a
  point is handle when it lies more than 12 % + 0.04 beyond the larger of its band's and the
  neighbouring bands' radius.
- :func:`knife_blade_and_handle`: along the knife's long axis (first principal axis), 24 slices;
  a slice's flatness is its extent along the thinnest axis over its extent along the middle
  one. Handles are round or square in section (flatness ~0.3-1), blades flat (< 0.15). The
  end whose outer quarter is less flat is the handle end; from there, slices are handle while
  their flatness stays above the midpoint of the two ends' flatness; the slices after the
  first flat one are blade; the one slice at the change is left out.
- :func:`inside_and_outside`: depth-buffer visibility (the procedural data's z-buffer) from
  16 cameras. Outside: seen from a horizontal camera or one 30 degrees below. Inside: seen
  only from cameras 45 degrees or more above (the cavity and its floor), by none of those.
- :func:`chair_legs`: points below 40 % of the chair's height that are not in its densest
  height band (the seat).
"""

from __future__ import annotations

import numpy as np


def upright_unit_cube(points: np.ndarray, up: str = "y") -> np.ndarray:
    """(M, 3) points -> turned so that ``up`` is +y, centred on the bounding box, max half extent 1."""
    from lmad.data.transforms import up_axis_rotation

    turned = np.asarray(points, dtype=np.float64) @ up_axis_rotation(up).T
    low, high = turned.min(0), turned.max(0)
    return (turned - (low + high) / 2) / ((high - low).max() / 2)


def mug_handle(points: np.ndarray) -> np.ndarray:
    centre = np.median(points[:, [0, 2]], axis=0)
    radius = np.hypot(points[:, 0] - centre[0], points[:, 2] - centre[1])
    edges = np.linspace(points[:, 1].min(), points[:, 1].max() + 1e-9, 11)
    band = np.clip(np.digitize(points[:, 1], edges) - 1, 0, 9)
    wall = np.array([np.percentile(radius[band == b], 75) if (band == b).any() else 0.0 for b in range(10)])
    wall = np.maximum.reduce([wall, np.r_[wall[1:], 0], np.r_[0, wall[:-1]]])  # and the neighbours'
    return radius > wall[band] * 1.12 + 0.04


def _principal_frame(points: np.ndarray) -> np.ndarray:
    """(M, 3) coordinates along the principal axes, longest first."""
    centred = points - points.mean(0)
    _, _, axes = np.linalg.svd(centred, full_matrices=False)
    return centred @ axes.T


def knife_blade_and_handle(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    frame = _principal_frame(points)
    edges = np.linspace(frame[:, 0].min(), frame[:, 0].max() + 1e-9, 25)
    slice_of = np.clip(np.digitize(frame[:, 0], edges) - 1, 0, 23)
    flatness = np.zeros(24)
    for s in range(24):
        inside = frame[slice_of == s]
        if len(inside) >= 5:
            extent = np.percentile(inside, 95, axis=0) - np.percentile(inside, 5, axis=0)
            flatness[s] = extent[2] / max(extent[1], 1e-6)
    first, last = flatness[:6].mean(), flatness[-6:].mean()
    order = np.arange(24) if first > last else np.arange(24)[::-1]  # from the handle end
    threshold = (first + last) / 2
    change = next((i for i, s in enumerate(order) if flatness[s] < threshold), 24)
    handle_slices, blade_slices = order[:change], order[change + 1:]
    return np.isin(slice_of, blade_slices), np.isin(slice_of, handle_slices)


def _camera(azimuth_deg: float, elevation_deg: float) -> np.ndarray:
    a, e = np.deg2rad(azimuth_deg), np.deg2rad(elevation_deg)
    return np.array([np.cos(e) * np.cos(a), np.sin(e), np.cos(e) * np.sin(a)])


def inside_and_outside(points: np.ndarray, triangles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """points (M, 3) and the surface's triangles (F, 3, 3), both in the same upright unit frame."""
    from lmad.data.synthetic.generate import lattice_samples, visible_from

    surface = lattice_samples(triangles)
    seen = lambda camera: visible_from(points, camera, surface, tolerance=1.0)  # noqa: E731
    from_side = np.zeros(len(points), dtype=bool)
    for azimuth in range(0, 360, 45):
        from_side |= seen(_camera(azimuth, 0)) | seen(_camera(azimuth + 22.5, -30))
    from_above = seen(np.array([0.0, 1.0, 0.0]))
    for azimuth in range(0, 360, 90):
        from_above |= seen(_camera(azimuth, 60))
    return from_above & ~from_side, from_side


def chair_legs(points: np.ndarray) -> np.ndarray:
    height = points[:, 1]
    low, high = height.min(), height.max()
    counts, edges = np.histogram(height, bins=20, range=(low, high))
    seat = np.argmax(counts)
    seat_low = edges[max(seat - 1, 0)]
    return (height < low + 0.4 * (high - low)) & (height < seat_low)
