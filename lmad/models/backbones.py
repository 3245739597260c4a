"""Point backbones, chosen by type: the contract every backbone keeps, and the table of them.

A backbone turns an object's points into per-point features. ``LMADConfig.backbone`` names one:
``"default"`` and ``"lite"`` are presets of PointNet++ (``lmad.models.pointnet2``), a dict
``{"type": NAME, ...}`` builds the backbone registered as NAME from the other entries (a dict
without ``type`` is a PointNet++ config, as written by earlier versions). A new backbone is a
module keeping :class:`Backbone` plus one :func:`register_backbone` call
(docs/architecture.md shows one).
"""

from __future__ import annotations

from typing import Callable, Protocol, runtime_checkable

import torch


@runtime_checkable
class Backbone(Protocol):
    """What the rest of LM-AD relies on.

    Attributes:
        out_channels: C, the width of the per-point features.
        min_points: the fewest points per cloud it takes (the detector refuses fewer).
    """

    out_channels: int

    @property
    def min_points(self) -> int: ...

    def __call__(self, points: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """points (B, N, 3) float, unit sphere, y up -> features (B, C, N), one column per point in
        the input's order. ``generator``: where any sampling inside starts (None: deterministic)."""
        ...


BACKBONES: dict[str, Callable[[dict], torch.nn.Module]] = {}
PRESETS = {"default": {"type": "pointnet2", "preset": "default"}, "lite": {"type": "pointnet2", "preset": "lite"}}


def register_backbone(name: str, build: Callable[[dict], torch.nn.Module]) -> None:
    """Make ``{"type": name, **options}`` build ``build(options)`` (a module keeping :class:`Backbone`)."""
    BACKBONES[name] = build


def build_backbone(spec: str | dict) -> torch.nn.Module:
    """A preset name or ``{"type": NAME, ...}`` -> the backbone module, checked against the contract."""
    if isinstance(spec, str):
        if spec not in PRESETS:
            raise ValueError(f"unknown backbone {spec!r}; presets: {', '.join(PRESETS)}, or a dict with a type "
                             f"from {', '.join(BACKBONES)}")
        spec = PRESETS[spec]
    options = dict(spec)
    kind = options.pop("type", "pointnet2")
    if kind not in BACKBONES:
        raise ValueError(f"unknown backbone type {kind!r}; registered: {', '.join(BACKBONES)}")
    backbone = BACKBONES[kind](options)
    if not isinstance(backbone, Backbone):
        raise TypeError(f"backbone type {kind!r} built a {type(backbone).__name__}, which lacks out_channels, "
                        "min_points or a forward(points, generator) (lmad.models.backbones.Backbone)")
    return backbone


def _pointnet2(options: dict) -> torch.nn.Module:
    from lmad.models.pointnet2 import PointNet2Backbone, PointNet2Config

    preset = options.pop("preset", None)
    if preset is not None and not options:
        return PointNet2Backbone(preset)
    return PointNet2Backbone(PointNet2Config.from_dict(options))


register_backbone("pointnet2", _pointnet2)
