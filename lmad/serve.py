"""``lmad serve``: the detector as an HTTP service that robots and pipelines call many times a minute.

    POST /predict   a point cloud (an uploaded file in any format `lmad predict` reads, or JSON
                    {"points": [[x, y, z], ...], "queries": [...], ...options}) -> labels, scores
                    ?format=json (default) or any output format (npz, ply, pcd, png, html)
    GET  /          a page for people: drop a scan, type queries, see the answer in 3D (lmad.viz.page)
    GET  /examples/<name>  the bundled example objects the page offers
    GET  /health    {"status": "ok"}
    GET  /info      model, version, limits, what the scores mean, the answer formats
    GET  /docs      this API described, as a plain page (no CDN)

Built on FastAPI (request parsing, JSON errors, the OpenAPI schema) served by uvicorn, the
usual pair for Python model services; both are the ``serve`` extra. The model is loaded once;
concurrent requests wait in a bounded queue and are micro-batched: a worker takes up to
``max_batch`` requests (waiting at most ``max_wait_ms`` for more, and only while other requests
are on their way: being read, parsed or prepared; a lone request is scored at once), groups
those with the same options and scores each group in one forward pass, which `lmad serve` runs
in a child process (``lmad.predict.model_process``; two by default, so that one batch is scored
while the next is gathered and both cores stay busy; ``--model-processes 0``: in a thread of the
server), so the server keeps answering while it computes. Each request's own work before the model
(reading the file, normalising, sampling) runs in a thread of its own as soon as it arrives,
beside the batch in progress. When
``max_queue`` requests are in flight, the next one is answered 503 with Retry-After; limits on body size, points,
number and length of queries answer 413 / 422 with a JSON message naming the limit; bad input
is a 422, never a 500 with a traceback. Off loopback a bearer token is required, compared in
constant time.
"""

# no `from __future__ import annotations`: FastAPI reads the endpoints' annotations (Request,
# imported inside create_app so that fastapi stays optional) as objects

import asyncio
import base64
import dataclasses
import functools
import hmac
import json
import logging
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lmad.predict import DEFAULT_VIEWS

LOOPBACK = ("127.0.0.1", "localhost", "::1")
TOKEN_ENVIRONMENT = "LMAD_SERVE_TOKEN"
JSON_ANSWER = "labels, scores (base64 float16) and the summary per query that a .json file holds (the default)"
log = logging.getLogger("lmad.serve")


@dataclass
class ServeLimits:
    """What one request may ask for, and how the queue and batches are sized."""

    max_body_bytes: int = 64 * 1024 * 1024
    max_points: int = 2_000_000
    max_queries: int = 32
    max_query_chars: int = 100
    max_batch: int = 8
    max_wait_ms: float = 10.0
    max_queue: int = 64


class RequestError(Exception):
    """A request the service refuses: HTTP status and a message naming what to change."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


MAX_TTA = 8  # test-time views a request may ask for


@dataclass
class _Options:
    queries: tuple[str, ...]
    up_axis: str = "y"
    threshold: float = 0.5
    exclusive: bool | None = None
    tta: int = DEFAULT_VIEWS
    attention: bool = False


@dataclass
class _Job:
    item: object  # a PreparedInput (lmad.predict.detector)
    options: _Options
    future: asyncio.Future


class BatchingQueue:
    """Prediction jobs, at most ``max_queue`` in flight, and the worker that micro-batches them."""

    def __init__(self, detector, limits: "ServeLimits"):
        self.detector = detector
        self.limits = limits
        self.queue: asyncio.Queue | None = None
        self.worker: asyncio.Task | None = None
        self.served = 0  # clouds scored
        self.batches = 0  # forward passes that scored them
        self.in_flight = 0
        self.receiving = 0  # requests whose body is being read and parsed (counted by the endpoint)
        self.preparing_now = 0  # admitted requests being prepared: each will join the queue shortly
        # one preparing thread per core: more only interleave, and each thread's malloc arena
        # keeps its own high-water mark (the resident size grew a fifth with Python's default pool)
        self.preparing = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="lmad-prepare")
        # ModelProcesses running the forward passes, one batch each at a time; none: the detector's
        # model, in a thread of this process, one batch at a time
        self.forwards: list = []
        self.free: asyncio.PriorityQueue | None = None  # indices of idle model processes, lowest first
        self.scoring: set[asyncio.Task] = set()
        self.running = 0  # forward passes running now

    def start(self) -> None:
        """Create the queue and the worker (inside the running event loop)."""
        self.queue = asyncio.Queue()  # bounded by the admission in `submit`
        self.free = asyncio.PriorityQueue()
        for index in range(len(self.forwards)):
            self.free.put_nowait(index)
        self.worker = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        for task in [self.worker, *self.scoring]:
            if task is None:
                continue
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        self.preparing.shutdown(wait=False, cancel_futures=True)

    async def submit(self, item, options: "_Options"):
        """Prepare one input (an (M, 3) array or a file path) in a thread, queue it for the next
        batch and wait for its AffordanceResult. Raises RequestError(503) when ``max_queue``
        requests are already in flight, and the detector's ValueError for an input it cannot read."""
        if self.in_flight >= self.limits.max_queue:
            raise RequestError(503, f"the queue is full ({self.limits.max_queue} requests waiting); retry shortly")
        self.in_flight += 1
        try:
            detector = self.detector.with_options(options.up_axis, options.threshold, options.exclusive, options.tta)
            self.preparing_now += 1
            try:
                prepared = await asyncio.get_running_loop().run_in_executor(self.preparing, detector.prepare, item)
            finally:
                self.preparing_now -= 1
            future = asyncio.get_running_loop().create_future()
            self.queue.put_nowait(_Job(prepared, options, future))
            return await future
        finally:
            self.in_flight -= 1

    async def _run(self) -> None:
        while True:
            # a batch is gathered once a model process is idle (the lowest-numbered one: a lone
            # client keeps to the first), so requests that arrive while all are busy join it
            index = await self.free.get() if self.forwards else None
            jobs = [await self.queue.get()]
            if index is not None:  # the lowest-numbered idle one now: it may have finished meanwhile
                self.free.put_nowait(index)
                index = self.free.get_nowait()
            deadline = asyncio.get_running_loop().time() + self.limits.max_wait_ms / 1000
            while len(jobs) < self.limits.max_batch:
                if not self.queue.empty():  # taken at once: one awaited get per job would cost an
                    jobs.append(self.queue.get_nowait())  # event-loop turn each, and the turns run out the wait
                    continue
                if not self.receiving + self.preparing_now:
                    break  # nothing on its way: waiting would only delay these
                timeout = deadline - asyncio.get_running_loop().time()
                if timeout <= 0:
                    break
                try:
                    jobs.append(await asyncio.wait_for(self.queue.get(), timeout))
                except asyncio.TimeoutError:
                    break
            groups: dict = {}
            for job in jobs:
                groups.setdefault(dataclasses.astuple(job.options), []).append(job)
            for number, group in enumerate(groups.values()):
                if not self.forwards:
                    await self._score(group, None)
                    continue
                if number:
                    index = await self.free.get()
                task = asyncio.get_running_loop().create_task(self._score(group, index))
                self.scoring.add(task)
                task.add_done_callback(self.scoring.discard)

    async def _score(self, jobs: list[_Job], index: int | None) -> None:
        """Score one group of jobs in model process ``index`` (None: in a thread of this process)."""
        options = jobs[0].options
        forward = None
        self.running += 1
        if index is not None:  # the cores are shared between the passes running now
            share = max(1, self.forwards[index].threads // self.running)
            forward = functools.partial(self.forwards[index], threads=share)
        try:
            outcomes = await asyncio.to_thread(self._predict, [job.item for job in jobs], options, forward)
        except Exception as error:  # noqa: BLE001 - every job hears about it
            outcomes = [error] * len(jobs)
        finally:
            self.running -= 1
            if index is not None:
                self.free.put_nowait(index)
        for job, outcome in zip(jobs, outcomes):
            if job.future.done():  # the client went away
                continue
            if isinstance(outcome, Exception):
                job.future.set_exception(outcome)
            else:
                job.future.set_result(outcome)
        self.served += len(jobs)
        self.batches += 1

    def _predict(self, prepared, options: _Options, forward) -> list:
        detector = self.detector.with_options(options.up_axis, options.threshold, options.exclusive, options.tta)
        # attention maps come from the model in this process (a model process returns logits only)
        return detector.score_prepared(prepared, list(options.queries), options.attention,
                                       forward=None if options.attention else forward)

# ---- requests and responses ------------------------------------------------------------------------

def response_formats() -> dict[str, str]:
    """What POST /predict?format=... can answer (case-insensitive): the JSON answer, and every
    output format of lmad.predict.outputs.OUTPUT_FORMATS whose optional package is installed, as
    the file ``lmad predict`` would write; anything else is a 422 listing these."""
    import importlib.util

    from lmad.predict.outputs import OUTPUT_FORMATS

    files = {name: fmt.description for name, fmt in OUTPUT_FORMATS.items()
             if name != "json" and (fmt.needs is None or importlib.util.find_spec(fmt.needs[0]) is not None)}
    return {"json": JSON_ANSWER, **files}


def response_format(asked: str | None) -> str:
    """``?format=`` -> one of response_formats() (case-insensitive; default json), else RequestError(422)."""
    chosen = (asked or "json").strip().lower()
    if chosen not in response_formats():
        raise RequestError(422, f"format {asked!r} is not served; choose one of {', '.join(response_formats())}")
    return chosen


def parse_options(fields: dict, limits: ServeLimits) -> _Options:
    """Validate the options of a request (JSON body or form fields) -> _Options, else RequestError(422)."""
    from lmad.data.transforms import UP_AXES
    from lmad.queries import parse_queries

    queries = fields.get("queries")
    if queries is None:
        raise RequestError(422, "missing 'queries': a list of strings or one comma-separated string")
    if isinstance(queries, list) and len(queries) > limits.max_queries:
        raise RequestError(422, f"{len(queries)} queries; the limit is max_queries={limits.max_queries}")
    try:
        parsed = parse_queries(queries)
    except ValueError as error:
        raise RequestError(422, str(error))
    if len(parsed) > limits.max_queries:
        raise RequestError(422, f"{len(parsed)} queries; the limit is max_queries={limits.max_queries}")
    long = [q[:20] + "..." for q in parsed if len(q) > limits.max_query_chars]
    if long:
        raise RequestError(422, f"queries {long} are longer than max_query_chars={limits.max_query_chars}")
    up_axis = str(fields.get("up_axis", "y"))
    if up_axis not in UP_AXES:
        raise RequestError(422, f"up_axis must be one of {', '.join(UP_AXES)}, got {up_axis!r}")
    try:
        threshold = float(fields.get("threshold", 0.5))
    except (TypeError, ValueError):
        raise RequestError(422, f"threshold must be a number, got {fields.get('threshold')!r}")
    if not 0 < threshold < 1:
        raise RequestError(422, f"threshold must be strictly between 0 and 1, got {threshold}")
    exclusive = _flag(fields, "exclusive", None)
    attention = _flag(fields, "attention", False)
    try:
        tta = int(fields.get("tta", DEFAULT_VIEWS))
    except (TypeError, ValueError):
        raise RequestError(422, f"tta must be a whole number of views, got {fields.get('tta')!r}")
    if not 1 <= tta <= MAX_TTA:
        raise RequestError(422, f"tta must be between 1 and {MAX_TTA}, got {tta}")
    return _Options(tuple(parsed), up_axis, threshold, exclusive, tta, attention)


def _flag(fields: dict, name: str, default):
    """A true/false option from JSON (a bool) or a form (text), else RequestError(422)."""
    value = fields.get(name, default)
    if isinstance(value, str):
        value = {"true": True, "1": True, "on": True, "false": False, "0": False, "off": False}.get(value.lower(), value)
    if value is not default and not isinstance(value, bool):
        raise RequestError(422, f"{name} must be true or false, got {value!r}")
    return value


def points_from_json(points, limits: ServeLimits) -> np.ndarray:
    """The ``points`` of a JSON body -> (M, 3) float64, within the point limit."""
    if not isinstance(points, list) or not points:
        raise RequestError(422, "'points' must be a non-empty list of [x, y, z] rows")
    if len(points) > limits.max_points:
        raise RequestError(413, f"{len(points)} points; the limit is max_points={limits.max_points}")
    try:
        array = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError):
        raise RequestError(422, "'points' must be a list of [x, y, z] rows of numbers (null for a missing value)")
    if array.ndim != 2 or array.shape[1] != 3:
        raise RequestError(422, f"'points' must be rows of 3 numbers, got shape {list(array.shape)}")
    return array


def encode_scores(scores: np.ndarray) -> dict:
    """(M, K) float scores -> {"dtype": "<f2", "shape": [M, K], "encoding": "base64", "data": ...}
    (float16, little-endian, row-major; NaN for invalid rows)."""
    data = np.ascontiguousarray(scores, dtype="<f2").tobytes()
    return {"dtype": "<f2", "shape": list(scores.shape), "order": "C", "encoding": "base64",
            "data": base64.b64encode(data).decode("ascii")}


def result_json(result) -> dict:
    return {
        "queries": list(result.queries),
        "labels": result.labels.tolist(),
        "labels_none": -1,
        "invalid_rows": np.flatnonzero(~result.valid).tolist(),
        "summary": result.summary(),
        "scores": encode_scores(result.scores),
        "exclusive": result.exclusive,
        "threshold": result.threshold,
        "notes": result.notes,
    }


def create_app(detector, limits: ServeLimits | None = None, token: str | None = None, model_processes: int = 0):
    """The FastAPI application around a loaded :class:`lmad.predict.AffordanceDetector`.

    ``model_processes``: run the forward passes in that many child processes
    (:class:`lmad.predict.model_process.ModelProcess`, started with the application), one batch
    each at a time; 0: in a thread of this one. ``lmad serve`` runs two (faster under load and
    for a single client alike, README).
    """
    try:
        from fastapi import FastAPI, Request
    except ImportError as error:
        raise ValueError("`lmad serve` needs the serve extra: pip install 'lmad[serve]'") from error
    from copy import copy

    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, Response
    from starlette.exceptions import HTTPException as StarletteHTTPException

    from lmad import __version__

    limits = limits or ServeLimits()
    detector = copy(detector)
    detector.kd_tree_carry_back = True  # scipy.spatial is loaded once at start-up: the tree answers every size
    batching = BatchingQueue(detector, limits)

    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app):
        import scipy.spatial  # noqa: F401 - loaded once here, not in the first request

        from lmad.ops.compiled import use_compiled_kernels
        from lmad.predict.model_process import ModelProcess

        use_compiled_kernels()  # a service makes many calls: compiled sampling and grouping from the first

        try:
            for _ in range(model_processes):
                batching.forwards.append(await asyncio.to_thread(ModelProcess, detector.model, detector.device))
            batching.start()
            yield
        finally:
            await batching.stop()
            for forward in batching.forwards:
                forward.close()

    # FastAPI's own /docs and /redoc pages load their scripts from a CDN (blank offline): /docs
    # is a plain page drawn here from the same OpenAPI schema (/openapi.json)
    app = FastAPI(title="lmad", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Language-conditioned 3D affordance detection (LM-AD)")
    app.state.batching = batching

    def error(status: int, message: str, headers: dict | None = None):
        return JSONResponse({"error": message}, status_code=status, headers=headers)

    @app.exception_handler(RequestError)
    async def request_error(request, exc: RequestError):
        headers = {"Retry-After": "1"} if exc.status == 503 else None
        return error(exc.status, exc.message, headers)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request, exc):
        return error(exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request, exc):
        return error(422, "invalid request: " + "; ".join(str(e.get("msg")) for e in exc.errors()[:3]))

    @app.exception_handler(Exception)
    async def unexpected(request, exc):  # logged here, never sent as a traceback
        log.exception("unexpected error")
        return error(500, f"internal error ({type(exc).__name__}); the server keeps running")

    @app.middleware("http")
    async def guard(request: Request, call_next):
        if token is not None and request.url.path != "/health":
            given = request.headers.get("authorization", "")
            if not given and request.method == "GET" and "token" in request.query_params:
                given = f"Bearer {request.query_params['token']}"  # a browser opening the page: /?token=...
            expected = f"Bearer {token}"
            if not hmac.compare_digest(given.encode(), expected.encode()):
                return error(401, "missing or wrong bearer token (Authorization: Bearer <token>)",
                             {"WWW-Authenticate": "Bearer"})
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limits.max_body_bytes:
            return error(413, f"body of {length} bytes; the limit is max_body_bytes={limits.max_body_bytes}")
        return await call_next(request)

    @app.get("/", include_in_schema=False)
    async def page():
        """The page: drop a scan, say what you want to do, see where (works offline)."""
        from fastapi.responses import HTMLResponse

        from lmad.examples import manifest as example_manifest

        from lmad.data.classes import AFFORDANCE_CLASSES
        from lmad.data.files import SUPPORTED_EXTENSIONS
        from lmad.data.transforms import UP_AXES
        from lmad.viz.page import service_page

        examples = [{"name": name, "queries": entry["queries"], "up_axis": entry.get("up_axis", "y")}
                    for name, entry in example_manifest().items()]
        names = [name for name in AFFORDANCE_CLASSES if name != "none"]
        return HTMLResponse(service_page(names, UP_AXES, examples, response_formats(), SUPPORTED_EXTENSIONS, MAX_TTA))

    @app.get("/examples/{name}", include_in_schema=False)
    async def example(name: str):
        """A bundled example object (the page's example picker)."""
        from lmad.examples import FOLDER as EXAMPLES
        from lmad.examples import manifest as example_manifest

        found = example_manifest()
        if name not in found:
            raise RequestError(404, f"no example {name!r}; the examples are {', '.join(found)}")
        return Response((EXAMPLES / name).read_bytes(), media_type="application/octet-stream")

    @app.get("/docs", include_in_schema=False)
    async def docs():
        from fastapi.responses import HTMLResponse

        return HTMLResponse(api_page(app.openapi(), response_formats()))

    @app.get("/health")
    async def health():
        """Liveness: {"status": "ok"} (no token needed)."""
        return {"status": "ok"}

    @app.get("/info")
    async def info():
        """The model, lmad's version, the limits, what the scores mean and the answer formats."""
        config = detector.model.config
        return {
            "lmad_version": __version__,
            "model": {"name": config.name, "architecture": config.architecture, "objective": config.objective,
                      "head": config.head, "language_model": config.language_model,
                      "points_per_cloud": detector.num_points},
            "limits": dataclasses.asdict(limits),
            "served": {"clouds": batching.served, "forward_passes": batching.batches,
                       "in_flight": batching.in_flight},
            "model_processes": [{"pid": forward.pid, "restarts": forward.restarts} for forward in batching.forwards],
            "scores": ("multi-label: each query's own probability (sigmoid), independent of the other queries; "
                       "a point's label is its best query reaching the threshold, else -1"
                       if config.objective == "bce_dice" else
                       "exclusive: a softmax over the queries with 'none' appended; labels are the argmax"),
            "formats": response_formats(),
        }

    @app.post("/predict")
    async def predict(request: Request):
        """Score one point cloud against free-text queries.

        Body: JSON {"points": [[x, y, z], ...], "queries": ["grasp", ...], "up_axis": "y",
        "threshold": 0.5, "exclusive": false}, or a multipart form with one file field "file"
        (any format lmad predict reads, meshes included) and the same options as form fields.
        Query parameter format: json (default) or pcd. Errors: JSON {"error": message} with a
        4xx status (413 too big, 422 unreadable or invalid, 503 busy: retry after Retry-After).
        """
        answer_format = response_format(request.query_params.get("format"))
        batching.receiving += 1  # tells the batch worker that this request is on its way
        try:
            item, fields, cleanup = await _read_request(request, limits)
        finally:
            batching.receiving -= 1
        try:
            options = parse_options(fields, limits)
            try:
                result = await batching.submit(item, options)
            except ValueError as exc:  # the input could not be scored: bad file, layout, too few points
                message = str(exc)
                if isinstance(item, Path):  # the client's own file name, never the server's temporary path
                    message = message.replace(str(item), fields.get("_filename", "the uploaded file"))
                raise RequestError(422, message)
        finally:
            if cleanup is not None:
                cleanup()
        if len(result.points) > limits.max_points:
            raise RequestError(413, f"{len(result.points)} points; the limit is max_points={limits.max_points}")
        if answer_format != "json":
            from lmad.predict.outputs import OUTPUT_FORMATS, output_bytes

            name = Path(fields.get("_filename", "points")).stem or "points"
            content = await asyncio.to_thread(output_bytes, result, name, answer_format)
            return Response(content, media_type=OUTPUT_FORMATS[answer_format].media_type,
                            headers={"Content-Disposition": f'attachment; filename="{_safe_name(name)}.{answer_format}"'})
        # rendered here: FastAPI's generic encoder walks every label (a tenth of the server's time)
        return Response(json.dumps(result_json(result), allow_nan=False).encode(), media_type="application/json")

    return app


async def _read_request(request, limits: ServeLimits):
    """The body of a POST /predict -> (an uploaded file's path or an (M, 3) array, the other
    fields, a cleanup callable or None). Raises RequestError for a body it cannot use."""
    body = await _read_body(request, limits)
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        return await _from_upload(request, body)
    try:
        fields = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RequestError(422, f"the body is not valid JSON ({exc}); send JSON or a multipart file upload")
    if not isinstance(fields, dict):
        raise RequestError(422, "the JSON body must be an object with 'points' and 'queries'")
    return points_from_json(fields.get("points"), limits), fields, None


async def _read_body(request, limits: ServeLimits) -> bytes:
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limits.max_body_bytes:
            raise RequestError(413, f"body over max_body_bytes={limits.max_body_bytes}")
        chunks.append(chunk)
    return b"".join(chunks)


async def _from_upload(request, body: bytes):
    """A multipart upload -> (path of a temporary copy, form fields, cleanup)."""
    from starlette.requests import Request

    from lmad.data.files import SUPPORTED_EXTENSIONS

    async def replay():
        return {"type": "http.request", "body": body, "more_body": False}

    form = await Request(request.scope, replay).form()
    uploads = [value for _, value in form.multi_items() if hasattr(value, "filename")]
    if len(uploads) > 1:
        raise RequestError(422, f"{len(uploads)} files in one request; send one file (field 'file') per request")
    upload = form.get("file")
    if upload is None or not hasattr(upload, "filename"):
        raise RequestError(422, "multipart requests need the point cloud as a file field named 'file'")
    suffix = Path(upload.filename or "").suffix.lower()
    if suffix not in SUPPORTED_EXTENSIONS:
        raise RequestError(422, f"file type {suffix or '(none)'!r} is not supported; "
                                f"send one of {', '.join(SUPPORTED_EXTENSIONS)}")
    handle, name = tempfile.mkstemp(suffix=suffix, prefix="lmad-upload-")
    with os.fdopen(handle, "wb") as out:
        out.write(await upload.read())
    fields = {k: v for k, v in form.items() if k != "file"}
    fields["_filename"] = Path(upload.filename or f"upload{suffix}").name
    return Path(name), fields, lambda: Path(name).unlink(missing_ok=True)


def _safe_name(name: str) -> str:
    """A file name for a Content-Disposition header: letters, digits, '-', '_' and '.' only."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:100] or "points"


def api_page(schema: dict, formats: dict) -> str:
    """A self-contained HTML page describing the API from its OpenAPI schema (no scripts, no CDN)."""
    from html import escape

    rows = []
    for path, methods in schema.get("paths", {}).items():
        for method, operation in methods.items():
            summary = operation.get("summary") or ""
            detail = (operation.get("description") or "").strip()
            rows.append(f"<h2><code>{escape(method.upper())} {escape(path)}</code> {escape(summary)}</h2>"
                        + (f"<pre>{escape(detail)}</pre>" if detail else ""))
    answers = "".join(f"<li><code>{escape(name)}</code>: {escape(text)}</li>" for name, text in formats.items())
    info = schema.get("info", {})
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(info.get('title', 'lmad'))} API</title>"
            "<style>body{font:15px/1.45 system-ui,sans-serif;max-width:52em;margin:2em auto;padding:0 1em}"
            "pre{background:#f4f4f4;padding:.6em;white-space:pre-wrap}h2{font-size:1.05em;margin-top:1.6em}</style>"
            f"</head><body><h1>{escape(info.get('title', 'lmad'))} {escape(str(info.get('version', '')))}</h1>"
            f"<p>{escape(info.get('description', ''))}</p>{''.join(rows)}"
            f"<h2>Answers of <code>POST /predict?format=...</code></h2><ul>{answers}</ul>"
            "<p>The machine-readable schema: <a href='/openapi.json'><code>/openapi.json</code></a>.</p>"
            "</body></html>")


def check_binding(host: str, token: str | None) -> None:
    """Off loopback a token is required: anyone on the network could use the machine otherwise."""
    if host not in LOOPBACK and not token:
        raise ValueError(f"binding {host} makes the service reachable from other machines: set a bearer token "
                         f"with --token or the {TOKEN_ENVIRONMENT} environment variable")


def serve(detector, host: str = "127.0.0.1", port: int = 8000, token: str | None = None,
          limits: ServeLimits | None = None, model_processes: int = 2) -> None:
    """Run the service until interrupted (the forward passes in ``model_processes`` child
    processes; 0: in a thread of the server)."""
    try:
        import uvicorn
    except ImportError as error:
        raise ValueError("`lmad serve` needs the serve extra: pip install 'lmad[serve]'") from error

    token = token or os.environ.get(TOKEN_ENVIRONMENT) or None
    check_binding(host, token)
    uvicorn.run(create_app(detector, limits, token, model_processes), host=host, port=port, log_level="info")


__all__ = ["RequestError", "ServeLimits", "check_binding", "create_app", "encode_scores", "serve"]
