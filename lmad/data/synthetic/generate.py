"""Sampling, soft labels, partial views and writing of the procedural dataset.

One object: parts -> ``DENSE_POINTS`` area-weighted surface samples with their part -> soft
scores per affordance (core score inside a region, a linear fall-off to exactly 0 within
``FALLOFF`` outside it along the surface, not through a thin wall to its other side: compact
support, as the real annotations) -> normalised into the
[-1, 1] cube. The full shape is a uniform subset of 2048 of those points; each partial view is a
simulated single-view scan (:func:`scan_view`: a random camera's z-buffer, patches of missing
returns, depth noise), resampled to 2048.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lmad.data.classes import AFFORDANCE_CLASSES, NONE_INDEX
from lmad.data.synthetic.categories import CATEGORY_AFFORDANCES, GENERATORS, Part
from lmad.data.synthetic.geometry import rotation

NUM_POINTS = 2048
DENSE_POINTS = 4 * NUM_POINTS
FALLOFF = 0.08  # in the normalised [-1, 1] frame
VIEWS_PER_SHAPE = 4  # simulated scans per shape: the four partial views of 3D AffordanceNet's layout
AFFORDANCES = AFFORDANCE_CLASSES[:NONE_INDEX]
# Resting poses of the flat tools (built along x, standing on an edge): ShapeNet, and so
# 3D AffordanceNet, has scissors lying flat and knives flat, on an edge or upright. A pose is
# (probability, axis, degrees), applied after the region tests, before normalisation.
# Knives (and the other tools built along x) also stand upright blade-up, as real ones are stored.
# Guitars mostly lie flat (body down), as a guitar on a table or floor is scanned.
POSES = {
    "Knife": [(0.4, "x", 90.0), (0.25, "x", 0.0), (0.25, "z", 90.0), (0.1, "z", -90.0)],
    "Scissors": [(0.8, "x", 90.0), (0.2, "x", 0.0)],
    "Hammer": [(0.5, "x", 90.0), (0.2, "x", 0.0), (0.2, "z", 90.0), (0.1, "z", -90.0)],
    "Racket": [(0.6, "x", 90.0), (0.2, "x", 0.0), (0.2, "z", 90.0)],
    "Guitar": [(0.6, "x", 90.0), (0.15, "x", 0.0), (0.15, "z", 90.0), (0.1, "z", -90.0)],
}


@dataclass
class SyntheticObject:
    category: str
    points: np.ndarray  # (DENSE_POINTS, 3) float32 in the [-1, 1] cube
    scores: np.ndarray  # (DENSE_POINTS, 18) float32 soft labels
    part_index: np.ndarray  # (DENSE_POINTS,) which part each point lies on
    part_names: list[str]
    triangles: np.ndarray  # (F, 3, 3) the surface, in the same normalised frame


def part_triangles(parts: list[Part]) -> tuple[np.ndarray, np.ndarray]:
    """All parts' triangles (F, 3, 3) and the part each belongs to (F,)."""
    triangles = np.concatenate([p.mesh.vertices[p.mesh.faces] for p in parts])
    owner = np.concatenate([np.full(len(p.mesh.faces), i) for i, p in enumerate(parts)])
    return triangles, owner


def sample_parts(parts: list[Part], count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Area-weighted surface samples: points (count, 3), part index (count,), face index (count,)."""
    triangles, face_part = part_triangles(parts)
    all_areas = 0.5 * np.linalg.norm(np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0]), axis=1)
    faces = rng.choice(len(all_areas), size=count, p=all_areas / all_areas.sum())
    r1, r2 = rng.random(count), rng.random(count)
    flip = r1 + r2 > 1
    r1[flip], r2[flip] = 1 - r1[flip], 1 - r2[flip]
    tri = triangles[faces]
    points = tri[:, 0] + r1[:, None] * (tri[:, 1] - tri[:, 0]) + r2[:, None] * (tri[:, 2] - tri[:, 0])
    return points, face_part[faces], faces


def region_masks(points: np.ndarray, part_index: np.ndarray, parts: list[Part], affordances) -> dict[str, np.ndarray]:
    """Affordance -> (M,) bool: the points each part's region tests select (generator frame)."""
    masks = {}
    for affordance in affordances:
        region = np.zeros(len(points), dtype=bool)
        for i, part in enumerate(parts):
            if affordance in part.regions:
                on_part = part_index == i
                test = part.regions[affordance]
                region[on_part] = True if test is None else test(points[on_part])
        masks[affordance] = region
    return masks


def soft_scores(points: np.ndarray, masks: dict[str, np.ndarray], rng: np.random.Generator,
                normals: np.ndarray | None = None) -> np.ndarray:
    """(M, 18) soft scores on normalised points (M, 3) from the region masks.

    Inside a region: ``base * (0.75 + 0.25 * smooth noise)`` with ``base ~ U(0.55, 0.95)``;
    outside: ``0.6 * base * (1 - d / FALLOFF)`` for a distance d < FALLOFF to the region
    (measured to up to 256 of its points), exactly 0 beyond. With the surface's unit ``normals``
    (M, 3; their sign is ignored) the fall-off does not cross a thin wall: a region point counts
    for an outside point only if the two do not face each other across a gap (surfaces nearly
    parallel, |n_p . n_r| > 0.7, and the step d between them leaving that plane, |n_r . d| >
    0.3 |d|). Without that, a container's outer wall took about 40 % of its inner wall's
    ``contain``.
    """
    scores = np.zeros((len(points), len(AFFORDANCES)), dtype=np.float32)
    for affordance, region in masks.items():
        if not region.any():
            continue
        base = rng.uniform(0.55, 0.95)
        noise = np.sin(points @ rng.normal(size=3) * rng.uniform(2, 5) + rng.uniform(0, 2 * np.pi))
        column = AFFORDANCES.index(affordance)
        scores[region, column] = base * (0.75 + 0.25 * noise[region])
        inside = np.flatnonzero(region)
        chosen = inside[rng.choice(len(inside), size=min(256, len(inside)), replace=False)]
        anchors = points[chosen]
        low, high = anchors.min(0) - FALLOFF, anchors.max(0) + FALLOFF
        outside = np.flatnonzero(~region & np.all((points >= low) & (points <= high), axis=1))
        if len(outside):
            candidates = points[outside]
            sq = np.maximum((candidates**2).sum(1)[:, None] + (anchors**2).sum(1)[None] - 2 * candidates @ anchors.T, 0)
            if normals is not None:
                anchor_normals = normals[chosen]
                parallel = np.abs(normals[outside] @ anchor_normals.T) > 0.7
                across = (candidates @ anchor_normals.T - (anchors * anchor_normals).sum(1)[None]) ** 2 > 0.09 * sq
                sq = np.where(parallel & across, np.inf, sq)
            distance = np.sqrt(sq.min(1))
            near = distance < FALLOFF
            scores[outside[near], column] = base * 0.6 * (1 - distance[near] / FALLOFF)
    return scores


def surface_normals(triangles: np.ndarray) -> np.ndarray:
    """Unit normals (F, 3) of triangles (F, 3, 3), oriented as wound; degenerate ones (0, 0, 0)."""
    cross = np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0])
    length = np.linalg.norm(cross, axis=1, keepdims=True)
    return np.divide(cross, length, out=np.zeros_like(cross), where=length > 0)


def make_object(category: str, rng: np.random.Generator) -> SyntheticObject:
    """Generate, sample, label and normalise one object of a category."""
    parts = GENERATORS[category](rng)
    points, part_index, faces = sample_parts(parts, DENSE_POINTS, rng)
    masks = region_masks(points, part_index, parts, CATEGORY_AFFORDANCES[category])  # generator frame
    triangles = part_triangles(parts)[0]
    normals = surface_normals(triangles)[faces]
    if category in POSES:
        poses = POSES[category]
        _, axis, degrees = poses[rng.choice(len(poses), p=[p for p, _, _ in poses])]
        turn = rotation(axis, np.deg2rad(degrees))
        points, triangles, normals = points @ turn.T, triangles @ turn.T, normals @ turn.T
    low, high = points.min(0), points.max(0)
    centre, half = (low + high) / 2, (high - low).max() / 2
    normalised = (points - centre) / half  # into the [-1, 1] cube
    scores = soft_scores(normalised, masks, rng, normals)
    triangles = (triangles - centre) / half
    return SyntheticObject(category, normalised.astype(np.float32), scores, part_index, [p.name for p in parts],
                           triangles.astype(np.float32))


VIEW_RESOLUTION = 128
VIEW_PIXEL = 2 * np.sqrt(3) / VIEW_RESOLUTION  # the unit cube's projection spans 2 * sqrt(3)


def lattice_samples(triangles: np.ndarray, spacing: float = VIEW_PIXEL / 1.2) -> np.ndarray:
    """Points on every triangle on a barycentric lattice no coarser than ``spacing``: (S, 3).

    Dense and hole-free (unlike random samples), so a depth buffer made from them is closed
    wherever the surface is.
    """
    edges = np.linalg.norm(triangles - np.roll(triangles, 1, axis=1), axis=2).max(1)
    steps = np.clip(np.ceil(edges / spacing), 1, 200).astype(int)
    out = [triangles.reshape(-1, 3)]
    for k in np.unique(steps):
        i, j = np.meshgrid(np.arange(k + 1), np.arange(k + 1), indexing="ij")
        keep = i + j <= k
        weights = np.stack([i[keep], j[keep], k - i[keep] - j[keep]], axis=1) / k  # (L, 3)
        chosen = triangles[steps == k]  # (T, 3, 3)
        out.append(np.matmul(weights[None], chosen).reshape(-1, 3))  # (T, L, 3)
    return np.concatenate(out)


def visible_from(points: np.ndarray, camera: np.ndarray, surface: np.ndarray, tolerance: float = 2.0) -> np.ndarray:
    """Boolean mask of the ``points`` an orthographic camera along ``camera`` (looking at the
    origin) sees: a depth buffer of ``VIEW_RESOLUTION``^2 pixels is filled from ``surface``
    lattice samples (:func:`lattice_samples`), and a point is visible when it is no more than
    ``tolerance`` pixels behind the nearest surface in its pixel."""
    camera = camera / np.linalg.norm(camera)
    helper = np.array([0.0, 1.0, 0.0]) if abs(camera[1]) < 0.9 else np.array([1.0, 0.0, 0.0])
    right = np.cross(helper, camera)
    right /= np.linalg.norm(right)
    up = np.cross(camera, right)

    def pixels(xyz):
        ij = np.floor((np.stack([xyz @ right, xyz @ up], axis=1) + np.sqrt(3)) / VIEW_PIXEL).astype(np.int64)
        ij = np.clip(ij, 0, VIEW_RESOLUTION - 1)
        return ij[:, 0] * VIEW_RESOLUTION + ij[:, 1]

    nearest = np.full(VIEW_RESOLUTION * VIEW_RESOLUTION, np.inf)
    np.minimum.at(nearest, pixels(surface), -(surface @ camera))
    return -(points @ camera) <= nearest[pixels(points)] + tolerance * VIEW_PIXEL


def resample(count: int, target: int, rng: np.random.Generator) -> np.ndarray:
    """``target`` indices of ``count`` items: a subset, or all plus random repeats."""
    if count >= target:
        return np.sort(rng.choice(count, size=target, replace=False))
    return np.concatenate([np.arange(count), rng.integers(0, count, size=target - count)])


def scan_camera(rng: np.random.Generator) -> np.ndarray:
    """A single-view sensor's direction (3,), unit: any azimuth, elevation -20..70 degrees
    (robots and people mostly look at objects from above)."""
    azimuth, elevation = rng.uniform(0, 2 * np.pi), np.deg2rad(rng.uniform(-20, 70))
    return np.array([np.cos(elevation) * np.cos(azimuth), np.sin(elevation), np.cos(elevation) * np.sin(azimuth)])


def scan_view(points: np.ndarray, surface: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Simulate one depth-sensor scan of an object: the points a random camera
    (:func:`scan_camera`) sees, minus up to 3 patches of missing returns (dark or shiny spots),
    with depth noise along the viewing ray (sigma 0-0.01 of the object's half size).

    Returns the kept point indices (K,) and their noisy positions (K, 3).
    """
    camera = scan_camera(rng)
    visible = np.flatnonzero(visible_from(points, camera, surface))
    keep = np.ones(len(visible), dtype=bool)
    for _ in range(int(rng.integers(0, 4))):
        centre = points[visible[rng.integers(len(visible))]]
        hole = np.linalg.norm(points[visible] - centre, axis=1) < rng.uniform(0.05, 0.15)
        if (keep & ~hole).sum() >= 64:  # never scan an object away
            keep &= ~hole
    visible = visible[keep]
    noisy = points[visible] + rng.normal(0, rng.uniform(0, 0.01), size=(len(visible), 1)) * camera
    return visible, noisy
