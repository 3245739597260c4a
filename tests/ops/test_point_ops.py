"""lmad.ops against naive reference implementations written point by point."""

import numpy as np
import pytest
import torch

from lmad.ops import (
    ball_query,
    ball_query_from_distances,
    ball_query_radii,
    farthest_point_sample,
    gather_points,
    knn,
    pairwise_distance,
    three_nn_interpolate,
)

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


# ---- naive references: one cloud, one point at a time --------------------------------------

def naive_fps(xyz: np.ndarray, npoint: int, start: int = 0) -> list[int]:
    picked = [start]
    min_dist = np.full(len(xyz), np.inf)
    for _ in range(npoint - 1):
        last = xyz[picked[-1]]
        for j in range(len(xyz)):
            min_dist[j] = min(min_dist[j], float(((xyz[j] - last) ** 2).sum()))
        picked.append(int(np.argmax(min_dist)))
    return picked


def naive_ball_query(xyz: np.ndarray, centre: np.ndarray, radius: float, k: int) -> list[int]:
    dist = [float(np.linalg.norm(p - centre)) for p in xyz]
    inside = [j for j, d in enumerate(dist) if d <= radius][:k]
    if not inside:
        inside = [int(np.argmin(dist))]
    return inside + [inside[0]] * (k - len(inside))


def naive_interpolate(xyz, known_xyz, known_features):
    out = []
    for p in xyz:
        dist = np.linalg.norm(known_xyz - p, axis=1)
        order = np.argsort(dist)[: min(3, len(known_xyz))]
        weight = 1.0 / (dist[order] ** 2 + 1e-8)
        weight /= weight.sum()
        out.append((known_features[order] * weight[:, None]).sum(0))
    return np.stack(out)


def random_cloud(batch, n, seed=0, device="cpu"):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(batch, n, 3, generator=g, dtype=torch.float64) * 2 - 1).to(device)


# ---- farthest point sampling ------------------------------------------------------------------

@pytest.mark.parametrize("device", DEVICES)
def test_fps_matches_naive(device):
    xyz = random_cloud(3, 200, device=device)
    idx = farthest_point_sample(xyz, 40)
    assert idx.shape == (3, 40) and idx.dtype == torch.long and idx.device.type == device
    for b in range(3):
        assert idx[b].tolist() == naive_fps(xyz[b].cpu().numpy(), 40)


def test_fps_generator_sets_start_and_is_reproducible():
    xyz = random_cloud(4, 100)
    a = farthest_point_sample(xyz, 10, torch.Generator().manual_seed(3))
    b = farthest_point_sample(xyz, 10, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    for batch in range(4):
        assert a[batch].tolist() == naive_fps(xyz[batch].numpy(), 10, start=int(a[batch, 0]))
    assert not torch.equal(a[:, 0], torch.zeros(4, dtype=torch.long))  # seed 3 starts elsewhere
    assert torch.equal(farthest_point_sample(xyz, 10), farthest_point_sample(xyz, 10))


def test_fps_all_points_is_a_permutation():
    xyz = random_cloud(2, 64)
    idx = farthest_point_sample(xyz, 64)
    for row in idx:
        assert sorted(row.tolist()) == list(range(64))


def test_fps_single_point():
    assert farthest_point_sample(torch.zeros(2, 1, 3), 1).tolist() == [[0], [0]]


def test_fps_duplicates_picks_distinct_positions_first():
    base = random_cloud(1, 10)
    xyz = torch.cat([base, base, base], dim=1)  # every point three times
    idx = farthest_point_sample(xyz, 10)[0]
    positions = {tuple(np.round(xyz[0, i].numpy(), 9)) for i in idx.tolist()}
    assert len(positions) == 10


def test_fps_rejects_bad_arguments():
    with pytest.raises(ValueError, match="npoint"):
        farthest_point_sample(torch.rand(1, 5, 3), 6)
    with pytest.raises(ValueError, match=r"\(B, N, 3\)"):
        farthest_point_sample(torch.rand(5, 3), 2)


# ---- ball query -------------------------------------------------------------------------------

@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("radius,k", [(0.2, 8), (0.5, 16), (1.5, 32), (0.05, 4)])
def test_ball_query_matches_naive(device, radius, k):
    xyz = random_cloud(2, 150, seed=1, device=device)
    centres = xyz[:, :20]
    idx = ball_query(xyz, centres, radius, k)
    assert idx.shape == (2, 20, k) and idx.dtype == torch.long
    for b in range(2):
        for s in range(20):
            expected = naive_ball_query(xyz[b].cpu().numpy(), centres[b, s].cpu().numpy(), radius, k)
            assert idx[b, s].tolist() == expected


def test_ball_query_fewer_than_k_pads_with_first_found():
    xyz = torch.tensor([[[0.0, 0, 0], [5, 0, 0], [0.1, 0, 0], [0, 0.1, 0], [9, 9, 9]]])
    idx = ball_query(xyz, xyz[:, :1], radius=0.2, k=6)
    assert idx.tolist() == [[[0, 2, 3, 0, 0, 0]]]


def test_ball_query_radius_catching_only_the_centre():
    xyz = random_cloud(2, 50, seed=2)
    idx = ball_query(xyz, xyz[:, 7:10], radius=1e-9, k=5)
    expected = torch.tensor([7, 8, 9]).view(1, 3, 1).expand(2, 3, 5)
    assert torch.equal(idx, expected)


def test_ball_query_duplicate_points_are_all_neighbours_in_index_order():
    p = torch.tensor([0.3, -0.2, 0.1])
    xyz = torch.stack([p, torch.ones(3), p, p, -torch.ones(3)]).unsqueeze(0)
    idx = ball_query(xyz, xyz[:, 2:3], radius=1e-6, k=4)
    assert idx.tolist() == [[[0, 2, 3, 0]]]


def test_ball_query_k_larger_than_n_and_empty_ball():
    xyz = random_cloud(1, 5, seed=4)
    idx = ball_query(xyz, xyz, radius=10.0, k=8)
    assert idx.shape == (1, 5, 8)
    assert idx[0, 0].tolist() == [0, 1, 2, 3, 4, 0, 0, 0]
    far_centre = torch.full((1, 1, 3), 100.0, dtype=xyz.dtype)
    nearest = int(torch.linalg.norm(xyz[0] - 100.0, dim=1).argmin())
    assert ball_query(xyz, far_centre, 0.1, 3).tolist() == [[[nearest] * 3]]


# ---- k nearest neighbours, gather, interpolation ----------------------------------------------

@pytest.mark.parametrize("device", DEVICES)
def test_knn_matches_naive(device):
    xyz = random_cloud(2, 80, seed=5, device=device)
    query = random_cloud(2, 30, seed=6, device=device)
    dist, idx = knn(query, xyz, 5)
    assert dist.shape == idx.shape == (2, 30, 5)
    for b in range(2):
        full = torch.linalg.norm(query[b, :, None] - xyz[b, None], dim=-1)
        expected_dist, expected_idx = full.sort(dim=-1)
        assert torch.allclose(dist[b], expected_dist[:, :5])
        assert torch.equal(idx[b], expected_idx[:, :5])


def test_knn_duplicates_and_errors():
    xyz = torch.tensor([[[0.0, 0, 0], [1, 0, 0], [0, 0, 0]]])
    dist, idx = knn(xyz[:, :1], xyz, 2)
    assert dist.tolist() == [[[0.0, 0.0]]] and sorted(idx[0, 0].tolist()) == [0, 2]
    with pytest.raises(ValueError, match="k must be"):
        knn(xyz, xyz, 4)


def test_gather_points_matches_indexing():
    features = torch.randn(3, 10, 4)
    idx = torch.randint(0, 10, (3, 5, 2))
    out = gather_points(features, idx)
    assert out.shape == (3, 5, 2, 4)
    for b in range(3):
        assert torch.equal(out[b], features[b][idx[b]])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("num_known", [1, 2, 3, 17])
def test_three_nn_interpolate_matches_naive(device, num_known):
    xyz = random_cloud(2, 40, seed=7, device=device)
    known = random_cloud(2, num_known, seed=8, device=device)
    features = torch.randn(2, num_known, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0)).to(device)
    out = three_nn_interpolate(xyz, known, features)
    assert out.shape == (2, 40, 6)
    for b in range(2):
        expected = naive_interpolate(xyz[b].cpu().numpy(), known[b].cpu().numpy(), features[b].cpu().numpy())
        np.testing.assert_allclose(out[b].cpu().numpy(), expected, rtol=1e-9, atol=1e-9)


def test_interpolation_at_a_known_point_returns_its_feature():
    known = random_cloud(1, 10, seed=9)
    features = torch.randn(1, 10, 3, dtype=torch.float64)
    out = three_nn_interpolate(known[:, 4:5], known, features)
    assert torch.allclose(out[0, 0], features[0, 4], atol=1e-6)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu():
    xyz = random_cloud(2, 300, seed=10).float()
    cuda = xyz.cuda()
    assert torch.equal(farthest_point_sample(xyz, 50), farthest_point_sample(cuda, 50).cpu())
    assert torch.equal(ball_query(xyz, xyz[:, :30], 0.3, 16), ball_query(cuda, cuda[:, :30], 0.3, 16).cpu())


def test_compiled_and_pytorch_farthest_point_sampling_pick_the_same_points():
    pytest.importorskip("numba")
    from lmad.ops import compiled, sampling

    assert sampling._compiled_kernel() is not None
    assert compiled.worth_compiling(1)  # loaded once, always used
    # numba recompiles (seconds, in every process) a function that closes over other compiled ones
    assert sampling._compiled_kernel().py_func.__closure__ is None
    generator = torch.Generator().manual_seed(0)
    clouds = [(torch.rand(3, 700, 3, generator=generator), 64),
              (torch.cat([torch.rand(2, 300, 3, generator=generator)] * 2, dim=1), 64),  # every point twice
              (torch.randint(0, 4, (1, 500, 3), generator=generator).float(), 64),  # a lattice: many ties
              # a lattice of step 0.1: float32 sums of squares round differently unless fused as cdist does
              (torch.randint(0, 5, (2, 400, 3), generator=generator).float() * 0.1, 128),
              # many leaves of the compiled kernel: a sphere's surface, and a lattice sampled to the last point
              (torch.nn.functional.normalize(torch.randn(2, 4000, 3, generator=generator), dim=-1), 128),
              (torch.randint(0, 12, (1, 3000, 3), generator=generator).float(), 3000)]
    for xyz, picks in clouds:
        for seeded in (None, torch.Generator().manual_seed(5)):
            start = (torch.zeros(xyz.shape[0], dtype=torch.long) if seeded is None
                     else torch.randint(xyz.shape[1], (xyz.shape[0],), generator=seeded))
            compiled = torch.from_numpy(sampling._compiled_kernel()(xyz.numpy(), picks, start.numpy()))
            reference = sampling._farthest_point_sample_torch(xyz, picks, start)
            assert torch.equal(compiled, reference)


def test_farthest_point_sampling_runs_without_numba(monkeypatch):
    from lmad.ops import compiled

    monkeypatch.setitem(compiled._KERNELS, "farthest_point_sample", None)  # as if numba were not installed
    xyz = torch.rand(2, 200, 3, generator=torch.Generator().manual_seed(1))
    picked = farthest_point_sample(xyz, 50)
    assert picked.shape == (2, 50) and all(len(set(row.tolist())) == 50 for row in picked)


def test_compiled_and_pytorch_ball_queries_find_the_same_neighbours():
    pytest.importorskip("numba")
    from lmad.ops import compiled, neighbors

    kernel = compiled.compiled_kernel("ball_query", neighbors._build_ball_query_kernel)
    assert kernel is not None and kernel.py_func.__closure__ is None  # numba can cache it
    generator = torch.Generator().manual_seed(0)
    lattice = torch.randint(0, 5, (2, 400, 3), generator=generator).float() * 0.1  # distances equal to radii
    cases = [(torch.rand(3, 700, 3, generator=generator), [0.1, 0.2, 0.4], [8, 16, 32]),
             (torch.cat([torch.rand(1, 200, 3, generator=generator)] * 2, dim=1), [0.05, 0.3], [4, 64]),  # duplicates
             (lattice, [0.1, 0.2, 0.3], [6, 16, 64]),
             (torch.rand(1, 10, 3, generator=generator), [0.5, 10.0], [3, 20])]  # k > N
    for xyz, radii, ks in cases:
        centres = torch.cat([xyz[:, ::7], xyz[:, :3] + 5.0], dim=1)  # and centres with empty balls
        found = kernel(centres.numpy(), xyz.numpy(), np.asarray(radii, np.float32), np.asarray(ks, np.int64))
        distance = pairwise_distance(centres, xyz)
        for r, (radius, k) in enumerate(zip(radii, ks)):
            reference = ball_query_from_distances(distance, radius, k)
            assert torch.equal(torch.from_numpy(found[r, :, :, :k]), reference), (radius, k)


def test_ball_query_radii_without_numba_matches_one_radius_at_a_time(monkeypatch):
    from lmad.ops import compiled

    monkeypatch.setitem(compiled._KERNELS, "ball_query", None)  # as if numba were not installed
    xyz = random_cloud(2, 300, seed=4).float()
    centres = xyz[:, :40]
    found = ball_query_radii(centres, xyz, [0.1, 0.3], [5, 12])
    assert [f.shape for f in found] == [(2, 40, 5), (2, 40, 12)]
    for neighbours, radius, k in zip(found, [0.1, 0.3], [5, 12]):
        assert torch.equal(neighbours, ball_query_from_distances(pairwise_distance(centres, xyz), radius, k))
