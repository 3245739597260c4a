"""Where and how lmad computes: the device, and threads for sequential loops.

``choose_device`` is the one place that turns ``"auto"`` / ``"cpu"`` / ``"cuda"`` into a device.
``single_threaded`` runs a loop of many small tensor ops on one thread: each op would otherwise
enter a parallel region and wait at its barrier for every worker thread, and on a busy machine
(a robot's computer always runs other processes) a descheduled worker makes every one of those
waits long.
"""

from __future__ import annotations

import contextlib


def choose_device(name: str | None = "auto", local_rank: int = 0):
    """``"auto"`` (or None): CUDA when available, else CPU; ``"cuda"`` refuses when there is no GPU.

    Returns a ``torch.device``; ``local_rank`` picks the GPU of a torchrun process.
    """
    import torch

    name = (name or "auto").lower()
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError(f"device {name!r} was asked for, but this machine has no usable CUDA GPU "
                             "(or torch is a CPU build); use --device cpu")
        return torch.device(name) if ":" in name else torch.device("cuda", local_rank)
    if name != "cpu":
        raise ValueError(f"unknown device {name!r}; use auto, cpu or cuda")
    return torch.device("cpu")


@contextlib.contextmanager
def single_threaded(enabled: bool = True):
    """Run the block with one intra-op thread (restored after)."""
    import torch

    previous = torch.get_num_threads()
    if not enabled or previous == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
