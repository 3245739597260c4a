"""A straightforward PointNet++ MSG segmentation network, written the way most public code is.

Used only by ``bench_backbone.py`` as the yardstick: channels-first Conv2d layers, a full
(B, S, N) squared-distance matrix from the ``|a|^2 + |b|^2 - 2ab`` expansion for every radius,
ball query by sorting the whole index tensor, grouping through advanced indexing. Same layer
sizes as ``lmad.models.PointNet2Backbone`` (the parameter counts are checked equal).
"""

from __future__ import annotations

import torch
from torch import nn


def square_distance(a, b):
    return (a.square().sum(-1, keepdim=True) + b.square().sum(-1).unsqueeze(1) - 2 * a @ b.transpose(1, 2))


def index_points(points, idx):
    batch = torch.arange(points.shape[0]).view(-1, *([1] * (idx.dim() - 1))).expand_as(idx)
    return points[batch, idx]


def farthest_point_sample(xyz, npoint):
    batch, num_points, _ = xyz.shape
    centroids = torch.zeros(batch, npoint, dtype=torch.long)
    distance = torch.full((batch, num_points), 1e10)
    farthest = torch.randint(0, num_points, (batch,))
    rows = torch.arange(batch)
    for i in range(npoint):
        centroids[:, i] = farthest
        centroid = xyz[rows, farthest].view(batch, 1, 3)
        dist = ((xyz - centroid) ** 2).sum(-1)
        distance = torch.where(dist < distance, dist, distance)
        farthest = distance.max(-1)[1]
    return centroids


def query_ball_point(radius, nsample, xyz, new_xyz):
    batch, num_points, _ = xyz.shape
    num_centres = new_xyz.shape[1]
    group_idx = torch.arange(num_points).view(1, 1, num_points).repeat(batch, num_centres, 1)
    group_idx[square_distance(new_xyz, xyz) > radius**2] = num_points
    group_idx = group_idx.sort(dim=-1)[0][:, :, :nsample]
    first = group_idx[:, :, :1].repeat(1, 1, nsample)
    mask = group_idx == num_points
    group_idx[mask] = first[mask]
    return group_idx


def conv_stack(in_channels, widths, dims=2):
    conv, norm = (nn.Conv2d, nn.BatchNorm2d) if dims == 2 else (nn.Conv1d, nn.BatchNorm1d)
    layers = []
    for width in widths:
        layers += [conv(in_channels, width, 1), norm(width), nn.ReLU()]
        in_channels = width
    return nn.Sequential(*layers)


class SetAbstractionMsg(nn.Module):
    def __init__(self, npoint, radii, nsamples, in_channel, mlps):
        super().__init__()
        self.npoint, self.radii, self.nsamples = npoint, radii, nsamples
        self.blocks = nn.ModuleList(conv_stack(in_channel + 3, widths) for widths in mlps)

    def forward(self, xyz, points):  # (B, 3, N), (B, C, N)
        xyz = xyz.permute(0, 2, 1)
        points = points.permute(0, 2, 1)
        new_xyz = index_points(xyz, farthest_point_sample(xyz, self.npoint))
        outputs = []
        for radius, k, block in zip(self.radii, self.nsamples, self.blocks):
            idx = query_ball_point(radius, k, xyz, new_xyz)
            grouped_xyz = index_points(xyz, idx) - new_xyz.unsqueeze(2)
            grouped = torch.cat([index_points(points, idx), grouped_xyz], dim=-1)
            grouped = block(grouped.permute(0, 3, 2, 1))  # (B, C, k, S)
            outputs.append(grouped.max(2)[0])
        return new_xyz.permute(0, 2, 1), torch.cat(outputs, dim=1)


class SetAbstractionAll(nn.Module):
    def __init__(self, in_channel, widths):
        super().__init__()
        self.block = conv_stack(in_channel + 3, widths)

    def forward(self, xyz, points):
        grouped = torch.cat([xyz, points], dim=1).unsqueeze(2)  # (B, C, 1, N)
        return xyz.new_zeros(xyz.shape[0], 3, 1), self.block(grouped).max(3)[0]


class FeaturePropagation(nn.Module):
    def __init__(self, in_channel, widths):
        super().__init__()
        self.block = conv_stack(in_channel, widths, dims=1)

    def forward(self, xyz1, xyz2, points1, points2):
        xyz1, xyz2 = xyz1.permute(0, 2, 1), xyz2.permute(0, 2, 1)
        points2 = points2.permute(0, 2, 1)
        if xyz2.shape[1] == 1:
            interpolated = points2.repeat(1, xyz1.shape[1], 1)
        else:
            dists, idx = square_distance(xyz1, xyz2).sort(dim=-1)
            dists, idx = dists[:, :, :3], idx[:, :, :3]
            weight = 1.0 / (dists + 1e-8)
            weight = weight / weight.sum(-1, keepdim=True)
            interpolated = (index_points(points2, idx) * weight.unsqueeze(-1)).sum(2)
        new_points = torch.cat([points1.permute(0, 2, 1), interpolated], dim=-1)
        return self.block(new_points.permute(0, 2, 1))


class ReferencePointNet2(nn.Module):
    def __init__(self):
        super().__init__()
        self.sa1 = SetAbstractionMsg(512, [0.1, 0.2, 0.4], [32, 64, 128], 3, [[32, 32, 64], [64, 64, 128], [64, 96, 128]])
        self.sa2 = SetAbstractionMsg(128, [0.4, 0.8], [64, 128], 320, [[128, 128, 256], [128, 196, 256]])
        self.sa3 = SetAbstractionAll(512, [256, 512, 1024])
        self.fp3 = FeaturePropagation(1536, [256, 256])
        self.fp2 = FeaturePropagation(576, [256, 128])
        self.fp1 = FeaturePropagation(134, [128, 128])

    def forward(self, xyz):  # (B, N, 3) -> (B, 128, N)
        l0_xyz = xyz.transpose(1, 2).contiguous()
        l1_xyz, l1 = self.sa1(l0_xyz, l0_xyz)
        l2_xyz, l2 = self.sa2(l1_xyz, l1)
        l3_xyz, l3 = self.sa3(l2_xyz, l2)
        l2 = self.fp3(l2_xyz, l3_xyz, l2, l3)
        l1 = self.fp2(l1_xyz, l2_xyz, l1, l2)
        return self.fp1(l0_xyz, l1_xyz, torch.cat([l0_xyz, l0_xyz], 1), l1)
