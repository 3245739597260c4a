"""A contact sheet of the procedural dataset: one object per category, coloured by affordance."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lmad.data.classes import AFFORDANCE_CLASSES
from lmad.viz.render import class_colors, draw_cloud


def synthetic_contact_sheet(path: str | Path, categories, seed: int = 0, columns: int = 6) -> Path:
    """Render one generated object of each category (hard labels) into a grid PNG with a legend."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    from lmad.data.affordancenet import hard_labels_from_scores
    from lmad.data.synthetic.generate import make_object

    categories = list(categories)
    rows = int(np.ceil(len(categories) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(2.6 * columns, 2.6 * rows + 1.0), squeeze=False, dpi=100)
    palette = np.array(class_colors(AFFORDANCE_CLASSES))
    clouds = []
    for ax, category in zip(axes.flat, categories):
        obj = make_object(category, np.random.default_rng([seed, 99, categories.index(category)]))
        keep = np.random.default_rng(0).choice(len(obj.points), 2048, replace=False)
        clouds.append((obj.points[keep], hard_labels_from_scores(obj.scores)[keep]))
        ax.set_title(category, fontsize=9)
    for ax in axes.flat:
        ax.axis("off")
    used = sorted(set(np.concatenate([labels for _, labels in clouds]).tolist()))
    handles = [Patch(color=palette[i], label=AFFORDANCE_CLASSES[i]) for i in used]
    fig.legend(handles=handles, loc="lower center", ncol=10, frameon=False, fontsize=8)
    fig.tight_layout(rect=(0, 0.06, 1, 1))  # before drawing: the clouds are drawn at the final size
    for ax, (points, labels) in zip(axes.flat, clouds):
        draw_cloud(ax, points, palette[labels], azimuth=35, elevation=25, size=1.5)
    path = Path(path)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def image_grid(paths, out: str | Path, columns: int = 2, dpi: int = 70) -> Path:
    """Lay PNG files out in a grid, one image per cell, into ``out`` (e.g. the demo's overview)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    images = [plt.imread(str(p)) for p in paths]
    rows = int(np.ceil(len(images) / columns))
    height, width = images[0].shape[:2]
    fig, axes = plt.subplots(rows, columns, figsize=(columns * width / 110, rows * height / 110), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image in zip(axes.flat, images):
        ax.imshow(image)
    fig.tight_layout(pad=0.2)
    out = Path(out)
    fig.savefig(out, dpi=dpi)
    plt.close(fig)
    return out
