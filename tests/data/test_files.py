import numpy as np
import pytest

from lmad.data import PointFileError, read_point_file, read_points

trimesh = pytest.importorskip("trimesh")


@pytest.fixture
def cloud():
    return np.random.default_rng(0).normal(size=(200, 3)).astype(np.float32)


def write_ply(path, points, binary):
    from plyfile import PlyData, PlyElement

    vertex = np.array([tuple(p) for p in points], dtype=[("x", "f4"), ("y", "f4"), ("z", "f4")])
    PlyData([PlyElement.describe(vertex, "vertex")], text=not binary).write(str(path))


def write_pcd(path, points, binary):
    from pypcd4 import PointCloud

    PointCloud.from_xyz_points(points).save(str(path), encoding="binary" if binary else "ascii")


@pytest.mark.parametrize("binary", [False, True])
def test_ply_round_trip(tmp_path, cloud, binary):
    write_ply(tmp_path / "c.ply", cloud, binary)
    np.testing.assert_allclose(read_points(tmp_path / "c.ply"), cloud, rtol=1e-6)


@pytest.mark.parametrize("binary", [False, True])
def test_pcd_round_trip(tmp_path, cloud, binary):
    from pypcd4 import Encoding, PointCloud

    encoding = Encoding.BINARY if binary else Encoding.ASCII
    PointCloud.from_xyz_points(cloud).save(str(tmp_path / "c.pcd"), encoding=encoding)
    np.testing.assert_allclose(read_points(tmp_path / "c.pcd"), cloud, rtol=1e-5, atol=1e-6)


def test_text_and_numpy_round_trips(tmp_path, cloud):
    np.savetxt(tmp_path / "c.xyz", cloud)
    np.savetxt(tmp_path / "c.txt", np.hstack([cloud, np.ones((200, 3))]), delimiter=",")
    np.save(tmp_path / "c.npy", cloud)
    np.savez(tmp_path / "c.npz", points=cloud, other=np.zeros(3))
    for name in ["c.xyz", "c.txt", "c.npy", "c.npz"]:
        np.testing.assert_allclose(read_points(tmp_path / name), cloud, rtol=1e-5, atol=1e-6, err_msg=name)


def test_coordinates_are_read_in_float64(tmp_path):
    utm = np.array([[500_000.123456, 5_000_000.654321, 12.5]]) + np.random.default_rng(0).normal(size=(50, 3))
    np.savetxt(tmp_path / "utm.xyz", utm, fmt="%.6f")
    points = read_points(tmp_path / "utm.xyz")
    assert points.dtype == np.float64 and np.abs(points - utm).max() < 1e-6  # float32 would be off by ~0.25


def test_array_layouts_read_where_unambiguous(tmp_path, cloud):
    np.save(tmp_path / "transposed.npy", cloud.T)  # (3, M)
    found = read_point_file(tmp_path / "transposed.npy")
    assert found.points.shape == (200, 3) and "transposed" in found.notes[0]
    np.testing.assert_allclose(found.points, cloud)
    structured = np.zeros(200, dtype=[("intensity", "f4"), ("x", "f4"), ("y", "f4"), ("z", "f4")])
    structured["x"], structured["y"], structured["z"] = cloud.T
    np.save(tmp_path / "structured.npy", structured)
    np.testing.assert_allclose(read_points(tmp_path / "structured.npy"), cloud)
    np.save(tmp_path / "xyzrgb.npy", np.hstack([cloud, np.ones((200, 3))]))
    found = read_point_file(tmp_path / "xyzrgb.npy")
    assert "first 3 of 6 columns" in found.notes[0]
    np.savez(tmp_path / "only.npz", normals_and_all=cloud)
    np.testing.assert_allclose(read_points(tmp_path / "only.npz"), cloud)


@pytest.mark.parametrize("array,pattern", [
    (np.ones((200, 2)), "rows of 3 coordinates"),
    (np.ones((4, 5, 3)), "expected an \\(M, 3\\) array"),
    (np.ones((200, 3), dtype=bool), "must be numbers"),
    (np.random.default_rng(0).normal(size=(3, 3)), "at least 16"),
])
def test_array_layouts_refused_with_the_file_and_shape(tmp_path, array, pattern):
    np.save(tmp_path / "bad.npy", array)
    with pytest.raises(PointFileError, match=pattern) as error:
        read_points(tmp_path / "bad.npy")
    assert "bad.npy" in str(error.value)


def test_npz_with_several_unnamed_arrays_is_refused(tmp_path, cloud):
    np.savez(tmp_path / "two.npz", normals=cloud, colours=cloud)
    with pytest.raises(PointFileError, match="name the coordinates 'points'"):
        read_points(tmp_path / "two.npz")


def test_extreme_scales_are_read_not_called_identical(tmp_path, cloud):
    for scale in (1e30, 1e-30):
        np.save(tmp_path / "s.npy", cloud.astype(np.float64) * scale)
        assert read_points(tmp_path / "s.npy").shape == (200, 3)
    np.save(tmp_path / "huge.npy", np.array([[1e308, 0, 0], [9e307, 0, 0]] * 10))  # the mean overflows
    with pytest.raises(PointFileError, match="too large"):
        read_points(tmp_path / "huge.npy")


@pytest.mark.parametrize("suffix", [".obj", ".stl", ".off", ".glb", ".ply"])
def test_meshes_are_surface_sampled(tmp_path, suffix):
    box = trimesh.creation.box(extents=(2.0, 1.0, 0.5))
    path = tmp_path / f"box{suffix}"
    box.export(str(path))
    result = read_point_file(path, mesh_points=3000, seed=1)
    assert result.is_mesh and result.points.shape == (3000, 3)
    assert np.abs(result.points).max(axis=0) == pytest.approx([1.0, 0.5, 0.25], abs=1e-5)
    # every sample lies on the surface: one coordinate at its face
    on_face = np.isclose(np.abs(result.points), [1.0, 0.5, 0.25], atol=1e-5).any(axis=1)
    assert on_face.all()
    # area-weighted: the two large faces (2 x 1) hold 4 / 7 of the area
    large = np.isclose(np.abs(result.points[:, 2]), 0.25, atol=1e-5).mean()
    assert abs(large - 4 / 7) < 0.05
    assert np.array_equal(read_points(path, 3000, seed=1), result.points)  # seeded


def test_nan_rows_are_kept_in_place_and_marked_invalid(tmp_path, cloud):
    cloud[[3, 7]] = np.nan
    np.save(tmp_path / "c.npy", cloud)
    found = read_point_file(tmp_path / "c.npy")
    assert found.points.shape == (200, 3) and found.dropped_rows == 2
    assert np.flatnonzero(~found.valid).tolist() == [3, 7]
    assert read_points(tmp_path / "c.npy").shape == (198, 3)


@pytest.mark.parametrize("content,pattern", [
    (b"", "empty"),
    (b"\x00\x01garbage\xff" * 10, "could not be read"),
])
def test_corrupt_and_empty_files(tmp_path, content, pattern):
    path = tmp_path / "bad.ply"
    path.write_bytes(content)
    with pytest.raises(PointFileError, match=pattern):
        read_points(path)


def test_other_bad_inputs(tmp_path):
    (tmp_path / "cloud.las").write_bytes(b"LASF")
    with pytest.raises(PointFileError, match="unsupported file type"):
        read_points(tmp_path / "cloud.las")
    np.save(tmp_path / "same.npy", np.ones((20, 3)))
    with pytest.raises(PointFileError, match="identical"):
        read_points(tmp_path / "same.npy")
    np.save(tmp_path / "none.npy", np.zeros((0, 3)))
    with pytest.raises(PointFileError, match="holds 0 points"):
        read_points(tmp_path / "none.npy")
    np.save(tmp_path / "nan.npy", np.full((40, 3), np.nan))
    with pytest.raises(PointFileError, match="only 0 of its 40 rows have finite coordinates"):
        read_points(tmp_path / "nan.npy")
    with pytest.raises(PointFileError, match="no such file or folder"):
        read_points(tmp_path / "missing.obj")
    with pytest.raises(PointFileError, match="no such file or folder"):
        read_points(tmp_path / "missing_folder")


def test_a_corrupt_mesh_is_called_corrupt_not_a_missing_extra(tmp_path):
    (tmp_path / "bad.obj").write_bytes(bytes(range(256)) * 40)
    with pytest.raises(PointFileError) as error:
        read_points(tmp_path / "bad.obj")
    assert "lmad[io]" not in str(error.value) and "bad.obj" in str(error.value)


def test_real_meshes_and_scans(shared_dir):
    data = shared_dir / "data"
    files = [data / "scans" / "mug1_real.pcd", data / "scans" / "knife1.xyz", data / "meshes" / "pybullet" / "mug.obj",
             data / "meshes" / "contactdb" / "mug.stl", data / "meshes" / "ycb" / "YcbPowerDrill.obj"]
    for path in files:
        points = read_points(path, mesh_points=2048)
        assert points.ndim == 2 and points.shape[1] == 3 and len(points) >= 1000, path
        assert np.isfinite(points).all()
