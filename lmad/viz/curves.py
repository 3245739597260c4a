"""Training curves from a run's ``metrics.csv``."""

from __future__ import annotations

import csv
from pathlib import Path


def plot_training_curve(metrics_csv: str | Path, path: str | Path) -> Path:
    """Train loss and validation mIoU / Acc per epoch, side by side, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(metrics_csv) as handle:
        rows = list(csv.DictReader(handle))
    epochs = [int(r["epoch"]) for r in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4))
    left.plot(epochs, [float(r["train_loss"]) for r in rows], marker="o")
    left.set(xlabel="epoch", ylabel="weighted NLL", title="training loss")
    evaluated = [r for r in rows if r.get("val_mIoU")]
    for key in ("val_mIoU", "val_Acc", "val_mAcc"):
        right.plot([int(r["epoch"]) for r in evaluated], [100 * float(r[key]) for r in evaluated], marker="o",
                   label=key[4:])
    right.set(xlabel="epoch", ylabel="%", title="validation (OpenAD protocol)")
    right.legend()
    for ax in (left, right):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
