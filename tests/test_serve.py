"""`lmad serve` through the framework's test client: round trips, every class of bad request, the token, 503."""

import asyncio
import base64
import io

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
from fastapi.testclient import TestClient  # noqa: E402

from lmad.predict import AffordanceDetector  # noqa: E402
from lmad.serve import ServeLimits, check_binding, create_app  # noqa: E402


@pytest.fixture
def detector(tiny_model):
    return AffordanceDetector(tiny_model, "cpu", num_points=64)


def cloud(n=300, seed=0):
    return np.random.default_rng(seed).normal(size=(n, 3))


def decode_scores(payload):
    raw = base64.b64decode(payload["data"])
    return np.frombuffer(raw, dtype=payload["dtype"]).reshape(payload["shape"])


@pytest.mark.parametrize("model_processes", [0, 2], ids=["in-process", "two-model-processes"])
def test_json_round_trip_equals_the_python_api(detector, model_processes):
    points = cloud()
    expected = detector(points, ["grasp", "pour"])
    with TestClient(create_app(detector, model_processes=model_processes)) as client:
        response = client.post("/predict", json={"points": points.tolist(), "queries": ["grasp", "pour"]})
        info = client.get("/info").json()
    assert len({process["pid"] for process in info["model_processes"]}) == model_processes
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["queries"] == ["grasp", "pour"] and body["labels"] == expected.labels.tolist()
    np.testing.assert_allclose(decode_scores(body["scores"]), expected.scores, atol=1e-3)  # float16
    assert body["summary"]["queries"]["grasp"]["points"] == expected.summary()["queries"]["grasp"]["points"]


def test_file_upload_and_pcd_output(detector, tmp_path):
    points = cloud(seed=1)
    np.savetxt(tmp_path / "c.xyz", points)
    expected = detector(tmp_path / "c.xyz", ["grasp"])
    with TestClient(create_app(detector)) as client:
        with open(tmp_path / "c.xyz", "rb") as handle:
            response = client.post("/predict", files={"file": ("c.xyz", handle)}, data={"queries": "grasp"})
        assert response.status_code == 200, response.text
        assert response.json()["labels"] == expected.labels.tolist()
        with open(tmp_path / "c.xyz", "rb") as handle:
            pcd = client.post("/predict?format=pcd", files={"file": ("c.xyz", handle)}, data={"queries": "grasp"})
    from pypcd4 import PointCloud

    read = PointCloud.from_fileobj(io.BytesIO(pcd.content))
    assert read.fields == ("x", "y", "z", "label", "score_grasp")
    assert np.array_equal(read.numpy(("label",))[:, 0], np.where(expected.labels >= 0, expected.labels + 1, 0))


@pytest.mark.parametrize("request_kwargs,status,pattern", [
    ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 422, "not valid JSON"),
    ({"json": {"queries": ["grasp"]}}, 422, "'points' must be"),
    ({"json": {"points": [[0, 0, 0]] * 20, "queries": ["grasp"]}}, 422, "identical"),
    ({"json": {"points": [[0, 0]] * 20, "queries": ["grasp"]}}, 422, "rows of 3 numbers"),
    ({"json": {"points": [[1, 2, 3]] * 5, "queries": ["grasp"]}}, 422, "at least 16"),
    ({"json": {"points": "abc", "queries": ["grasp"]}}, 422, "'points' must be"),
    ({"json": {"points": cloud().tolist()}}, 422, "missing 'queries'"),
    ({"json": {"points": cloud().tolist(), "queries": [f"q{i}" for i in range(40)]}}, 422, "max_queries"),
    ({"json": {"points": cloud().tolist(), "queries": ["x" * 500]}}, 422, "max_query_chars"),
    ({"json": {"points": cloud().tolist(), "queries": ["grasp"], "threshold": 2}}, 422, "threshold"),
    ({"json": {"points": cloud().tolist(), "queries": ["grasp"], "up_axis": "w"}}, 422, "up_axis"),
    ({"json": {"points": cloud(3000).tolist(), "queries": ["grasp"]}}, 413, "max_points"),
    ({"files": {"file": ("c.las", b"LASF")}, "data": {"queries": "grasp"}}, 422, "not supported"),
    ({"files": {"file": ("c.ply", b"ply\nnonsense")}, "data": {"queries": "grasp"}}, 422, "could not be read"),
    ({"data": {"queries": "grasp"}, "files": {"other": ("x.txt", b"1")}}, 422, "field named 'file'"),
])
def test_bad_requests_get_a_4xx_with_a_message(detector, request_kwargs, status, pattern):
    limits = ServeLimits(max_points=2000)
    with TestClient(create_app(detector, limits), raise_server_exceptions=False) as client:
        response = client.post("/predict", **request_kwargs)
    assert response.status_code == status, response.text
    assert pattern in response.json()["error"]


def test_body_limit_is_413(detector):
    with TestClient(create_app(detector, ServeLimits(max_body_bytes=1000))) as client:
        response = client.post("/predict", json={"points": cloud().tolist(), "queries": ["grasp"]})
    assert response.status_code == 413 and "max_body_bytes" in response.json()["error"]


def test_token_is_required_when_set_and_off_loopback(detector):
    with TestClient(create_app(detector, token="s3cret")) as client:
        body = {"points": cloud().tolist(), "queries": ["grasp"]}
        assert client.post("/predict", json=body).status_code == 401
        assert client.post("/predict", json=body, headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert client.post("/predict", json=body, headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert client.get("/health").status_code == 200
    with pytest.raises(ValueError, match="token"):
        check_binding("0.0.0.0", None)
    check_binding("127.0.0.1", None)
    check_binding("0.0.0.0", "s3cret")


def test_info_describes_model_limits_and_scores(detector):
    with TestClient(create_app(detector)) as client:
        info = client.get("/info").json()
        assert client.post("/predict", json={"points": cloud().tolist(), "queries": ["grasp"]}).status_code == 200
        client.post("/predict", json={"points": cloud()[:2].tolist(), "queries": ["grasp"]})  # refused: not counted
        served = client.get("/info").json()["served"]
    assert info["model"]["objective"] == "bce_dice" and info["limits"]["max_queue"] == 64
    assert "independent of the other queries" in info["scores"]
    assert info["served"] == {"clouds": 0, "forward_passes": 0, "in_flight": 0}
    assert served == {"clouds": 1, "forward_passes": 1, "in_flight": 0}


def test_batches_share_the_model_processes_and_their_cores(detector):
    """Two model processes: while one scores a batch the next is gathered for the other; a pass
    running alone gets every thread, two at once half each; a lone request keeps to the first."""
    import time

    import torch

    from lmad.serve import BatchingQueue, _Options

    class SlowForward:  # a model process stand-in: the model's own forward, slowly, recording its calls
        threads = 2

        def __init__(self, name):
            self.name, self.calls = name, []

        def __call__(self, batch, queries, threads):
            self.calls.append((len(batch), threads))
            time.sleep(0.2)
            with torch.no_grad():
                return detector.model(batch, queries)

    first, second = SlowForward("first"), SlowForward("second")

    async def scenario():
        queue = BatchingQueue(detector, ServeLimits(max_batch=4))
        queue.forwards = [first, second]
        queue.start()
        alone = await queue.submit(cloud(seed=9), _Options(("grasp",), tta=1))  # one view: one cloud a request
        together = await asyncio.gather(*[queue.submit(cloud(seed=seed), _Options(("grasp",), tta=1))
                                          for seed in range(6)])
        await queue.stop()
        return alone, together

    alone, together = asyncio.run(scenario())
    assert first.calls[0] == (1, 2)  # alone: the first process, every thread
    assert second.calls and (sum(size for size, _ in first.calls + second.calls) == 7)
    assert any(threads == 1 for _, threads in first.calls + second.calls)  # two passes at once: half each
    single = detector.with_options(tta=1)
    for seed, result in enumerate(together):
        np.testing.assert_allclose(result.scores, single(cloud(seed=seed), ["grasp"]).scores, atol=1e-5)
    np.testing.assert_allclose(alone.scores, single(cloud(seed=9), ["grasp"]).scores, atol=1e-5)


def test_a_full_queue_answers_503_with_retry_after(detector):
    from lmad.serve import BatchingQueue, RequestError, _Options

    async def scenario():
        queue = BatchingQueue(detector, ServeLimits(max_queue=1))
        queue.queue = asyncio.Queue(maxsize=1)  # started, but no worker takes jobs
        waiting = asyncio.ensure_future(queue.submit(cloud(), _Options(("grasp",))))
        await asyncio.sleep(0)
        with pytest.raises(RequestError) as full:
            await queue.submit(cloud(), _Options(("grasp",)))
        waiting.cancel()
        return full.value

    error = asyncio.run(scenario())
    assert error.status == 503 and "queue is full" in error.message
    app = create_app(detector)

    @app.get("/full")
    async def full():
        raise RequestError(503, "the queue is full")

    with TestClient(app) as client:
        response = client.get("/full")
    assert response.status_code == 503 and response.headers["retry-after"] == "1"


def test_concurrent_requests_are_batched_and_each_gets_its_own_answer(detector):
    from lmad.serve import BatchingQueue, _Options

    async def scenario():
        queue = BatchingQueue(detector, ServeLimits(max_batch=8, max_wait_ms=50))
        queue.start()
        clouds = [cloud(seed=i) for i in range(6)]
        results = await asyncio.gather(*[queue.submit(c, _Options(("grasp", "pour"))) for c in clouds])
        await queue.stop()
        return clouds, results

    clouds, results = asyncio.run(scenario())
    for points, result in zip(clouds, results):
        np.testing.assert_allclose(result.scores, detector(points, ["grasp", "pour"]).scores, atol=1e-5)


def test_the_worker_waits_for_requests_on_their_way_and_never_for_nothing(detector, monkeypatch):
    from lmad.serve import BatchingQueue, _Options

    async def scenario():
        # a wait window far longer than the test: a lone request that waited for it would time out
        queue = BatchingQueue(detector, ServeLimits(max_batch=8, max_wait_ms=600_000))
        batch_sizes = []
        score = queue._predict
        monkeypatch.setattr(queue, "_predict", lambda prepared, options, forward: batch_sizes.append(len(prepared))
                            or score(prepared, options, forward))
        queue.start()
        lone = await asyncio.wait_for(queue.submit(cloud(), _Options(("grasp",))), timeout=60)
        # four at once: the first to be prepared waits for the three still being prepared
        together = await asyncio.wait_for(asyncio.gather(
            *[queue.submit(cloud(seed=i), _Options(("grasp",))) for i in range(4)]), timeout=60)
        await queue.stop()
        return lone, together, batch_sizes

    lone, together, batch_sizes = asyncio.run(scenario())
    assert batch_sizes == [1, 4] and len(together) == 4
    np.testing.assert_allclose(lone.scores, detector(cloud(), ["grasp"]).scores, atol=1e-5)


def test_requests_in_preparation_count_towards_the_limit_and_always_leave_it(detector):
    from lmad.serve import BatchingQueue, RequestError, _Options

    async def scenario():
        queue = BatchingQueue(detector, ServeLimits(max_queue=2))
        queue.start()
        with pytest.raises(ValueError):  # unreadable: refused while preparing, before any batch
            await queue.submit(np.zeros((3, 3)), _Options(("grasp",)))
        after_failure = queue.in_flight
        first = asyncio.ensure_future(queue.submit(cloud(), _Options(("grasp",))))
        second = asyncio.ensure_future(queue.submit(cloud(seed=1), _Options(("grasp",))))
        await asyncio.sleep(0)  # both admitted, being prepared
        with pytest.raises(RequestError) as full:
            await queue.submit(cloud(seed=2), _Options(("grasp",)))
        results = await asyncio.gather(first, second)
        await queue.stop()
        return after_failure, full.value.status, results, queue.in_flight

    after_failure, status, results, in_flight = asyncio.run(scenario())
    assert after_failure == 0 and status == 503 and in_flight == 0
    np.testing.assert_allclose(results[1].scores, detector(cloud(seed=1), ["grasp"]).scores, atol=1e-5)


def test_serve_options_become_the_limits():
    from lmad.cli import build_parser, serve_limits

    parser = build_parser()
    limits = serve_limits(parser.parse_args(["serve", "--max-batch", "4", "--max-wait-ms", "25", "--max-body-mb", "2"]))
    assert (limits.max_batch, limits.max_wait_ms, limits.max_body_bytes) == (4, 25.0, 2 * 1024 * 1024)
    assert serve_limits(parser.parse_args(["serve"])) == ServeLimits()  # the CLI's defaults are the service's
    with pytest.raises(SystemExit):
        parser.parse_args(["serve", "--max-wait-ms", "-1"])


def test_format_is_validated_files_are_one_per_request_and_messages_name_no_server_path(tiny_model):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from lmad.predict import AffordanceDetector
    from lmad.serve import create_app

    detector = AffordanceDetector(tiny_model, num_points=64)
    cloud = "\n".join(f"{x} {y} {z}" for x, y, z in np.random.default_rng(0).normal(size=(100, 3)))
    with TestClient(create_app(detector)) as client:
        for asked in ("xyz", "las"):
            response = client.post(f"/predict?format={asked}", json={"points": [[0, 0, 0]] * 20, "queries": "grasp"})
            assert response.status_code == 422 and "json, npz, ply, pcd" in response.json()["error"]
        upper = client.post("/predict?format=PCD", files={"file": ("c.xyz", cloud)}, data={"queries": "grasp"})
        assert upper.status_code == 200 and upper.headers["content-type"] == "application/octet-stream"
        two = client.post("/predict", files=[("file", ("a.xyz", cloud)), ("other", ("b.xyz", cloud))],
                          data={"queries": "grasp"})
        assert two.status_code == 422 and "one file" in two.json()["error"]
        garbage = client.post("/predict", files={"file": ("mine.npy", bytes(range(256)) * 4)},
                              data={"queries": "grasp"})
        message = garbage.json()["error"]
        assert garbage.status_code == 422 and "mine.npy" in message
        assert "lmad-upload" not in message and "/tmp" not in message and "unsafe" not in message


def test_docs_page_works_offline(tiny_model):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from lmad.predict import AffordanceDetector
    from lmad.serve import create_app

    with TestClient(create_app(AffordanceDetector(tiny_model, num_points=64))) as client:
        page = client.get("/docs")
        assert page.status_code == 200 and "POST /predict" in page.text
        assert "http://" not in page.text and "https://" not in page.text and "<script" not in page.text
