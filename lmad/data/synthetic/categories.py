"""One generator per 3D AffordanceNet category, built from parametric parts with sub-types.

A generator takes a ``numpy.random.Generator`` and returns a list of :class:`Part`: a mesh and
the affordances it carries, each on the whole part or on the points a region test selects
(e.g. the top band of a wall is ``pourable``). Units are arbitrary; the sampler normalises every
object into the [-1, 1] cube, y up. Affordance placement follows the annotators' questions and
ground-truth figures of 3D AffordanceNet (see the project README).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from lmad.data.synthetic.geometry import Mesh, arc, box, cylinder, revolve, rotation, slab, sphere, tube

Region = Callable[[np.ndarray], np.ndarray] | None


@dataclass
class Part:
    name: str
    mesh: Mesh
    regions: dict[str, Region] = field(default_factory=dict)  # affordance -> points test (None: whole part)


def y_between(low: float, high: float) -> Region:
    return lambda p: (p[:, 1] >= low) & (p[:, 1] <= high)


def y_above(low: float) -> Region:
    return lambda p: p[:, 1] >= low


def within(centre, radius: float) -> Region:
    centre = np.asarray(centre, dtype=np.float64)
    return lambda p: np.linalg.norm(p - centre, axis=1) <= radius


def both(a: Region, b: Region) -> Region:
    return lambda p: a(p) & b(p)


def facing(axis: int, sign: float, tolerance: float) -> Region:
    """Points on the face of a box whose coordinate ``axis`` is extreme (within tolerance)."""
    def test(p):
        values = p[:, axis] * sign
        return values >= values.max() - tolerance
    return test


def u(rng, low, high):
    return float(rng.uniform(low, high))


def pick(rng, options):
    return options[int(rng.integers(len(options)))]


# ---- shared builders --------------------------------------------------------------------------

def open_vessel(rng, profile_r, profile_y, wall: float, sections: int = 32):
    """Outer wall, inner wall and rim of a revolved open container; profile from bottom to rim.

    The inner wall is the outer profile (closed at the bottom centre) offset by ``wall`` along its
    inward normal, mitred at each vertex, so the wall is ``wall`` thick everywhere, the floor
    included (offsetting the radius alone left the two sheets of a shallow bowl's lower half
    almost touching). The inner profile's last point stays at the rim's height, on the offset line.
    """
    r = np.asarray(profile_r, dtype=np.float64)
    y = np.asarray(profile_y, dtype=np.float64)
    outer_line = np.c_[np.r_[0.0, r], np.r_[y[0], y]]
    outer = revolve(outer_line[:, 0], outer_line[:, 1], sections)
    step = np.diff(outer_line, axis=0)
    segment_normals = np.c_[-step[:, 1], step[:, 0]] / np.linalg.norm(step, axis=1, keepdims=True)
    inner_line = outer_line.copy()
    inner_line[0] += wall * segment_normals[0]
    for i in range(1, len(outer_line) - 1):
        bisector = segment_normals[i - 1] + segment_normals[i]
        bisector /= np.linalg.norm(bisector)
        inner_line[i] += wall * bisector / max(float(bisector @ segment_normals[i]), 0.5)
    slope = max(abs(segment_normals[-1, 0]), 0.3)
    inner_line[-1] = (r[-1] - wall / slope, y[-1])
    inner_line[:, 0] = np.maximum(inner_line[:, 0], 0.0)
    inner_line[0, 0] = 0.0
    inner = revolve(inner_line[:, 0], inner_line[:, 1], sections)
    rim = revolve([inner_line[-1, 0], r[-1]], [y[-1], y[-1]], sections)
    return outer, inner, rim


def handle_path(kind: str, attach_top, attach_bottom, reach: float, count: int = 14):
    """Path of a side handle from the top attachment to the bottom one, bulging along +x."""
    top, bottom = np.asarray(attach_top, float), np.asarray(attach_bottom, float)
    if kind == "round":
        t = np.linspace(0, np.pi, count)
        mid = (top + bottom) / 2
        half = (top[1] - bottom[1]) / 2
        return np.stack([mid[0] + reach * np.sin(t), mid[1] + half * np.cos(t), np.full(count, mid[2])], axis=1)
    if kind == "square":
        corner_top = top + [reach, 0, 0]
        corner_bottom = bottom + [reach, 0, 0]
        return np.concatenate([np.linspace(top, corner_top, 5), np.linspace(corner_top, corner_bottom, 6)[1:],
                               np.linspace(corner_bottom, bottom, 5)[1:]])
    apex = (top + bottom) / 2 + [reach * 1.2, (top[1] - bottom[1]) * 0.2, 0]  # angular
    return np.concatenate([np.linspace(top, apex, 7), np.linspace(apex, bottom, 8)[1:]])


def cabinet(rng, width, height, depth, wall=0.03):
    """A box's outer shell and its interior floor and shelves (the cavity a door closes)."""
    shell = box((0, height / 2, 0), (width, height, depth))
    inner_floor = box((0, wall + 0.005, 0.01), (width - 2 * wall, 0.01, depth - 2 * wall))
    shelves = int(rng.integers(0, 3)) if height > width else 0
    parts = [inner_floor] + [box((0, height * (k + 1) / (shelves + 1), 0.01), (width - 2 * wall, 0.01, depth - 2 * wall))
                             for k in range(shelves)]
    return shell, parts


def door_with_handle(rng, centre, width, height, thickness, hinge_side: float):
    """A front door panel (on +z) with a bar or knob handle near the side opposite the hinge."""
    cx, cy, cz = centre
    panel = box((cx, cy, cz + thickness / 2), (width, height, thickness))
    hx = cx - hinge_side * (width / 2 - 0.08 * width)
    front = cz + thickness
    if rng.random() < 0.5:  # vertical bar
        length = min(0.5 * height, 0.4)
        handle = tube([[hx, cy - length / 2, front + 0.04], [hx, cy + length / 2, front + 0.04]], 0.015)
        stubs = [box((hx, cy + s * length / 2.2, front + 0.02), (0.02, 0.02, 0.04)) for s in (-1, 1)]
        mesh_parts = [handle] + stubs
    else:  # knob
        mesh_parts = [sphere((hx, cy, front + 0.04), 0.035, 1), cylinder((hx, cy, front + 0.015), 0.012, 0.03, axis="z")]
    return panel, mesh_parts, (hx, cy, front)


# ---- categories -------------------------------------------------------------------------------

def mug(rng):
    radius, height = u(rng, 0.28, 0.42), u(rng, 0.55, 0.95)
    taper = pick(rng, [1.0, 0.85, 1.15])
    ys = np.linspace(0, height, 6)
    rs = radius * np.linspace(taper, 1.0, 6)
    outer, inner, rim = open_vessel(rng, rs, ys, u(rng, 0.025, 0.05))
    kind = pick(rng, ["round", "square", "angular"])
    path = handle_path(kind, (rs[-2] - 0.02, height * 0.8, 0), (rs[1] - 0.02, height * 0.22, 0), u(rng, 0.2, 0.32))
    rim_band = y_above(height * 0.92)
    return [
        Part("outer wall", outer, {"wrap_grasp": y_between(height * 0.15, height * 0.8), "pourable": rim_band}),
        Part("interior", inner, {"contain": None, "pourable": rim_band}),
        Part("rim", rim, {"pourable": None}),
        Part("handle", tube(path, u(rng, 0.04, 0.06)), {"grasp": None}),
    ]


def bowl(rng):
    radius, height = u(rng, 0.6, 0.9), u(rng, 0.25, 0.5)
    kind = pick(rng, ["round", "conical", "flat"])
    t = np.linspace(0, 1, 7)
    if kind == "round":
        rs, ys = radius * np.sin(t * np.pi / 2) * 0.9 + radius * 0.1, height * (1 - np.cos(t * np.pi / 2))
    elif kind == "conical":
        rs, ys = radius * (0.35 + 0.65 * t), height * t
    else:
        rs, ys = radius * (0.7 + 0.3 * t**2), height * t
    outer, inner, rim = open_vessel(rng, rs, ys, u(rng, 0.02, 0.04))
    rim_band = y_above(height * 0.9)
    foot = [Part("foot", cylinder((0, -0.02, 0), rs[0] * 0.8, 0.04), {})] if rng.random() < 0.5 else []
    return [
        Part("outer wall", outer, {"wrap_grasp": y_between(height * 0.25, height * 0.85), "pourable": rim_band}),
        Part("interior", inner, {"contain": None}),
        Part("rim", rim, {"pourable": None}),
    ] + foot


def vase(rng):
    height, belly = u(rng, 1.2, 2.0), u(rng, 0.3, 0.55)
    neck, mouth = belly * u(rng, 0.3, 0.6), belly * u(rng, 0.4, 0.9)
    ys = height * np.array([0, 0.15, 0.45, 0.7, 0.85, 1.0])
    rs = np.array([belly * 0.6, belly * 0.9, belly, neck * 1.3, neck, mouth])
    outer, inner, rim = open_vessel(rng, rs, ys, 0.03)
    return [
        Part("body", outer, {"wrap_grasp": y_between(height * 0.1, height * 0.6), "pourable": y_above(height * 0.82)}),
        Part("interior", inner, {"contain": None}),
        Part("rim", rim, {"pourable": None}),
    ]


def bottle(rng):
    height, radius = u(rng, 1.2, 2.0), u(rng, 0.22, 0.38)
    neck_r = radius * u(rng, 0.3, 0.45)
    shoulder, neck_top = height * u(rng, 0.55, 0.7), height * u(rng, 0.82, 0.9)
    ys = np.array([0, height * 0.05, shoulder, shoulder + (neck_top - shoulder) * 0.5, neck_top])
    rs = np.array([radius * 0.95, radius, radius, neck_r * 1.15, neck_r])
    outer, inner, rim = open_vessel(rng, rs, ys, 0.02, sections=pick(rng, [4, 32, 32]))
    cap_h = height * u(rng, 0.06, 0.1)
    cap = cylinder((0, neck_top + cap_h / 2, 0), neck_r * 1.15, cap_h)
    parts = [
        Part("body", outer, {"wrap_grasp": y_between(height * 0.1, shoulder * 0.95),
                             "grasp": y_between(shoulder * 0.95, neck_top), "pourable": y_above(neck_top * 0.95)}),
        Part("interior", inner, {"contain": lambda p: p[:, 1] <= shoulder}),
        Part("mouth", rim, {"pourable": None}),
        Part("cap", cap, {"openable": None}),
    ]
    if rng.random() < 0.3:  # a jug with a side handle
        path = handle_path("round", (radius, shoulder * 0.95, 0), (radius, shoulder * 0.45, 0), radius * 0.6)
        parts.append(Part("handle", tube(path, 0.035), {"grasp": None}))
    return parts


def trash_can(rng):
    height = u(rng, 1.0, 1.6)
    square = rng.random() < 0.4
    radius = u(rng, 0.35, 0.55)
    ys = np.linspace(0, height, 4)
    rs = radius * np.linspace(u(rng, 0.8, 1.0), 1.0, 4)
    outer, inner, rim = open_vessel(rng, rs, ys, 0.03, sections=4 if square else 32)
    parts = [
        Part("wall", outer, {"pourable": y_above(height * 0.93)}),
        Part("interior", inner, {"contain": None}),
        Part("rim", rim, {"pourable": None}),
    ]
    if rng.random() < 0.7:
        lid_r = rs[-1] * 1.05
        lid = cylinder((0, height + 0.03, 0), lid_r, 0.05, sections=4 if square else 32)
        if square:
            lid = lid.rotated(rotation("y", np.pi / 4))
        parts.append(Part("lid", lid, {"openable": None}))
        if rng.random() < 0.5:
            parts.append(Part("lid handle", box((0, height + 0.08, 0), (0.2, 0.04, 0.05)), {"openable": None}))
    return parts


def knife(rng):
    """A kitchen knife (60 %, :func:`kitchen_knife`) or a dagger / sword (40 %, :func:`dagger`)."""
    return dagger(rng) if rng.random() < 0.4 else kitchen_knife(rng)


def kitchen_knife(rng):
    """Handle 36-60 % of the length (as measured on real kitchen knives); ``cut`` is a band along
    the edge of the blade's outer part, ``stab`` the tip, ``grasp`` the whole handle."""
    length = u(rng, 1.5, 2.2)
    handle_len = length * u(rng, 0.36, 0.6)
    blade_len = length - handle_len
    width = u(rng, 0.1, 0.26)
    kind = pick(rng, ["chef", "straight", "tanto", "curved"])
    x = np.linspace(0, blade_len, 9)
    if kind == "chef":
        bottom = -width * (1 - (x / blade_len) ** 2)
        top = np.full_like(x, 0.0)
    elif kind == "straight":
        bottom = -width * np.minimum(1, 3 * (1 - x / blade_len))
        top = np.zeros_like(x)
    elif kind == "tanto":
        bottom = np.where(x < 0.8 * blade_len, -width, -width * (1 - (x - 0.8 * blade_len) / (0.2 * blade_len)))
        top = np.where(x < 0.7 * blade_len, 0, -width * 0.6 * (x - 0.7 * blade_len) / (0.3 * blade_len))
    else:
        bottom = -width * (1 - (x / blade_len) ** 1.5)
        top = width * 0.15 * np.sin(np.pi * x / blade_len)
    outline = np.concatenate([np.c_[x, bottom], np.c_[x[::-1], top[::-1]]])
    outline[:, 1] += width / 2
    blade = slab(outline, 0.02, (0, 0, 0))
    tip_x = blade_len * 0.88
    edge_x, edge_y = x, bottom + width / 2

    def cut(p):  # within a third of the local blade width of the edge, outer 70 % of the blade
        edge = np.interp(p[:, 0], edge_x, edge_y)
        top_here = np.interp(p[:, 0], x, top + width / 2)
        return (p[:, 1] - edge <= 0.35 * np.maximum(top_here - edge, 0.02)) & (p[:, 0] > blade_len * 0.3) & (p[:, 0] < tip_x)

    handle_h = width * u(rng, 0.45, 2.0)  # real handles are often as wide in plan as the blade, or wider
    handle_y = width / 2 - width * 0.45
    handle = box((-handle_len / 2, handle_y, 0), (handle_len, handle_h, handle_h * u(rng, 0.5, 0.8)))
    parts = [
        Part("blade", blade, {"cut": cut, "stab": lambda p: p[:, 0] >= tip_x}),
        Part("handle", handle, {"grasp": None}),
    ]
    if rng.random() < 0.5:
        parts.append(Part("bolster", box((0, handle_y, 0), (0.04, handle_h * 1.4, handle_h)), {}))
    return parts


def dagger(rng):
    """A double-edged dagger or sword, as many of ShapeNet's "knife" models are: a symmetric blade,
    a cross-guard much wider than the blade, a short grip (15-30 % of the length) and often a
    pommel. ``grasp`` is the grip only: the short end beyond the guard, not the long slender blade
    (the long tools - hammers, rackets, guitars - are held at their slender end; a sword is not).
    ``cut`` is both edges of the blade's outer part, ``stab`` the tip. Built along x, blade at +x,
    thin along z."""
    length = u(rng, 1.5, 2.2)
    grip_len = length * u(rng, 0.15, 0.3)
    guard_len = length * u(rng, 0.02, 0.05)
    blade_len = length - grip_len - guard_len
    half = u(rng, 0.05, 0.12)  # the blade's half-width
    taper = pick(rng, ["leaf", "straight", "sword"])
    x = np.linspace(0, blade_len, 11)
    if taper == "leaf":
        profile = half * np.sqrt(np.clip(1 - (x / blade_len) ** 2, 0, 1)) + 1e-3
    elif taper == "straight":
        profile = half * (1 - x / blade_len) + 1e-3
    else:  # parallel edges, then a short point
        profile = half * np.minimum(1, 5 * (1 - x / blade_len)) + 1e-3
    outline = np.concatenate([np.c_[x, -profile], np.c_[x[::-1], profile[::-1]]])
    blade = slab(outline, u(rng, 0.015, 0.04))
    tip_x = blade_len * 0.85

    def cut(p):  # the outer half of each side's width, outer 70 % of the blade
        local = np.interp(p[:, 0], x, profile)
        return (np.abs(p[:, 1]) >= 0.5 * local) & (p[:, 0] > blade_len * 0.3) & (p[:, 0] < tip_x)

    guard_span = 2 * half * u(rng, 1.3, 4.0)
    guard = box((-guard_len / 2, 0, 0), (guard_len, guard_span, u(rng, 0.03, 0.1)))
    grip_r = half * u(rng, 0.4, 1.0)
    grip_x = -guard_len - grip_len / 2
    grip = cylinder((grip_x, 0, 0), grip_r, grip_len, axis="x") if rng.random() < 0.5 else \
        box((grip_x, 0, 0), (grip_len, 2 * grip_r, 2 * grip_r * u(rng, 0.5, 1.0)))
    parts = [
        Part("blade", blade, {"cut": cut, "stab": lambda p: p[:, 0] >= tip_x}),
        Part("guard", guard, {}),
        Part("grip", grip, {"grasp": None}),
    ]
    if rng.random() < 0.6:
        parts.append(Part("pommel", sphere((-guard_len - grip_len, 0, 0), grip_r * u(rng, 1.1, 1.8)), {}))
    return parts


def scissors(rng):
    blade_len, ring_r = u(rng, 0.8, 1.2), u(rng, 0.12, 0.2)
    opening = u(rng, 0.05, 0.35)
    parts = []
    for side in (-1, 1):
        angle = side * opening / 2
        outline = np.array([[0, -0.04], [blade_len * 0.6, -0.05], [blade_len, 0], [blade_len * 0.6, 0.04], [0, 0.05]])
        blade = slab(outline, 0.02).rotated(rotation("z", angle)).moved((0, 0, side * 0.012))
        tip = np.array([blade_len * np.cos(angle), blade_len * np.sin(angle), 0])
        ring_centre = np.array([-ring_r * 1.6, side * ring_r * (0.9 + opening), 0])
        ring = tube(arc(ring_centre, ring_r, 0, 2 * np.pi, "xy", 18), 0.03)
        shank = tube([[0, 0, side * 0.012], ring_centre + [ring_r * 0.8, -side * ring_r * 0.4, 0]], 0.03)
        parts += [
            Part("blade", blade, {"cut": within(tip * 0.5, blade_len * 0.3), "stab": within(tip, blade_len * 0.15)}),
            Part("ring", ring, {"grasp": None}),
            Part("shank", shank, {"grasp": None}),
        ]
    return parts


def chair(rng):
    """``move`` is the upper back, where a hand pulls the chair (as the real 3D AffordanceNet chair's
    core; not the legs), ``grasp`` the top edge of the back and the armrests."""
    width, depth, seat_h = u(rng, 0.8, 1.1), u(rng, 0.8, 1.0), u(rng, 0.8, 1.0)
    seat_t = u(rng, 0.06, 0.14)
    back_h = u(rng, 0.6, 1.1)
    seat = box((0, seat_h, 0), (width, seat_t, depth))
    top = seat_h + seat_t / 2
    parts = [Part("seat", seat, {"sittable": y_above(top - 0.01), "support": y_above(top - 0.01)})]
    back_top = top + back_h
    regions = {"move": y_above(back_top - back_h * 0.3), "grasp": y_above(back_top - min(0.1, back_h * 0.15))}
    back_kind = pick(rng, ["solid", "slats", "frame"])
    back_z = -depth / 2 + 0.04
    if back_kind == "solid":
        parts.append(Part("back", box((0, top + back_h / 2, back_z), (width, back_h, 0.06)), dict(regions)))
    else:
        count = int(rng.integers(3, 6)) if back_kind == "slats" else 2
        xs = np.linspace(-width / 2 + 0.04, width / 2 - 0.04, count)
        parts += [Part("back post", box((x, top + back_h / 2, back_z), (0.05, back_h, 0.05)), dict(regions)) for x in xs]
        parts.append(Part("back rail", box((0, back_top - 0.05, back_z), (width, 0.1, 0.05)), {"move": None, "grasp": None}))
    base = pick(rng, ["four legs", "four legs", "pedestal", "sled"])
    leg_w = u(rng, 0.04, 0.08)
    if base == "four legs":
        for sx in (-1, 1):
            for sz in (-1, 1):
                parts.append(Part("leg", box((sx * (width / 2 - leg_w), seat_h / 2, sz * (depth / 2 - leg_w)),
                                             (leg_w, seat_h, leg_w)), {}))
    elif base == "pedestal":
        parts.append(Part("column", cylinder((0, seat_h / 2, 0), 0.05, seat_h), {}))
        for k in range(5):
            angle = 2 * np.pi * k / 5
            foot = box((0.25 * np.cos(angle), 0.04, 0.25 * np.sin(angle)), (0.5, 0.05, 0.06)).rotated(
                rotation("y", -angle), (0.25 * np.cos(angle), 0.04, 0.25 * np.sin(angle)))
            parts.append(Part("star foot", foot, {}))
    else:
        for sx in (-1, 1):
            parts.append(Part("sled runner", box((sx * width / 2.2, 0.03, 0), (0.05, 0.05, depth)), {}))
            for sz in (-1, 1):
                parts.append(Part("sled post", box((sx * width / 2.2, seat_h / 2, sz * depth / 2.5), (0.05, seat_h, 0.05)),
                                  {}))
    if rng.random() < 0.4:
        arm_h = top + u(rng, 0.2, 0.3)
        for sx in (-1, 1):
            parts.append(Part("arm", box((sx * width / 2, arm_h, 0), (0.07, 0.05, depth * 0.85)), {"grasp": None}))
            parts.append(Part("arm post", box((sx * width / 2, (arm_h + top) / 2, depth * 0.35), (0.05, arm_h - top, 0.05)),
                              {}))
    return parts


def table(rng):
    width, depth, height = u(rng, 1.2, 2.0), u(rng, 0.7, 1.2), u(rng, 0.7, 1.0)
    thickness = u(rng, 0.04, 0.1)
    round_top = rng.random() < 0.3
    top_y = height - thickness / 2
    if round_top:
        radius = min(width, depth * 1.6) / 2
        top = cylinder((0, top_y, 0), radius, thickness, sections=40)
        rim = lambda p: np.hypot(p[:, 0], p[:, 2]) >= radius - 0.08  # noqa: E731
        corner = lambda p: np.zeros(len(p), bool)  # noqa: E731
    else:
        top = box((0, top_y, 0), (width, thickness, depth))
        rim = lambda p: (np.abs(p[:, 0]) >= width / 2 - 0.06) | (np.abs(p[:, 2]) >= depth / 2 - 0.06)  # noqa: E731
        corner = lambda p: (np.abs(p[:, 0]) >= width / 2 - 0.2) & (np.abs(p[:, 2]) >= depth / 2 - 0.2)  # noqa: E731
    parts = [Part("top", top, {"support": y_above(height - 0.01), "move": lambda p: (rim(p) | corner(p)) & (p[:, 1] < height - 0.005)})]
    base = pick(rng, ["four legs", "four legs", "pedestal", "trestle"])
    leg = u(rng, 0.05, 0.1)
    if base == "four legs" or (base == "pedestal" and not round_top and width > 1.6):
        for sx in (-1, 1):
            for sz in (-1, 1):
                px = sx * (width / 2 - leg) if not round_top else sx * radius * 0.55
                pz = sz * (depth / 2 - leg) if not round_top else sz * radius * 0.55
                parts.append(Part("leg", box((px, height / 2, pz), (leg, height - thickness, leg)),
                                  {"move": y_between(0, height * 0.35)}))
    elif base == "pedestal":
        parts.append(Part("column", cylinder((0, height / 2, 0), 0.08, height), {"move": y_between(0, height * 0.3)}))
        parts.append(Part("base", cylinder((0, 0.02, 0), 0.35, 0.04), {"move": None}))
    else:
        for sx in (-1, 1):
            parts.append(Part("trestle", box((sx * width * 0.38, height / 2, 0), (0.08, height, depth * 0.8)),
                              {"move": y_between(0, height * 0.3)}))
        parts.append(Part("stretcher", box((0, height * 0.25, 0), (width * 0.76, 0.06, 0.06)), {}))
    return parts


def bed(rng):
    width, length = u(rng, 1.0, 1.8), u(rng, 1.9, 2.2)
    platform_h, mattress_h = u(rng, 0.2, 0.4), u(rng, 0.15, 0.3)
    platform = box((0, platform_h / 2, 0), (width, platform_h, length))
    mattress_top = platform_h + mattress_h
    mattress = box((0, platform_h + mattress_h / 2, 0.02), (width * 0.96, mattress_h, length * 0.95))
    edge = lambda p: np.abs(p[:, 0]) >= width * 0.48 - 0.12  # noqa: E731
    parts = [
        Part("platform", platform, {"support": None}),
        Part("mattress", mattress, {"layable": both(y_above(mattress_top - 0.01), lambda p: ~edge(p)),
                                    "sittable": both(edge, y_above(platform_h + mattress_h * 0.4))}),
        Part("headboard", box((0, (mattress_top + u(rng, 0.4, 0.8)) / 2, -length / 2), (width, mattress_top + 0.6, 0.08)), {}),
    ]
    if rng.random() < 0.5:
        parts.append(Part("footboard", box((0, mattress_top / 2 + 0.1, length / 2), (width, mattress_top + 0.2, 0.06)), {}))
    if rng.random() < 0.5:
        parts.append(Part("pillow", box((0, mattress_top + 0.06, -length * 0.38), (width * 0.6, 0.12, 0.3)), {}))
    return parts


def door(rng):
    width, height, thickness = u(rng, 0.8, 1.0), u(rng, 1.9, 2.2), 0.05
    hinge = pick(rng, [-1.0, 1.0])
    panel, handle_meshes, (hx, hy, front) = door_with_handle(rng, (0, height * 0.5, 0), width, height, thickness, hinge)
    handle_y = height * u(rng, 0.45, 0.52)
    offset = handle_y - height * 0.5
    handle_meshes = [m.moved((0, offset, 0)) for m in handle_meshes]
    hy += offset
    near = within((hx, hy, front), 0.12)
    palm = lambda p: (np.linalg.norm(p - np.array([hx, hy, front]), axis=1) <= 0.35) & (p[:, 2] > thickness * 0.9)  # noqa: E731
    parts = [Part("panel", panel, {"pushable": lambda p: palm(p) & ~near(p), "openable": near})]
    parts += [Part("handle", m, {"pull": None}) for m in handle_meshes]
    if rng.random() < 0.5:
        parts.append(Part("frame", box((0, height + 0.04, 0), (width + 0.16, 0.08, 0.12)), {}))
    return parts


def bag(rng):
    width, height, depth = u(rng, 0.8, 1.3), u(rng, 0.6, 1.0), u(rng, 0.25, 0.45)
    body = box((0, height / 2, 0), (width, height, depth))
    inner = box((0, height * 0.5, 0), (width * 0.9, height * 0.85, depth * 0.8))
    parts = [
        Part("body", body, {"openable": both(y_above(height - 0.02), lambda p: np.abs(p[:, 2]) < depth * 0.15)}),
        Part("interior", inner, {"contain": None}),
    ]
    kind = pick(rng, ["two handles", "strap"])
    if kind == "two handles":
        for sz in (-1, 1):
            path = arc((0, height, sz * depth * 0.35), width * 0.25, 0, np.pi, "xy", 14)
            parts.append(Part("handle", tube(path, 0.025), {"grasp": y_above(height + width * 0.1), "lift": y_above(height + width * 0.21)}))
    else:
        path = arc((0, height, 0), width * 0.48, 0, np.pi, "xy", 18)
        parts.append(Part("strap", tube(path, 0.02), {"grasp": y_above(height + width * 0.2), "lift": y_above(height + width * 0.42)}))
    return parts


def earphone(rng):
    radius, cup_r = u(rng, 0.6, 0.8), u(rng, 0.18, 0.28)
    over_ear = rng.random() < 0.7
    parts = [Part("headband", tube(arc((0, 0, 0), radius, 0.15, np.pi - 0.15, "xy", 20), 0.04), {"grasp": None})]
    for sx in (-1, 1):
        cx = sx * radius * np.cos(0.15)
        cy = radius * np.sin(0.15) - cup_r * 0.9
        cup = cylinder((cx, cy, 0), cup_r, 0.12 if over_ear else 0.08, axis="x")
        parts.append(Part("ear cup", cup, {"listen": lambda p, cx=cx: np.abs(p[:, 0]) <= abs(cx) - 0.02}))
        parts.append(Part("yoke", tube([[cx, cy + cup_r * 0.9, 0], [sx * radius * np.cos(0.15), radius * np.sin(0.15), 0]], 0.02),
                          {}))
    return parts


def hat(rng):
    kind = pick(rng, ["brimmed", "cap", "beanie"])
    crown_r, crown_h = u(rng, 0.45, 0.6), u(rng, 0.4, 0.7)
    t = np.linspace(0, 1, 8)
    profile_r = crown_r * np.cos(t * np.pi / 2 * (0.9 if kind != "brimmed" else 0.5))
    profile_y = crown_h * np.sin(t * np.pi / 2)
    if kind == "brimmed":
        profile_r = np.r_[crown_r, crown_r * 0.95, crown_r * 0.9, crown_r * 0.5]
        profile_y = np.r_[0, crown_h * 0.9, crown_h, crown_h]
    crown = revolve(profile_r, profile_y, 32)
    parts = [Part("crown", crown, {"wear": y_above(crown_h * 0.35)})]
    if kind == "brimmed":
        brim = revolve([crown_r, crown_r + u(rng, 0.2, 0.4)], [0.0, -0.02], 32)
        parts.append(Part("brim", brim, {"grasp": None}))
    elif kind == "cap":
        visor = slab(np.c_[np.cos(np.linspace(0, np.pi, 12)) * crown_r, np.sin(np.linspace(0, np.pi, 12)) * crown_r * 0.8],
                     0.02).rotated(rotation("x", np.pi / 2)).moved((0, 0.01, crown_r * 0.6))
        parts.append(Part("visor", visor, {"grasp": None}))
    else:
        parts[0].regions["grasp"] = y_between(0, crown_h * 0.15)
    return parts


def faucet(rng):
    height, reach = u(rng, 0.5, 0.9), u(rng, 0.4, 0.7)
    base = cylinder((0, 0.05, 0), u(rng, 0.1, 0.16), 0.1)
    body = cylinder((0, height / 2, 0), 0.05, height)
    kind = pick(rng, ["gooseneck", "straight"])
    if kind == "gooseneck":
        path = arc((reach / 2, height, 0), reach / 2, np.pi, 0, "xy", 14)
        path = np.r_[path, [[reach, height - 0.15, 0]]]
    else:
        path = np.array([[0, height * 0.8, 0], [reach, height * 0.8, 0], [reach, height * 0.7, 0]])
    parts = [
        Part("base", base, {}),
        Part("body", body, {"grasp": y_between(height * 0.3, height)}),
        Part("spout", tube(path, 0.04), {"grasp": None}),
    ]
    if rng.random() < 0.5:  # one lever on top
        parts.append(Part("lever", box((-0.08, height + 0.06, 0), (0.22, 0.03, 0.05)), {"openable": None}))
    else:  # two knobs
        for sz in (-1, 1):
            parts.append(Part("knob", cylinder((0, 0.16, sz * 0.25), 0.06, 0.08), {"openable": None}))
            parts.append(Part("knob stem", cylinder((0, 0.08, sz * 0.25), 0.02, 0.1), {}))
    return parts


def laptop(rng):
    width, depth = u(rng, 1.2, 1.5), u(rng, 0.8, 1.0)
    base_t = 0.05
    angle = u(rng, 0.2, 0.6)  # screen tilt back from vertical
    base = box((0, base_t / 2, 0), (width, base_t, depth))
    keys = box((0, base_t + 0.005, depth * 0.05), (width * 0.85, 0.01, depth * 0.45))
    pad = box((0, base_t + 0.004, depth * 0.36), (width * 0.3, 0.008, depth * 0.18))
    screen = box((0, depth / 2, 0), (width, depth, 0.03)).rotated(rotation("x", -angle)).moved((0, base_t, -depth / 2))
    normal = rotation("x", -angle) @ np.array([0, 0, 1.0])
    screen_face = lambda p: ((p - np.array([0, base_t, -depth / 2])) @ normal) > 0.01  # noqa: E731
    inset = lambda p: (np.abs(p[:, 0]) < width * 0.45)  # noqa: E731
    return [
        Part("base", base, {}),
        Part("keyboard", keys, {"press": y_above(base_t + 0.008)}),
        Part("touchpad", pad, {"press": y_above(base_t + 0.006)}),
        Part("screen", screen, {"display": both(screen_face, inset)}),
    ]


def keyboard(rng):
    rows, cols = int(rng.integers(4, 7)), int(rng.integers(10, 16))
    key, gap = 0.09, 0.02
    width, depth = cols * (key + gap) + 0.1, rows * (key + gap) + 0.1
    parts = [Part("base", box((0, 0.03, 0), (width, 0.06, depth)), {})]
    keys = []
    for r in range(rows):
        for c in range(cols):
            x = -width / 2 + 0.05 + (c + 0.5) * (key + gap)
            z = -depth / 2 + 0.05 + (r + 0.5) * (key + gap)
            keys.append(box((x, 0.08, z), (key, 0.04, key)))
    from lmad.data.synthetic.geometry import merge

    parts.append(Part("keys", merge(keys), {"press": y_above(0.095)}))
    if rng.random() < 0.5:
        parts.append(Part("wrist rest", box((0, 0.03, depth / 2 + 0.1), (width, 0.05, 0.15)), {}))
    return parts


def display(rng):
    width, height = u(rng, 1.2, 1.8), u(rng, 0.7, 1.1)
    stand_h = u(rng, 0.2, 0.45)
    screen = box((0, stand_h + height / 2, 0), (width, height, 0.06))
    bezel = 0.05
    return [
        Part("screen", screen, {"display": lambda p: (p[:, 2] > 0.02) & (np.abs(p[:, 0]) < width / 2 - bezel)
             & (np.abs(p[:, 1] - stand_h - height / 2) < height / 2 - bezel)}),
        Part("neck", box((0, stand_h / 2 + 0.02, -0.06), (0.1, stand_h, 0.05)), {}),
        Part("foot", pick(rng, [box((0, 0.015, -0.02), (width * 0.4, 0.03, 0.3)), cylinder((0, 0.015, -0.02), 0.2, 0.03)]), {}),
    ]


def clock(rng):
    round_face = rng.random() < 0.7
    size = u(rng, 0.6, 1.0)
    depth = u(rng, 0.06, 0.15)
    if round_face:
        body = cylinder((0, size / 2, 0), size / 2, depth, axis="z", sections=40)
        face = lambda p: (p[:, 2] > depth / 2 - 0.005) & (np.hypot(p[:, 0], p[:, 1] - size / 2) < size / 2 * 0.85)  # noqa: E731
    else:
        body = box((0, size / 2, 0), (size, size, depth))
        face = lambda p: (p[:, 2] > depth / 2 - 0.005) & (np.abs(p[:, 0]) < size * 0.42) & (np.abs(p[:, 1] - size / 2) < size * 0.42)  # noqa: E731
    parts = [Part("body", body, {"display": face})]
    if rng.random() < 0.5:
        parts.append(Part("stand", box((0, -0.05, -0.02), (size * 0.6, 0.1, depth * 2)), {}))
    hands = [box((0, size / 2 + size * 0.12, depth / 2 + 0.01), (0.02, size * 0.25, 0.01))]
    parts.append(Part("hands", hands[0], {"display": None}))
    return parts


def _appliance(rng, width, height, depth, extra_regions=None, two_doors=False):
    shell, interior = cabinet(rng, width, height, depth)
    parts = [Part("shell", shell, dict(extra_regions or {}))]
    parts += [Part("interior", m, {"contain": None}) for m in interior]
    doors = [(0.0, height / 2, height * 0.95, width * 0.96)]
    if two_doors:
        split = height * u(rng, 0.3, 0.4)
        doors = [(0.0, split / 2, split * 0.95, width * 0.96), (0.0, split + (height - split) / 2, (height - split) * 0.95, width * 0.96)]
    for cx, cy, h, w in doors:
        hinge = pick(rng, [-1.0, 1.0])
        panel, handle, (hx, hy, front) = door_with_handle(rng, (cx, cy, depth / 2), w, h, 0.04, hinge)
        edge = lambda p, hx=hx: np.abs(p[:, 0] - hx) < w * 0.1  # noqa: E731
        parts.append(Part("door", panel, {"openable": edge}))
        parts += [Part("handle", m, {"openable": None}) for m in handle]
    return parts


def microwave(rng):
    width, height, depth = u(rng, 1.0, 1.4), u(rng, 0.55, 0.75), u(rng, 0.6, 0.8)
    return _appliance(rng, width, height, depth, {"support": y_above(height - 0.01)})


def refrigerator(rng):
    width, height, depth = u(rng, 0.8, 1.1), u(rng, 1.6, 2.1), u(rng, 0.7, 0.9)
    return _appliance(rng, width, height, depth, two_doors=rng.random() < 0.6)


def dishwasher(rng):
    width, height, depth = u(rng, 0.8, 0.95), u(rng, 0.8, 0.95), u(rng, 0.7, 0.85)
    parts = _appliance(rng, width, height, depth)
    for k in range(2):  # racks
        parts.append(Part("rack", box((0, height * (0.25 + 0.4 * k), 0), (width * 0.85, 0.03, depth * 0.8)), {"contain": None}))
    return parts


def storage_furniture(rng):
    width, height, depth = u(rng, 0.8, 1.6), u(rng, 0.8, 2.0), u(rng, 0.4, 0.6)
    kind = pick(rng, ["doors", "drawers"])
    if kind == "doors":
        return _appliance(rng, width, height, depth, two_doors=height > 1.4 and rng.random() < 0.5)
    shell, interior = cabinet(rng, width, height, depth)
    parts = [Part("shell", shell, {}), *[Part("interior", m, {"contain": None}) for m in interior]]
    count = int(rng.integers(2, 5))
    drawer_h = height / count
    for k in range(count):
        cy = drawer_h * (k + 0.5)
        front = box((0, cy, depth / 2 + 0.02), (width * 0.95, drawer_h * 0.9, 0.04))
        pull = box((0, cy + drawer_h * 0.2, depth / 2 + 0.07), (width * 0.3, 0.03, 0.04))
        parts += [Part("drawer front", front, {"openable": y_above(cy + drawer_h * 0.3)}),
                  Part("drawer pull", pull, {"openable": None}),
                  Part("drawer interior", box((0, cy - drawer_h * 0.3, 0), (width * 0.85, 0.01, depth * 0.8)), {"contain": None})]
    return parts


# ---- everyday objects beyond 3D AffordanceNet: grasp on slender hand-held parts ----------------

def lamp(rng):
    """Floor, table and desk lamps: ``grasp`` is the stem (or the desk lamp's arm) between base and shade."""
    kind = pick(rng, ["floor", "table", "desk"])
    base_r = u(rng, 0.18, 0.3)
    parts = [Part("base", pick(rng, [cylinder((0, 0.03, 0), base_r, 0.06), box((0, 0.03, 0), (base_r * 2, 0.06, base_r * 1.6))]),
                  {})]
    stem_r = u(rng, 0.02, 0.045)
    if kind == "desk":
        lower = u(rng, 0.5, 0.8)
        elbow = np.array([u(rng, -0.1, 0.15), 0.06 + lower, 0])
        end = elbow + [u(rng, 0.45, 0.7), u(rng, -0.1, 0.25), 0]
        parts.append(Part("arm", tube([[0, 0.06, 0], elbow], stem_r), {"grasp": y_above(0.06 + lower * 0.25)}))
        parts.append(Part("arm", tube([elbow, end], stem_r), {"grasp": None}))
        shade_r, shade_h = u(rng, 0.12, 0.2), u(rng, 0.15, 0.25)
        shade = revolve([shade_r * 0.35, shade_r], [shade_h, 0], 24, centre=(end[0], end[1] - shade_h, 0))
        parts.append(Part("shade", shade, {}))
        return parts
    height = u(rng, 1.6, 2.4) if kind == "floor" else u(rng, 0.5, 0.9)
    shade_r = u(rng, 0.2, 0.4) * (1.3 if kind == "floor" else 1.0)
    shade_h = shade_r * u(rng, 0.7, 1.2)
    shade_bottom = height - shade_h * 0.3
    if kind == "table" and rng.random() < 0.5:  # a vase-like body instead of a thin stem
        body_r = u(rng, 0.1, 0.18)
        stem = revolve([0, body_r * 0.8, body_r, body_r * 0.5, 0.03, 0], [0.06, 0.06, shade_bottom * 0.35,
                                                                         shade_bottom * 0.7, shade_bottom, shade_bottom], 24)
        parts.append(Part("body", stem, {"grasp": y_between(shade_bottom * 0.2, shade_bottom * 0.85)}))
    else:
        parts.append(Part("stem", cylinder((0, (0.06 + shade_bottom) / 2, 0), stem_r, shade_bottom - 0.06),
                          {"grasp": y_between(0.06 + (shade_bottom - 0.06) * 0.2, shade_bottom - 0.05)}))
    top_r = shade_r * u(rng, 0.5, 0.8)
    shade = revolve([shade_r, top_r], [shade_bottom, shade_bottom + shade_h], 32)
    parts.append(Part("shade", shade, {}))
    return parts


def pan(rng):
    """A frying pan or saucepan: ``grasp`` the long handle, ``contain`` the inside, ``pourable`` the rim."""
    radius, height = u(rng, 0.45, 0.7), u(rng, 0.1, 0.35)
    ys = np.linspace(0, height, 4)
    rs = radius * np.linspace(u(rng, 0.75, 0.95), 1.0, 4)
    outer, inner, rim = open_vessel(rng, rs, ys, 0.025)
    length = radius * u(rng, 1.2, 1.8)
    rise = u(rng, 0.0, 0.25) * length
    start = np.array([rs[-1] - 0.02, height * 0.8, 0])
    handle = tube([start, start + [length, rise, 0]], u(rng, 0.035, 0.06))
    return [
        Part("outer wall", outer, {"pourable": y_above(height * 0.85)}),
        Part("interior", inner, {"contain": None, "pourable": y_above(height * 0.85)}),
        Part("rim", rim, {"pourable": None}),
        Part("handle", handle, {"grasp": lambda p: p[:, 0] > start[0] + length * 0.25}),
    ]


def hammer(rng):
    """Claw or mallet, built along x: ``grasp`` the handle away from the head."""
    handle_len = u(rng, 0.9, 1.4)
    radius = u(rng, 0.04, 0.07)
    handle = cylinder((-handle_len / 2, 0, 0), radius, handle_len, axis="x")
    head_len, head_r = u(rng, 0.35, 0.6), u(rng, 0.07, 0.14)
    head = cylinder((head_r * 0.3, 0, 0), head_r, head_len, axis="y") if rng.random() < 0.6 else \
        box((head_r * 0.3, 0, 0), (head_r * 2, head_len, head_r * 1.6))
    return [
        Part("handle", handle, {"grasp": lambda p: p[:, 0] < -handle_len * 0.3}),
        Part("head", head, {}),
    ]


def racket(rng):
    """A tennis, badminton or table-tennis racket built along x: ``grasp`` the handle."""
    kind = pick(rng, ["tennis", "badminton", "paddle"])
    handle_len = u(rng, 0.35, 0.6) if kind != "badminton" else u(rng, 0.5, 0.7)
    a, b = (u(rng, 0.35, 0.5), u(rng, 0.28, 0.38)) if kind != "badminton" else (u(rng, 0.22, 0.3), u(rng, 0.18, 0.22))
    throat = 0.0 if kind == "paddle" else u(rng, 0.15, 0.35) if kind == "tennis" else u(rng, 0.4, 0.6)
    centre = throat + a
    handle_r = u(rng, 0.035, 0.06)
    parts = [Part("handle", cylinder((-handle_len / 2, 0, 0), handle_r, handle_len, axis="x"), {"grasp": None})]
    angles = np.linspace(0, 2 * np.pi, 33)[:-1]
    ellipse = np.c_[centre + a * np.cos(angles), b * np.sin(angles)]
    if kind == "paddle":
        parts.append(Part("blade", slab(ellipse, 0.03), {}))
    else:
        frame = np.c_[ellipse, np.zeros(len(ellipse))]
        parts.append(Part("frame", tube(np.r_[frame, frame[:1]], 0.02), {}))
        parts.append(Part("strings", slab(ellipse * [1, 0.97] + [0.01, 0], 0.004), {}))
        parts.append(Part("throat", tube([[0, 0, 0], [throat + 0.01, 0, 0]], 0.025), {}))
    return parts


def guitar(rng):
    """An acoustic or electric guitar (or a violin, ukulele, mandolin: the same parts in other
    proportions), built along x with the body in the xy plane: ``grasp`` the neck."""
    kind = pick(rng, ["acoustic", "electric", "small"])
    lower = u(rng, 0.3, 0.42)
    upper = lower * u(rng, 0.7, 0.9)
    gap = (lower + upper) * u(rng, 0.55, 0.75)  # distance between the two bouts' centres
    depth = {"acoustic": u(rng, 0.18, 0.3), "electric": u(rng, 0.07, 0.12), "small": u(rng, 0.12, 0.2)}[kind]
    neck_len = (2 * lower + gap) * ({"acoustic": u(rng, 0.8, 1.1), "electric": u(rng, 0.9, 1.2),
                                     "small": u(rng, 0.6, 0.9)}[kind])
    neck_w, neck_t = u(rng, 0.09, 0.14), u(rng, 0.05, 0.09)
    # body outline: the union of two discs (lower bout at x = 0, upper bout at x = gap) seen from
    # the waist, where both overlap, so the outline is star-shaped around it
    waist = gap * lower / (lower + upper)
    angles = np.linspace(0, 2 * np.pi, 49)[:-1]
    rays = np.c_[np.cos(angles), np.sin(angles)]
    reach = np.zeros(len(angles))
    for centre_x, radius in [(0.0, lower), (gap, upper)]:
        offset = waist - centre_x  # the waist relative to this disc's centre, along x
        along = rays[:, 0] * offset
        reach = np.maximum(reach, -along + np.sqrt(np.maximum(along**2 - offset**2 + radius**2, 0)))
    outline = np.c_[waist + reach * rays[:, 0], reach * rays[:, 1]]
    body = slab(outline, depth)
    body_end = gap + upper
    neck = box((body_end + neck_len / 2 - 0.05, 0, depth * 0.25), (neck_len + 0.1, neck_w, neck_t))
    head_len = u(rng, 0.18, 0.3)
    head_size = (head_len, neck_w * u(rng, 1.3, 1.9), neck_t * 0.8)
    head = box((body_end + neck_len + head_len / 2, 0, depth * 0.25), head_size)
    return [
        Part("body", body, {}),
        Part("neck", neck, {"grasp": lambda p: p[:, 0] > body_end + 0.05}),
        Part("headstock", head, {}),
    ]


GENERATORS: dict[str, Callable[[np.random.Generator], list[Part]]] = {
    "Bag": bag, "Bed": bed, "Bowl": bowl, "Clock": clock, "Dishwasher": dishwasher, "Display": display,
    "Door": door, "Earphone": earphone, "Faucet": faucet, "Hat": hat, "StorageFurniture": storage_furniture,
    "Bottle": bottle, "Keyboard": keyboard, "Knife": knife, "Laptop": laptop, "Microwave": microwave, "Mug": mug,
    "Refrigerator": refrigerator, "Chair": chair, "Scissors": scissors, "Table": table, "TrashCan": trash_can,
    "Vase": vase, "Lamp": lamp, "Pan": pan, "Hammer": hammer, "Racket": racket, "Guitar": guitar,
}

# 3D AffordanceNet's category -> affordances (exact)
AFFORDANCENET_CATEGORY_AFFORDANCES: dict[str, tuple[str, ...]] = {
    "Bag": ("grasp", "lift", "contain", "openable"), "Bed": ("layable", "sittable", "support"),
    "Bowl": ("contain", "wrap_grasp", "pourable"), "Clock": ("display",), "Dishwasher": ("openable", "contain"),
    "Display": ("display",), "Door": ("openable", "pushable", "pull"), "Earphone": ("grasp", "listen"),
    "Faucet": ("grasp", "openable"), "Hat": ("grasp", "wear"), "StorageFurniture": ("contain", "openable"),
    "Bottle": ("contain", "openable", "wrap_grasp", "grasp", "pourable"), "Keyboard": ("press",),
    "Knife": ("grasp", "cut", "stab"), "Laptop": ("display", "press"), "Microwave": ("openable", "contain", "support"),
    "Mug": ("contain", "pourable", "wrap_grasp", "grasp"), "Refrigerator": ("contain", "openable"),
    "Chair": ("sittable", "support", "move"), "Scissors": ("grasp", "cut", "stab"), "Table": ("support", "move"),
    "TrashCan": ("contain", "pourable", "openable"), "Vase": ("contain", "pourable", "wrap_grasp"),
}

# shapes per category in 3D AffordanceNet
REAL_CATEGORY_COUNTS: dict[str, int] = {
    "Table": 7990, "Chair": 6113, "StorageFurniture": 2186, "Vase": 1048, "Display": 887, "Faucet": 628,
    "Clock": 524, "Laptop": 421, "Bottle": 411, "TrashCan": 315, "Knife": 314, "Earphone": 223, "Hat": 222,
    "Door": 220, "Bowl": 187, "Mug": 190, "Refrigerator": 185, "Microwave": 184, "Bed": 181, "Dishwasher": 166,
    "Keyboard": 156, "Bag": 125, "Scissors": 68,
}

# What the generator labels: 3D AffordanceNet's lists, plus `grasp` where a hand closes around a
# chair (top of the back, armrests; 3D AffordanceNet has only `move` there), and the categories
# that are not in 3D AffordanceNet. Scores are per query, so `grasp` may overlap `move`.
EXTRA_CATEGORY_AFFORDANCES: dict[str, tuple[str, ...]] = {
    "Chair": ("grasp",), "Lamp": ("grasp",), "Pan": ("contain", "grasp", "pourable"), "Hammer": ("grasp",),
    "Racket": ("grasp",), "Guitar": ("grasp",),
}
CATEGORY_AFFORDANCES: dict[str, tuple[str, ...]] = {
    category: AFFORDANCENET_CATEGORY_AFFORDANCES.get(category, ()) + EXTRA_CATEGORY_AFFORDANCES.get(category, ())
    for category in GENERATORS
}
# the categories beyond 3D AffordanceNet count as its median category under `--balance real`
REAL_CATEGORY_COUNTS.update({c: 220 for c in GENERATORS if c not in AFFORDANCENET_CATEGORY_AFFORDANCES})
