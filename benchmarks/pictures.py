"""How long the `.png` picture of a prediction takes to draw (``lmad.viz.render.render_labels``).

    python benchmarks/pictures.py                 # 20,000 and 200,000 points, median of 5
    python benchmarks/pictures.py --points 2000,20000,200000 --repeats 3

Each figure is the median wall time of ``--repeats`` calls in one process (matplotlib already
imported, as in a run over many files): four views coloured by label plus four of the winning
score, the picture `lmad predict` writes. 200,000 is the most points a picture draws
(``lmad.predict.outputs.MAX_PICTURE_POINTS``). Run it from an older checkout (``PYTHONPATH=<it>``)
for a before figure.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np


def picture_seconds(points: int, repeats: int, out: Path) -> list[float]:
    from lmad.viz.render import render_labels

    rng = np.random.default_rng(0)
    cloud = rng.normal(size=(points, 3)) * (1.0, 2.0, 0.5)
    labels = (cloud[:, 1] > 1).astype(int) + (cloud[:, 0] > 1)
    scores = rng.random((points, 3))
    walls = []
    for _ in range(repeats):
        tick = time.perf_counter()
        render_labels(out, cloud, labels, ["grasp", "pour", "none"], title="benchmark", scores=scores)
        walls.append(time.perf_counter() - tick)
    return walls


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--points", default="20000,200000", help="comma-separated cloud sizes")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401 - imported once, outside the timings

    with tempfile.TemporaryDirectory() as work:
        picture_seconds(1000, 1, Path(work) / "warm.png")
        for points in (int(p) for p in args.points.split(",")):
            walls = picture_seconds(points, args.repeats, Path(work) / "picture.png")
            print(f"picture of {points:,} points: {statistics.median(walls):.3f} s (median of {args.repeats}; "
                  f"{', '.join(f'{w:.3f}' for w in walls)})", flush=True)


if __name__ == "__main__":
    main()
