"""Can the backbone tell a container's inner surface from its outer one, a wall's thickness away?

    python docs/experiments/container_sidedness.py --variant backbone --steps 500       # about 5 min on 2 cores
    python docs/experiments/container_sidedness.py --variant local --steps 500
    python docs/experiments/container_sidedness.py --checkpoint shipped            # a trained model's contain
    python docs/experiments/container_sidedness.py --augment --steps 500           # as the shipped model is trained
    python docs/experiments/container_sidedness.py --soft-targets                  # on the full model's contain labels

A geometry-only probe, apart from language and from the other affordances: per point, the
target is 1 on the interior surface and 0 on the outer wall of procedural bowls and mugs
(1,024 points from the interior, outer wall, rim, handle and foot; a random turn about up),
learned by the ``lite`` backbone and a two-layer head with BCE, Adam 1e-3, batches of 16 from
480 training objects; scored by the interior-vs-outer-wall ROC-AUC on 48 others.
``--variant local`` adds beside the backbone's output a per-point feature of the point's own
neighbourhood (16 neighbours within ``--radius``, offsets through a small PointNet), which the
backbone's last step only sees through 3-NN interpolation from 256 centres.

``--augment``: each cloud normalised into the unit sphere and, each time it is drawn, augmented
as the shipped model's training augments (``data.augment`` of ``configs/default_model_cpu.yaml``:
a turn about up, a tilt of up to 15 degrees, per-axis scale 0.8-1.25, jitter 0.005, up to 30 %
of the points replaced by copies of one): whether those augmentations hide the wall from the
backbone; ``--without NAME`` leaves one out.

``--soft-targets``: the probe learns the generator's soft ``contain`` label (the full model's
target: 0.3-0.95 on the region, a fall-off within 0.08 of it, 0 beyond; ``soft_scores``)
instead of interior = 1, and is scored the same way: whether those labels alone hide the wall.

``--checkpoint`` (a folder, or ``shipped``) instead scores a trained model's ``contain`` on the
same 48 test clouds (y up). It asks whether ``contain``'s low inside-vs-outside AUC on real bowls and mugs
(``real_objects.py``) is a limit of the network's resolution or of its training.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
import torch.nn as nn

from lmad.data.classes import AFFORDANCE_CLASSES
from lmad.data.synthetic.generate import make_object
from lmad.eval import roc_auc
from lmad.models.pointnet2 import PointNet2Backbone, PointwiseMLP
from lmad.ops import ball_query_radii

NUM_POINTS = 1024
CONTAIN = AFFORDANCE_CLASSES.index("contain")
ROOT = Path(__file__).resolve().parents[2]


class ContainerCloud(NamedTuple):
    points: np.ndarray  # (N, 3)
    interior: np.ndarray  # (N,) float, 1 on the interior surface
    scored: np.ndarray  # (N,) bool, interior or outer wall: the points the AUC compares
    contain: np.ndarray  # (N,) the generator's soft contain label, the full model's target


def container_clouds(count: int, seed: int) -> list[ContainerCloud]:
    """Bowls and mugs in turn, each a random turn about up."""
    clouds = []
    rng = np.random.default_rng(seed)
    for i in range(count):
        obj = make_object(["Bowl", "Mug"][i % 2], rng)
        part = np.array(obj.part_names)[obj.part_index]
        keep = np.flatnonzero(np.isin(part, ["interior", "outer wall", "rim", "handle", "foot"]))
        pick = rng.choice(keep, NUM_POINTS, replace=len(keep) < NUM_POINTS)
        angle = rng.uniform(0, 2 * np.pi)
        c, s = np.cos(angle), np.sin(angle)
        turn = np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
        clouds.append(ContainerCloud(obj.points[pick] @ turn.T, (part[pick] == "interior").astype(np.float32),
                                     np.isin(part[pick], ["interior", "outer wall"]), obj.scores[pick, CONTAIN]))
    return clouds


class SidednessProbe(nn.Module):
    def __init__(self, local: bool, radius: float):
        super().__init__()
        self.backbone = PointNet2Backbone("lite")
        self.radius = radius
        self.local_mlp = PointwiseMLP(3, [16, 32]) if local else None
        self.head = nn.Sequential(nn.Linear(64 + (32 if local else 0), 64), nn.ReLU(), nn.Linear(64, 1))

    def forward(self, xyz: torch.Tensor) -> torch.Tensor:
        """xyz (B, N, 3) -> logits (B, N)."""
        features = self.backbone(xyz).transpose(1, 2)  # (B, N, 64)
        if self.local_mlp is not None:
            (neighbors,) = ball_query_radii(xyz, xyz, [self.radius], [16])  # (B, N, 16)
            rows = torch.arange(xyz.shape[0]).view(-1, 1, 1)
            offsets = (xyz[rows, neighbors] - xyz.unsqueeze(2)) / self.radius  # (B, N, 16, 3)
            batch, count, k, _ = offsets.shape
            local = self.local_mlp.forward_max_pooled(offsets.reshape(batch * count, k, 3)).view(batch, count, -1)
            features = torch.cat([features, local], -1)
        return self.head(features).squeeze(-1)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variant", choices=["backbone", "local"], default="backbone")
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--radius", type=float, default=0.06, help="the local feature's neighbourhood")
    parser.add_argument("--augment", action="store_true", help="normalise and augment as the shipped model's training")
    parser.add_argument("--without", action="append", default=[], choices=["tilt", "scale", "jitter", "dropout"],
                        help="with --augment: leave this augmentation out (repeatable)")
    parser.add_argument("--soft-targets", action="store_true",
                        help="train on the generator's soft contain labels instead of interior = 1 (scored the same)")
    parser.add_argument("--checkpoint", help="score this trained model's contain instead (a folder, or 'shipped')")
    args = parser.parse_args(argv)
    if args.checkpoint:
        from lmad import AffordanceDetector

        detector = AffordanceDetector.from_pretrained(None if args.checkpoint == "shipped" else args.checkpoint)
        detector = detector.with_options(up_axis="y")
        aucs = []
        for cloud in container_clouds(48, 1):
            scores = detector(cloud.points, ["contain"]).scores[:, 0]
            aucs.append(roc_auc(scores[cloud.scored], cloud.interior[cloud.scored].astype(bool)))
        print(f"{args.checkpoint}: contain interior-vs-outer-wall AUC {np.mean(aucs):.3f} "
              f"(bowls {np.mean(aucs[0::2]):.3f}, mugs {np.mean(aucs[1::2]):.3f})")
        return

    torch.manual_seed(0)
    start = time.time()
    train, test = container_clouds(480, 0), container_clouds(48, 1)
    model = SidednessProbe(args.variant == "local", args.radius)
    optimizer = torch.optim.Adam(model.parameters(), 1e-3)
    if args.augment:
        from lmad.data.transforms import Augment, normalize_unit_sphere
        from lmad.train.config import TrainConfig

        settings = TrainConfig.from_file(ROOT / "configs" / "default_model_cpu.yaml").data.augment
        augment = Augment(**{k: v for k, v in settings.items() if k not in args.without})
        train = [c._replace(points=normalize_unit_sphere(c.points)[0]) for c in train]
        test = [c._replace(points=normalize_unit_sphere(c.points)[0]) for c in test]
    learned = "contain" if args.soft_targets else "interior"  # the label the probe learns
    points = torch.tensor(np.stack([c.points for c in train]), dtype=torch.float32)
    targets = torch.tensor(np.stack([getattr(c, learned) for c in train]))
    rng = np.random.default_rng(0)
    for step in range(args.steps):
        batch = rng.choice(len(train), 16, replace=False)
        batch_points, batch_targets = points[batch], targets[batch]
        if args.augment:
            pairs = [augment(train[i].points, getattr(train[i], learned), rng)[:2] for i in batch]
            batch_points = torch.tensor(np.stack([p for p, _ in pairs]), dtype=torch.float32)
            batch_targets = torch.tensor(np.stack([t for _, t in pairs]))
        loss = nn.functional.binary_cross_entropy_with_logits(model(batch_points), batch_targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 100 == 0:
            print(f"step {step}: loss {loss.item():.4f}", flush=True)
    model.eval()
    with torch.no_grad():
        aucs = []
        for cloud in test:
            logits = model(torch.tensor(cloud.points[None], dtype=torch.float32))[0].numpy()
            aucs.append(roc_auc(logits[cloud.scored], cloud.interior[cloud.scored].astype(bool)))
    augmented = f", augmented{''.join(' without ' + name for name in args.without)}" if args.augment else ""
    augmented += ", soft contain targets" if args.soft_targets else ""
    print(f"{args.variant}{augmented}, {args.steps} steps: interior-vs-outer-wall AUC {np.mean(aucs):.3f} "
          f"(bowls {np.mean(aucs[0::2]):.3f}, mugs {np.mean(aucs[1::2]):.3f}), {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
