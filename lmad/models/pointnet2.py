"""PointNet++ multi-scale-grouping (MSG) segmentation backbone, as 3D AffordanceNet / OpenAD use it.

    xyz (B, N, 3)
      -> SA1: 512 centres, radii 0.1/0.2/0.4          -> (B, 512, 64+128+128)
      -> SA2: 128 centres, radii 0.4/0.8              -> (B, 128, 256+256)
      -> SA3: group all                               -> (B, 1, 1024)
      -> FP3 (SA3 -> SA2 centres)                     -> (B, 128, 256)
      -> FP2 (-> SA1 centres)                         -> (B, 512, 128)
      -> FP1 (-> input points, also sees xyz)         -> (B, N, 128)
    output (B, 128, N)

Each layer is a shared 1x1 "conv" + BatchNorm + ReLU. They are written as ``nn.Linear`` on
channels-last tensors, which is the same arithmetic and parameter count as the usual ``Conv2d``
with kernel 1 but runs as one matrix product without layout changes.

Exact rewrites make it faster than most public PointNet++ code (see ``benchmarks/``): one
neighbour search per SA level for all its radii (:func:`lmad.ops.ball_query_radii`); where a
branch's first layer is wider at the input than at the output (SA2), that layer is applied to
the N source points before grouping instead of to the S*k grouped copies:
``W [p_j - c; f_j] + b = (W_p p_j + W_f f_j) - W_p c + b``; and a branch's last ReLU runs after
its max-pool (ReLU is increasing, so the two commute), on S rows instead of S*k.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from lmad.ops import ball_query_radii, farthest_point_sample, gather_points, three_nn_interpolate


@dataclass
class SetAbstractionConfig:
    """One set-abstraction level. ``num_centers=None`` groups all points into one."""

    num_centers: int | None
    radii: list[float] = field(default_factory=list)
    num_neighbors: list[int] = field(default_factory=list)
    mlps: list[list[int]] = field(default_factory=list)


@dataclass
class PointNet2Config:
    """Sizes of the backbone. ``fp_mlps`` run from the coarsest level back to the input points."""

    set_abstractions: list[SetAbstractionConfig]
    fp_mlps: list[list[int]]

    @property
    def out_channels(self) -> int:
        return self.fp_mlps[-1][-1]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "PointNet2Config":
        levels = [SetAbstractionConfig(**level) for level in data["set_abstractions"]]
        return cls(set_abstractions=levels, fp_mlps=[list(m) for m in data["fp_mlps"]])

    @classmethod
    def named(cls, name: str) -> "PointNet2Config":
        """``"default"``: the 3D AffordanceNet / OpenAD network. ``"lite"``: half the centres,
        neighbours and channels, for CPU training (see ``benchmarks/bench_backbone.py``)."""
        if name not in _NAMED_CONFIGS:
            raise ValueError(f"unknown backbone config {name!r}; choose one of {sorted(_NAMED_CONFIGS)}")
        return cls.from_dict(_NAMED_CONFIGS[name])


_NAMED_CONFIGS = {
    "default": {
        "set_abstractions": [
            {"num_centers": 512, "radii": [0.1, 0.2, 0.4], "num_neighbors": [32, 64, 128],
             "mlps": [[32, 32, 64], [64, 64, 128], [64, 96, 128]]},
            {"num_centers": 128, "radii": [0.4, 0.8], "num_neighbors": [64, 128],
             "mlps": [[128, 128, 256], [128, 196, 256]]},
            {"num_centers": None, "mlps": [[256, 512, 1024]]},
        ],
        "fp_mlps": [[256, 256], [256, 128], [128, 128]],
    },
    "lite": {
        "set_abstractions": [
            {"num_centers": 256, "radii": [0.1, 0.2, 0.4], "num_neighbors": [16, 32, 64],
             "mlps": [[16, 16, 32], [32, 32, 64], [32, 48, 64]]},
            {"num_centers": 64, "radii": [0.4, 0.8], "num_neighbors": [32, 64],
             "mlps": [[64, 64, 128], [64, 96, 128]]},
            {"num_centers": None, "mlps": [[128, 256, 512]]},
        ],
        "fp_mlps": [[128, 128], [128, 64], [64, 64]],
    },
}


_INFERENCE_CHUNK_ROWS = 8192


class PointwiseMLP(nn.Module):
    """Shared per-point layers (Linear + BatchNorm + ReLU) on channels-last tensors (..., C)."""

    def __init__(self, in_channels: int, widths: list[int]):
        super().__init__()
        self.linears = nn.ModuleList()
        self.norms = nn.ModuleList()
        for width in widths:
            self.linears.append(nn.Linear(in_channels, width))
            self.norms.append(nn.BatchNorm1d(width))
            in_channels = width

    def forward(self, x: torch.Tensor, skip_first_linear: bool = False) -> torch.Tensor:
        """x: (..., C_in) -> (..., C_out). ``skip_first_linear``: x already went through it."""
        shape = x.shape[:-1]
        x = self._layers(x.reshape(-1, x.shape[-1]), skip_first_linear)
        return x.view(*shape, x.shape[-1])

    def forward_max_pooled(self, x: torch.Tensor, skip_first_linear: bool = False) -> torch.Tensor:
        """x: (M, k, C_in) -> (M, C_out): the layers, then the max over k. Equal to
        ``forward(x).amax(1)``, with the last ReLU after the max (ReLU is increasing, so the two
        commute): a pass over the (M * k, C) tensor saved forward and backward."""
        rows, k, _ = x.shape
        x = self._layers(x.reshape(rows * k, -1), skip_first_linear, last_relu=False)
        x = x.view(rows, k, -1)
        # with autograd `max`, whose backward routes the gradient by index (`amax` would use an
        # equality mask over the whole tensor)
        pooled = x.max(dim=1).values if torch.is_grad_enabled() and x.requires_grad else x.amax(dim=1)
        return torch.relu_(pooled)

    def _layers(self, x: torch.Tensor, skip_first_linear: bool, last_relu: bool = True) -> torch.Tensor:
        """The layers on rows x: (R, C_in) -> (R, C_out); the last one's ReLU only if ``last_relu``."""
        last = len(self.linears) - 1
        for i, (linear, norm) in enumerate(zip(self.linears, self.norms)):
            if i == 0 and skip_first_linear:
                x = norm(x)
            elif self.training:
                x = norm(linear(x))
            else:
                # Inference: BatchNorm is a fixed affine map, folded into the layer's weights to
                # save a pass over the largest tensors of the network.
                weight, bias = _fold_batch_norm(linear, norm)
                x = torch.addmm(bias, x, weight.T)
            if last_relu or i < last:
                x = torch.relu_(x)  # in place: BatchNorm's backward needs its input, not its output
        return x


def _fold_batch_norm(linear: nn.Linear, norm: nn.BatchNorm1d) -> tuple[torch.Tensor, torch.Tensor]:
    """Weight and bias of ``norm(linear(x))`` with the norm's running statistics."""
    scale = norm.weight * torch.rsqrt(norm.running_var + norm.eps)
    return linear.weight * scale[:, None], (linear.bias - norm.running_mean) * scale + norm.bias


class SetAbstractionMSG(nn.Module):
    """Sample centres by FPS, group neighbours at several radii, run a PointNet per radius, max-pool."""

    def __init__(self, config: SetAbstractionConfig, in_channels: int):
        super().__init__()
        self.num_centers = config.num_centers
        self.radii = list(config.radii)
        self.num_neighbors = list(config.num_neighbors)
        self.branches = nn.ModuleList(PointwiseMLP(in_channels + 3, widths) for widths in config.mlps)
        self.out_channels = sum(widths[-1] for widths in config.mlps)
        # Per branch: apply the first layer before grouping when that is cheaper (exact either way).
        self.first_layer_before_grouping = [
            branch.linears[0].in_features > branch.linears[0].out_features for branch in self.branches
        ]

    def forward(
        self, xyz: torch.Tensor, features: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """xyz (B, N, 3), features (B, N, C) -> centres (B, S, 3), features (B, S, C_out)."""
        batch, num_points, _ = xyz.shape
        centres = gather_points(xyz, farthest_point_sample(xyz, self.num_centers, generator))
        flat_centres = centres.reshape(-1, 3)
        flat_inputs = torch.cat([xyz, features], dim=-1).reshape(batch * num_points, -1)
        offsets = (torch.arange(batch, device=xyz.device) * num_points).view(batch, 1, 1)
        # Without autograd, centres go through the MLP in chunks whose activations stay in
        # cache (faster on CPU); with autograd every activation is kept anyway.
        inference = not torch.is_grad_enabled()
        pooled = []
        neighbors_per_radius = ball_query_radii(centres, xyz, self.radii, self.num_neighbors)  # (B, S, k) each
        for branch, neighbors, k, early in zip(
            self.branches, neighbors_per_radius, self.num_neighbors, self.first_layer_before_grouping
        ):
            neighbors = (neighbors + offsets).view(-1, k)  # (B*S, k) rows of flat_inputs
            source = branch.linears[0](flat_inputs) if early else flat_inputs
            chunk = max(1, _INFERENCE_CHUNK_ROWS // k) if inference else len(neighbors)
            pooled.append(torch.cat([
                self._group_and_pool(branch, early, source, flat_centres[i:i + chunk], neighbors[i:i + chunk])
                for i in range(0, len(neighbors), chunk)
            ]).view(batch, self.num_centers, -1))
        return centres, torch.cat(pooled, dim=-1)

    @staticmethod
    def _group_and_pool(branch, early, source, centres, neighbors) -> torch.Tensor:
        """source (B*N, C) rows, centres (M, 3), neighbors (M, k) row indices -> (M, C_out)."""
        grouped = source.index_select(0, neighbors.reshape(-1)).view(*neighbors.shape, -1)  # (M, k, C)
        if early:
            # W [p - c; f] + b = (W [p; f] + b) - W_p c: the first layer already ran on the points.
            grouped = grouped - (centres @ branch.linears[0].weight[:, :3].T).unsqueeze(1)
        else:
            grouped[..., :3] -= centres.unsqueeze(1)  # absolute -> relative coordinates
        return branch.forward_max_pooled(grouped, skip_first_linear=early)


class SetAbstractionGroupAll(nn.Module):
    """One PointNet over all points (absolute xyz + features), max-pooled to a global feature."""

    def __init__(self, config: SetAbstractionConfig, in_channels: int):
        super().__init__()
        (widths,) = config.mlps
        self.mlp = PointwiseMLP(in_channels + 3, widths)
        self.out_channels = widths[-1]

    def forward(
        self, xyz: torch.Tensor, features: torch.Tensor, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """xyz (B, N, 3), features (B, N, C) -> origin (B, 1, 3), features (B, 1, C_out)."""
        pooled = self.mlp.forward_max_pooled(torch.cat([xyz, features], dim=-1))
        return xyz.new_zeros(xyz.shape[0], 1, 3), pooled.unsqueeze(1)


class FeaturePropagation(nn.Module):
    """Carry coarse features to finer points by 3-NN interpolation, concatenate, run an MLP."""

    def __init__(self, in_channels: int, widths: list[int]):
        super().__init__()
        self.mlp = PointwiseMLP(in_channels, widths)

    def forward(
        self,
        xyz: torch.Tensor,
        coarse_xyz: torch.Tensor,
        features: torch.Tensor,
        coarse_features: torch.Tensor,
    ) -> torch.Tensor:
        """xyz (B, N, 3), coarse_xyz (B, S, 3), features (B, N, C1), coarse (B, S, C2) -> (B, N, C)."""
        interpolated = three_nn_interpolate(xyz, coarse_xyz, coarse_features)
        return self.mlp(torch.cat([features, interpolated], dim=-1))


class PointNet2Backbone(nn.Module):
    """PointNet++ MSG segmentation network: per-point features from coordinates alone.

    The input coordinates are also the input features (no normals), and the last propagation
    step sees them again, as in OpenAD. With the default config the parameter count equals the
    reference network's (1,715,692).
    """

    def __init__(self, config: PointNet2Config | str | None = None):
        super().__init__()
        if config is None or isinstance(config, str):
            config = PointNet2Config.named(config or "default")
        self.config = config
        input_channels = 3  # the coordinates as features
        self.set_abstractions = nn.ModuleList()
        level_channels = [input_channels]
        channels = input_channels
        for level in config.set_abstractions:
            block = (SetAbstractionGroupAll if level.num_centers is None else SetAbstractionMSG)(level, channels)
            self.set_abstractions.append(block)
            channels = block.out_channels
            level_channels.append(channels)
        if len(config.fp_mlps) != len(config.set_abstractions):
            raise ValueError("PointNet2Config needs one fp_mlps entry per set-abstraction level")
        self.feature_propagations = nn.ModuleList()
        coarse_channels = level_channels[-1]
        for depth, widths in enumerate(config.fp_mlps):
            fine_level = len(config.set_abstractions) - 1 - depth
            fine_channels = level_channels[fine_level] + (3 if fine_level == 0 else 0)
            self.feature_propagations.append(FeaturePropagation(fine_channels + coarse_channels, widths))
            coarse_channels = widths[-1]
        self.out_channels = config.out_channels

    @property
    def min_points(self) -> int:
        """The fewest points per cloud this backbone takes: its first level samples that many centres."""
        return self.config.set_abstractions[0].num_centers or 1

    def forward(self, xyz: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """xyz: (B, N, 3) float -> per-point features (B, C_out, N), C_out = 128 by default.

        ``generator`` seeds the farthest-point-sampling start points (deterministic if None).
        """
        if xyz.dim() != 3 or xyz.shape[-1] != 3:
            raise ValueError(f"xyz must have shape (B, N, 3), got {tuple(xyz.shape)}")
        needed = self.min_points
        if xyz.shape[1] < needed:
            raise ValueError(
                f"this backbone samples {needed} centres from the input, so it needs at least {needed} "
                f"points per cloud; got {xyz.shape[1]} (resample the cloud, e.g. with lmad.data)"
            )
        levels_xyz = [xyz]
        levels_features = [xyz]
        for block in self.set_abstractions:
            centres, features = block(levels_xyz[-1], levels_features[-1], generator)
            levels_xyz.append(centres)
            levels_features.append(features)
        levels_features[0] = torch.cat([xyz, xyz], dim=-1)  # FP1 also sees the coordinates
        features = levels_features[-1]
        for depth, propagation in enumerate(self.feature_propagations):
            fine = len(self.set_abstractions) - 1 - depth
            features = propagation(levels_xyz[fine], levels_xyz[fine + 1], levels_features[fine], features)
        return features.transpose(1, 2).contiguous()
