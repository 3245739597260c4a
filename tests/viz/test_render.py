import numpy as np
import pytest

pytest.importorskip("matplotlib")


def _axis(dpi=100):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 2), dpi=dpi)
    return fig, ax


def _picture(ax) -> np.ndarray:
    (image,) = ax.get_images()
    return np.asarray(image.get_array())


def test_nearest_point_takes_the_pixel():
    from lmad.viz.render import draw_cloud

    # two points on one line of sight (x, y equal), red nearer the viewer (+z at azimuth 0,
    # elevation 0), blue behind it; two corner points fix the picture's extent
    points = np.array([[0.0, 0.0, 1.0], [0.0, 0.0, -1.0], [-1.0, -1.0, 0.0], [1.0, 1.0, 0.0]])
    for order in (slice(None), slice(None, None, -1)):  # whatever the rows' order
        fig, ax = _axis()
        draw_cloud(ax, points[order], np.array(["red", "blue", "green", "green"])[order], azimuth=0, elevation=0)
        image = _picture(ax)
        assert image.shape[:2] == tuple(int(round(v)) for v in (ax.get_window_extent().height,
                                                                 ax.get_window_extent().width))
        painted = image[..., 3] > 0
        colours = {tuple(np.round(c, 3)) for c in image[painted][:, :3]}
        assert (1.0, 0.0, 0.0) in colours and (0.0, 0.0, 1.0) not in colours
        assert any(np.allclose(c, (0, 0.502, 0), atol=1e-3) for c in colours)  # matplotlib's "green"
        # the centre point sits in the middle of the picture, the corners at opposite corners
        rows, cols = np.nonzero(np.all(np.isclose(image[..., :3], (1, 0, 0)), -1) & painted)
        assert abs(rows.mean() / image.shape[0] - 0.5) < 0.05 and abs(cols.mean() / image.shape[1] - 0.5) < 0.05


def test_marker_size_and_colour_forms():
    from lmad.viz.render import draw_cloud

    points = np.random.default_rng(0).normal(size=(50, 3))
    counts = []
    for size in (1.0, 16.0):
        fig, ax = _axis(dpi=72)  # at 72 dpi a marker of area s covers sqrt(s) pixels a side
        draw_cloud(ax, points, np.tile([0.2, 0.4, 0.6, 1.0], (50, 1)), size=size)
        image = _picture(ax)
        counts.append(int((image[..., 3] > 0).sum()))
        assert np.allclose(image[image[..., 3] > 0][:, :3], (0.2, 0.4, 0.6))
    assert counts[0] <= 50 and 50 * 4 < counts[1] <= 50 * 16
    fig, ax = _axis()
    draw_cloud(ax, points, "black")  # one colour for all
    assert np.allclose(_picture(ax)[..., :3][_picture(ax)[..., 3] > 0], 0)
    fig, ax = _axis()
    draw_cloud(ax, points[:0], [])  # nothing to draw: an empty, axis-less panel
    assert ax.get_images() == [] and not ax.axison
