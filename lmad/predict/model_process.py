"""The model's forward passes in a process of their own, for services (``lmad serve``).

When a service's Python threads (reading requests, sampling, writing answers) share a process
with the forward pass, they share one interpreter lock with it: between its operators the
forward waits for the lock, and its compute threads idle meanwhile (measured: docs/serving.md).
In a process of its own the forward runs its operators back to back; the service sends it the
sampled clouds (B, N, 3) and gets the logits (B, K, N) back through a pipe. The weights are
shared with the service's process, not copied (``torch.multiprocessing`` passes them in shared
memory).

The child process is started with ``spawn`` (a fresh interpreter, never a fork of a process
whose compute threads are running), which imports the parent's main module again: a script that
creates a ``ModelProcess`` must do so under ``if __name__ == "__main__":``.
"""

from __future__ import annotations

import contextlib
import logging
import threading

import numpy as np
import torch

log = logging.getLogger("lmad.predict")

START_TIMEOUT_S = 300.0  # importing torch and the model in a fresh process, on a slow machine


class ModelProcess:
    """A model's forward pass in a child process: ``process(batch, queries)`` returns what
    ``model(batch, queries)`` returns, as a tensor on the batch's device.

    If the child process dies (killed, out of memory), the next call starts a new one and tries
    once more. Calls from several threads are served one at a time. Use as a context manager,
    or call :meth:`close`.
    """

    def __init__(self, model: torch.nn.Module, device: str | torch.device = "cpu", threads: int | None = None):
        self.model = model
        self.device = torch.device(device)
        self.threads = threads or torch.get_num_threads()
        self._lock = threading.Lock()
        self._process = None
        self._connection = None
        self.restarts = 0
        self._start()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    def __call__(self, batch: torch.Tensor, queries: list[str], threads: int | None = None) -> torch.Tensor:
        """batch (B, N, 3) float32, queries (K names) -> logits (B, K, N), as the model computes them.
        ``threads``: compute threads for this pass (default: the process's ``threads``)."""
        request = (batch.detach().cpu().numpy(), list(queries), threads or self.threads)
        with self._lock:
            try:
                reply = self._exchange(request)
            except (EOFError, BrokenPipeError, ConnectionResetError, OSError) as error:
                log.warning("the model process stopped (%s); starting a new one", error)
                self._stop()
                self._start()
                self.restarts += 1
                reply = self._exchange(request)
        kind, value = reply
        if kind == "ValueError":
            raise ValueError(value)
        if kind != "ok":
            raise RuntimeError(f"the model process failed: {kind}: {value}")
        return torch.from_numpy(value).to(batch.device)

    def close(self) -> None:
        with self._lock:
            self._stop()

    def __enter__(self) -> "ModelProcess":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _exchange(self, request):
        self._connection.send(request)
        return self._connection.recv()

    def _start(self) -> None:
        import torch.multiprocessing as multiprocessing

        context = multiprocessing.get_context("spawn")  # never fork a process with compute threads running
        here, there = context.Pipe()
        process = context.Process(target=_run_forward_passes, args=(there, self.model, str(self.device), self.threads),
                                  name="lmad-model", daemon=True)
        process.start()
        there.close()
        if not here.poll(START_TIMEOUT_S):
            process.kill()
            raise RuntimeError(f"the model process did not start within {START_TIMEOUT_S:.0f} s")
        try:
            kind, value = here.recv()
        except EOFError:
            kind, value = "exit", f"exit code {process.join(5) or process.exitcode}"
        if kind != "ready":
            process.kill()
            raise RuntimeError(f"the model process could not start: {value}")
        self._process, self._connection = process, here

    def _stop(self) -> None:
        if self._process is None:
            return
        with contextlib.suppress(OSError, ValueError):
            self._connection.send(None)
        self._process.join(5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(5)
        self._connection.close()
        self._process = self._connection = None


def _run_forward_passes(connection, model: torch.nn.Module, device: str, threads: int) -> None:
    """The child process: forward passes until told to stop (None) or the parent goes away."""
    try:
        torch.set_num_threads(threads)
        model = model.to(device).eval()
    except Exception as error:  # noqa: BLE001 - reported to the parent, which raises it
        connection.send(("error", f"{type(error).__name__}: {error}"))
        return
    connection.send(("ready", None))
    with torch.no_grad():
        while True:
            try:
                request = connection.recv()
            except (EOFError, OSError):
                return  # the service stopped
            if request is None:
                return
            batch, queries, threads = request
            if threads != torch.get_num_threads():
                torch.set_num_threads(threads)
            try:
                logits = model(torch.from_numpy(np.ascontiguousarray(batch)).to(device), queries)
                reply = ("ok", logits.float().cpu().numpy())
            except ValueError as error:
                reply = ("ValueError", str(error))
            except Exception as error:  # noqa: BLE001 - the parent raises it as RuntimeError
                reply = (type(error).__name__, str(error))
            connection.send(reply)
