"""Static pictures of labelled point clouds (matplotlib, headless).

Points are drawn as an orthographic projection into each axis' pixels, the nearest point taking
each pixel: faster than matplotlib's 3D axes or a scatter plot at any size, and it reads the same
for clouds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lmad.data.classes import AFFORDANCE_CLASSES

# one colour per 3D AffordanceNet class (tab20 order), 'none' light grey
_PALETTE = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22",
    "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#393b79", "#843c39",
]
NONE_COLOR = "#d9d9d9"
PICTURE_DPI = 110


def class_colors(class_names) -> list[str]:
    """A colour per class: the fixed colour of a 3D AffordanceNet name, grey for 'none', and for
    any other text the first palette colour no other name in the list has (cycled when all are)."""
    names = list(class_names)
    taken = {_PALETTE[AFFORDANCE_CLASSES.index(n)] for n in names if n in AFFORDANCE_CLASSES and n != "none"}
    free = [c for c in _PALETTE if c not in taken] or list(_PALETTE)
    colors, next_free = [], 0
    for name in names:
        if name == "none":
            colors.append(NONE_COLOR)
        elif name in AFFORDANCE_CLASSES:
            colors.append(_PALETTE[AFFORDANCE_CLASSES.index(name)])
        else:
            colors.append(free[next_free % len(free)])
            next_free += 1
    return colors


def view_rotation(azimuth: float, elevation: float) -> np.ndarray:
    """(3, 3) rotation taking y-up world points into a camera frame (x right, y up, z towards the viewer)."""
    a, e = np.radians(azimuth), np.radians(elevation)
    spin = np.array([[np.cos(a), 0, -np.sin(a)], [0, 1, 0], [np.sin(a), 0, np.cos(a)]])
    tilt = np.array([[1, 0, 0], [0, np.cos(e), -np.sin(e)], [0, np.sin(e), np.cos(e)]])
    return tilt @ spin


def draw_cloud(ax, points: np.ndarray, colors, azimuth: float = 35, elevation: float = 25, size: float = 2.0):
    """Draw (M, 3) points with per-point colours (M,) or (M, 3|4) on a 2D matplotlib axis.

    The points are drawn as one picture in the axis' pixels (fast for any M, unlike a scatter
    plot): each a square of about ``size`` (points^2, a scatter marker's area), the point nearest
    the viewer taking each pixel. Lay the figure out (``tight_layout``) before drawing: the
    picture is made at the axis' size then, and a later resize resamples it.
    """
    ax.axis("off")
    if len(points) == 0:
        return
    camera = points @ view_rotation(azimuth, elevation).T
    rgba = _rgba(colors, len(points))
    box = ax.get_window_extent()  # the picture fills the axis, one pixel per display pixel
    width, height = max(1, int(round(box.width))), max(1, int(round(box.height)))
    side = max(1, int(round(np.sqrt(size) * ax.figure.dpi / 72)))  # a marker's side in pixels
    low, high = camera[:, :2].min(0), camera[:, :2].max(0)
    centre, span = (low + high) / 2, np.maximum(high - low, 1e-9)
    scale = min(max(width - side, 1) / span[0], max(height - side, 1) / span[1]) * 0.95  # pixels per unit
    nearest_first = np.argsort(-camera[:, 2], kind="stable")  # z points towards the viewer
    column = np.floor((camera[nearest_first, 0] - centre[0]) * scale + (width - side) / 2).astype(np.int64)
    row = np.floor((centre[1] - camera[nearest_first, 1]) * scale + (height - side) / 2).astype(np.int64)
    shift = np.arange(side)
    rows = np.clip(row[:, None, None] + shift[:, None], 0, height - 1)  # image rows run downwards
    columns = np.clip(column[:, None, None] + shift, 0, width - 1)
    winner = np.full(height * width, len(points))  # per pixel, the rank of its nearest point
    np.minimum.at(winner, (rows * width + columns).ravel(), np.repeat(np.arange(len(points)), side * side))
    taken = winner < len(points)
    image = np.zeros((height * width, 4))
    image[taken] = rgba[nearest_first[winner[taken]]]
    half = np.array([width, height]) / 2 / scale
    ax.imshow(image.reshape(height, width, 4), interpolation="nearest",
              extent=(centre[0] - half[0], centre[0] + half[0], centre[1] - half[1], centre[1] + half[1]))


def _rgba(colors, count: int) -> np.ndarray:
    """Colours as names (M,) or one name, or RGB(A) rows -> (count, 4) floats (each distinct name converted once)."""
    from matplotlib.colors import to_rgba_array

    colors = np.asarray(colors)
    if colors.dtype.kind in "USO":
        names, index = np.unique(np.atleast_1d(colors).astype(str), return_inverse=True)
        return np.broadcast_to(to_rgba_array(names)[index.ravel()], (count, 4))
    return np.broadcast_to(to_rgba_array(colors), (count, 4))


def render_labels(path: str | Path, points: np.ndarray, labels: np.ndarray, class_names, title: str = "",
                  views=((35, 25), (125, 25), (215, 25), (305, -20)), scores: np.ndarray | None = None) -> Path:
    """Multi-view PNG of a cloud coloured by label, with a legend of the classes present.

    With ``scores`` (M, K) a second row shows each point's winning score as brightness.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    palette = np.array(class_colors(class_names))
    rows = 2 if scores is not None else 1
    fig, axes = plt.subplots(rows, len(views), figsize=(3.2 * len(views), 3.2 * rows + 0.6), squeeze=False,
                             dpi=PICTURE_DPI)  # the pixels draw_cloud fills are the saved ones
    present = [i for i in range(len(class_names)) if np.any(labels == i)]
    handles = [Patch(color=palette[i], label=f"{class_names[i]} ({np.mean(labels == i):.0%})") for i in present]
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 6), frameon=False, fontsize=9)
    if title:
        fig.suptitle(title)
    for ax in axes.flat:
        ax.axis("off")
    fig.tight_layout(rect=(0, 0.08, 1, 0.95))  # before drawing: the clouds are drawn at the final size
    for col, (azimuth, elevation) in enumerate(views):
        draw_cloud(axes[0, col], points, palette[labels], azimuth, elevation)
        if scores is not None:
            draw_cloud(axes[1, col], points, plt.cm.viridis(scores.max(axis=1)), azimuth, elevation)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=PICTURE_DPI)
    plt.close(fig)
    return path
