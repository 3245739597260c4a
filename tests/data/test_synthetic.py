import json

import numpy as np
import pytest

from lmad.data import AFFORDANCE_CLASSES, load_affordancenet
from lmad.data import hard_labels_from_scores
from lmad.data.synthetic import CATEGORY_AFFORDANCES, GENERATORS, category_plan, generate_dataset, make_object
from lmad.data.synthetic.dataset import make_sample
from lmad.data.synthetic.generate import lattice_samples, sample_parts, visible_from

CATEGORIES = sorted(GENERATORS)


@pytest.mark.parametrize("category", CATEGORIES)
def test_labels_use_only_the_category_affordances_and_most_are_present(category):
    allowed = {AFFORDANCE_CLASSES.index(a) for a in CATEGORY_AFFORDANCES[category]} | {18}
    present = {a: 0 for a in CATEGORY_AFFORDANCES[category]}
    for seed in range(5):
        obj = make_object(category, np.random.default_rng([7, seed]))
        assert obj.points.shape == (8192, 3)
        assert np.abs(obj.points).max() <= 1.0 + 1e-5  # fits the [-1, 1] cube
        labels = hard_labels_from_scores(obj.scores)
        assert set(np.unique(labels).tolist()) <= allowed
        scored = np.flatnonzero(obj.scores.max(0) > 0)
        assert {AFFORDANCE_CLASSES[i] for i in scored} <= set(CATEGORY_AFFORDANCES[category])
        assert obj.scores.min() >= 0 and obj.scores.max() <= 1
        for a in present:  # per query: regions may overlap (a chair's grasp lies inside its move)
            present[a] += int(obj.scores[:, AFFORDANCE_CLASSES.index(a)].max() >= 0.3)
    assert all(count >= 3 for count in present.values()), present


def test_samples_lie_on_their_triangles():
    parts = GENERATORS["Mug"](np.random.default_rng(0))
    points, _, faces = sample_parts(parts, 2000, np.random.default_rng(1))
    triangles = np.concatenate([p.mesh.vertices[p.mesh.faces] for p in parts])[faces]
    a, b, c = triangles[:, 0], triangles[:, 1], triangles[:, 2]
    normal = np.cross(b - a, c - a)
    normal /= np.linalg.norm(normal, axis=1, keepdims=True)
    assert np.abs(((points - a) * normal).sum(1)).max() < 1e-9  # in the triangle's plane
    # inside it: the three sub-triangle areas add up to the whole
    area = lambda p, q, r: np.linalg.norm(np.cross(q - p, r - p), axis=1)  # noqa: E731
    assert np.allclose(area(points, b, c) + area(a, points, c) + area(a, b, points), area(a, b, c), atol=1e-9)


def mesh_depth_buffer(triangles, right, up, camera, resolution):
    """An independent z-buffer: rasterise every triangle at the pixel centres."""
    pixel = 2 * np.sqrt(3) / resolution
    uv = np.stack([triangles @ right, triangles @ up], axis=-1) + np.sqrt(3)  # (F, 3, 2)
    depth = -(triangles @ camera)  # (F, 3)
    buffer = np.full((resolution, resolution), np.inf)
    for tri_uv, tri_depth in zip(uv, depth):
        lo = np.floor(tri_uv.min(0) / pixel).astype(int)
        hi = np.ceil(tri_uv.max(0) / pixel).astype(int)
        ii, jj = np.meshgrid(np.arange(max(lo[0], 0), min(hi[0], resolution)),
                             np.arange(max(lo[1], 0), min(hi[1], resolution)), indexing="ij")
        centres = (np.stack([ii, jj], -1) + 0.5) * pixel
        (x0, y0), (x1, y1), (x2, y2) = tri_uv
        det = (y1 - y2) * (x0 - x2) + (x2 - x1) * (y0 - y2)
        if abs(det) < 1e-12:
            continue
        w0 = ((y1 - y2) * (centres[..., 0] - x2) + (x2 - x1) * (centres[..., 1] - y2)) / det
        w1 = ((y2 - y0) * (centres[..., 0] - x2) + (x0 - x2) * (centres[..., 1] - y2)) / det
        w2 = 1 - w0 - w1
        inside = (w0 >= 0) & (w1 >= 0) & (w2 >= 0)
        z = w0 * tri_depth[0] + w1 * tri_depth[1] + w2 * tri_depth[2]
        sub = buffer[ii[inside], jj[inside]]
        buffer[ii[inside], jj[inside]] = np.minimum(sub, z[inside])
    return buffer


@pytest.mark.parametrize("category", ["Chair", "Mug", "StorageFurniture", "Knife"])
def test_partial_views_keep_only_visible_points(category):
    obj = make_object(category, np.random.default_rng(3))
    camera = np.array([1.0, 1.0, 1.0]) / np.sqrt(3)
    visible = visible_from(obj.points, camera, lattice_samples(obj.triangles.astype(np.float64)))
    helper = np.array([0.0, 1.0, 0.0])
    right = np.cross(helper, camera)
    right /= np.linalg.norm(right)
    up = np.cross(camera, right)
    resolution = 128
    buffer = mesh_depth_buffer(obj.triangles.astype(np.float64), right, up, camera, resolution)
    pixel = 2 * np.sqrt(3) / resolution
    ij = np.clip(np.floor((np.stack([obj.points @ right, obj.points @ up], 1) + np.sqrt(3)) / pixel).astype(int), 0, resolution - 1)
    surface = buffer[ij[:, 0], ij[:, 1]]
    depth = -(obj.points @ camera)
    truly_visible = depth <= surface + 0.06
    assert truly_visible[visible].mean() > 0.98  # what a view keeps is seen from its camera
    assert visible[truly_visible].mean() > 0.6  # most of what is seen is kept (grazing points may drop)
    assert 0.1 < visible.mean() < 0.8


def test_same_seed_same_arrays_and_2048_points():
    a = make_sample((5, "train", 3, "Table"))
    b = make_sample((5, "train", 3, "Table"))
    assert np.array_equal(a["full"][0], b["full"][0]) and np.array_equal(a["full"][1], b["full"][1])
    assert a["full"][0].shape == (2048, 3)
    for view in range(4):
        assert a["views"][view][0].shape == (2048, 3)
        assert np.array_equal(a["views"][view][0], b["views"][view][0])
    c = make_sample((6, "train", 3, "Table"))
    assert not np.array_equal(a["full"][0], c["full"][0])


def test_category_plan_real_balance_has_a_floor():
    plan = category_plan(500, CATEGORIES, "real", seed=0)
    counts = {c: plan.count(c) for c in CATEGORIES}
    assert len(plan) == 500 and min(counts.values()) >= 5
    assert counts["Table"] > counts["Chair"] > counts["Scissors"]
    with pytest.raises(ValueError, match=f"at least {len(CATEGORIES)}"):
        category_plan(10, CATEGORIES, "real", 0)


def test_generated_dataset_reads_back_in_both_layouts(tmp_path):
    count = len(CATEGORIES)
    stats = generate_dataset(tmp_path / "a", train=count, val=count, seed=1, balance="uniform", workers=1, progress=False)
    generate_dataset(tmp_path / "b", train=count, val=count, seed=1, balance="uniform", workers=2, progress=False)
    for layout in ("", "original"):  # the number of worker processes does not change any array
        for task in ("full", "partial"):
            a = load_affordancenet(tmp_path / "a" / layout, task, "val")
            b = load_affordancenet(tmp_path / "b" / layout, task, "val")
            for i in range(len(a)):
                assert np.array_equal(a.records[i].points, b.records[i].points)
                assert np.array_equal(a.records[i].labels, b.records[i].labels)
    openad = load_affordancenet(tmp_path / "a", "partial", "train")
    original = load_affordancenet(tmp_path / "a" / "original", "partial", "train")
    assert len(openad) == len(original) == 4 * count and original.has_soft_labels
    for i in (0, 50):
        assert np.array_equal(openad[i]["labels"].numpy(), original[i]["labels"].numpy())
    full = stats["splits"]["train"]["full"]
    assert 0.2 < full["none_fraction"] < 0.6  # the real validation split: 43 %
    sizes = full["region_size_mean"]
    assert all(0.001 < v < 0.65 for v in sizes.values())  # door handles (pull) are a few points: 0.2 % here
    assert json.loads((tmp_path / "a" / "stats.json").read_text())["splits"]["train"]["shapes_per_category"]["Mug"] == 1
    weights = load_affordancenet(tmp_path / "a", "full", "train").class_weights()
    assert weights.shape == (19,) and weights.min() == pytest.approx(1.0)


def test_scan_views_come_from_one_camera_with_holes_and_depth_noise():
    from lmad.data.synthetic.generate import scan_view

    obj = make_object("Mug", np.random.default_rng(0))
    points = obj.points.astype(np.float64)
    surface = lattice_samples(obj.triangles.astype(np.float64))
    sizes = []
    for seed in range(6):
        visible, noisy = scan_view(points, surface, np.random.default_rng(seed))
        assert len(visible) == len(noisy) >= 64 and len(np.unique(visible)) == len(visible)
        assert len(visible) < 0.8 * len(points)  # one side of the object
        offsets = noisy - points[visible]
        assert np.abs(offsets).max() < 0.06
        if np.abs(offsets).max() > 0:  # the noise of one scan lies along one direction: rank 1
            assert np.linalg.svd(offsets, compute_uv=False)[1] < 1e-6 * np.linalg.svd(offsets, compute_uv=False)[0]
        sizes.append(len(visible))
    assert len(set(sizes)) > 1  # the cameras differ


@pytest.mark.parametrize("category", ["Knife", "Chair", "Lamp", "Pan", "Hammer", "Racket", "Guitar"])
def test_grasp_sits_on_the_slender_hand_held_part(category):
    """grasp's core lies on the parts named for holding (knife handle or dagger grip, chair back top and arms,
    lamp stem or arm, pan, hammer and racket handles, guitar necks), never on blades, shades, heads,
    strings or guitar bodies."""
    from lmad.data.synthetic.generate import region_masks

    holding = {"Knife": {"handle", "grip"}, "Chair": {"back", "back post", "back rail", "arm"},
               "Lamp": {"stem", "arm", "body"}, "Pan": {"handle"}, "Hammer": {"handle"}, "Racket": {"handle"},
               "Guitar": {"neck"}}[category]
    for seed in range(4):
        parts = GENERATORS[category](np.random.default_rng(seed))
        points, part_index, _ = sample_parts(parts, 4000, np.random.default_rng(seed))
        grasp = region_masks(points, part_index, parts, ["grasp"])["grasp"]
        assert grasp.any()
        assert {parts[i].name for i in np.unique(part_index[grasp])} <= holding


def test_knife_handles_are_36_to_60_percent_of_the_length_and_cut_is_an_edge_band():
    """Kitchen knives: the handle 36-60 % of the length and 45-200 % of the blade's width in plan."""
    from lmad.data.synthetic.categories import kitchen_knife
    from lmad.data.synthetic.generate import region_masks

    widths = []
    for seed in range(8):
        parts = kitchen_knife(np.random.default_rng(seed))
        blade, handle = parts[0], parts[1]
        length = np.ptp(np.concatenate([blade.mesh.vertices[:, 0], handle.mesh.vertices[:, 0]]))
        assert 0.35 <= np.ptp(handle.mesh.vertices[:, 0]) / length <= 0.61
        widths.append(np.ptp(handle.mesh.vertices[:, 1]) / np.ptp(blade.mesh.vertices[:, 1]))
        points, part_index, _ = sample_parts(parts, 4000, np.random.default_rng(seed))
        cut = region_masks(points, part_index, parts, ["cut"])["cut"]
        on_blade = part_index == 0
        assert 0.05 < cut[on_blade].mean() < 0.5  # a band, not the blade
        assert points[cut, 1].mean() < points[on_blade, 1].mean()  # along the lower (sharp) edge
    # the blade outline spans its width (1.15x for curved blades): 45-200 % of it, some wider than before
    assert 0.38 <= min(widths) and max(widths) <= 2.01 and max(widths) > 1.2


def test_daggers_have_a_wide_guard_a_short_grip_and_two_cutting_edges():
    """The dagger / sword kind of knife: the guard is wider than the blade, the grip (the only
    grasp) is 15-30 % of the length on the far side of the guard, and cut lies on both edges."""
    from lmad.data.synthetic.categories import dagger
    from lmad.data.synthetic.generate import region_masks

    for seed in range(6):
        parts = dagger(np.random.default_rng(seed))
        blade, guard, grip = parts[:3]
        assert (blade.name, guard.name, grip.name) == ("blade", "guard", "grip")
        assert np.ptp(guard.mesh.vertices[:, 1]) > 1.2 * np.ptp(blade.mesh.vertices[:, 1])
        everything = np.concatenate([p.mesh.vertices for p in parts[:3]])
        length = np.ptp(everything[:, 0])
        assert 0.14 <= np.ptp(grip.mesh.vertices[:, 0]) / length <= 0.31
        assert grip.mesh.vertices[:, 0].max() <= guard.mesh.vertices[:, 0].min() + 1e-9 < blade.mesh.vertices[:, 0].min() + 1e-9
        points, part_index, _ = sample_parts(parts, 4000, np.random.default_rng(seed))
        masks = region_masks(points, part_index, parts, ["grasp", "cut"])
        assert set(part_index[masks["grasp"]]) == {2}
        cut_sides = np.sign(points[masks["cut"], 1])
        assert (cut_sides > 0).mean() > 0.3 and (cut_sides < 0).mean() > 0.3


def test_guitar_body_outline_is_two_bouts_and_a_waist():
    """The body's outline, walked along its length, widens to the lower bout, narrows to a waist
    and widens again to a smaller upper bout; the neck starts where the body ends."""
    for seed in range(8):
        body, neck, _ = GENERATORS["Guitar"](np.random.default_rng(seed))
        outline = body.mesh.vertices[:48]  # the top face's outline
        upper_half = outline[outline[:, 1] > 0]
        width = upper_half[np.argsort(upper_half[:, 0]), 1]
        inner = np.arange(1, len(width) - 1)
        maxima = inner[(width[inner] > width[inner - 1]) & (width[inner] >= width[inner + 1])]
        minima = inner[(width[inner] < width[inner - 1]) & (width[inner] <= width[inner + 1])]
        assert len(maxima) == 2 and len(minima) == 1
        lower_bout, upper_bout, waist = maxima[0], maxima[1], minima[0]
        assert lower_bout < waist < upper_bout
        assert width[lower_bout] > width[upper_bout] > width[waist]
        assert abs(neck.mesh.vertices[:, 0].min() - outline[:, 0].max()) <= 0.11  # set 0.1 into the body


def test_vessel_walls_keep_their_thickness_down_to_the_floor():
    """A shallow round bowl's inner sheet stays a wall's thickness from the outer one everywhere
    (offsetting only the radius left the lower halves almost touching)."""
    from scipy.spatial import cKDTree

    from lmad.data.synthetic.categories import Part, open_vessel

    t = np.linspace(0, 1, 7)
    radius, height, wall = 0.8, 0.3, 0.03
    outer, inner, _ = open_vessel(None, radius * np.sin(t * np.pi / 2) * 0.9 + radius * 0.1,
                                  height * (1 - np.cos(t * np.pi / 2)), wall)
    parts = [Part("outer", outer, {}), Part("inner", inner, {})]
    points, part_index, _ = sample_parts(parts, 20000, np.random.default_rng(0))
    gap, _ = cKDTree(points[part_index == 0]).query(points[part_index == 1])
    assert np.percentile(gap, 1) > 0.7 * wall
    assert points[part_index == 1, 1].min() == pytest.approx(wall, abs=1e-6)  # a flat floor, one wall up


@pytest.mark.parametrize("category", ["Bowl", "Mug"])
def test_soft_labels_fall_off_along_the_surface_not_through_the_wall(category):
    """contain covers the whole cavity, up to the rim, and its fall-off reaches the rim (the
    surface goes on there) but not the outer wall, a wall's thickness away from the region."""
    contain = AFFORDANCE_CLASSES.index("contain")
    for seed in range(4):
        obj = make_object(category, np.random.default_rng(seed))
        part = np.array(obj.part_names)[obj.part_index]
        scores = obj.scores[:, contain]
        assert scores[part == "outer wall"].mean() < 0.01
        interior, rim = scores[part == "interior"], scores[part == "rim"]
        assert (interior > 0).all()  # the whole cavity
        assert ((rim > 0) & (rim < 0.6 * interior.max())).any()  # the fall-off beyond the region
