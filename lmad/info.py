"""What ``lmad info`` reports: versions, devices, optional parts, the default language model."""

from __future__ import annotations

import importlib.metadata
import os
import platform

OPTIONAL_PARTS = {
    "trimesh": "mesh files (.obj, .stl, .off, .glb, .ply with faces)",
    "plyfile": "point-cloud .ply files",
    "pypcd4": ".pcd files (reading, --format pcd)",
    "matplotlib": "PNG renders, training curves",
    "tensorboard": "TensorBoard logs during training",
    "numba": "compiled farthest point sampling (lmad[fast])",
    "fastapi": "lmad serve (lmad[serve], with uvicorn)",
}


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def collect_info() -> dict:
    """Gather the facts ``lmad info`` prints (imports torch, loads no model)."""
    import torch

    from lmad import __version__

    info = {
        "lmad": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "torch": torch.__version__,
        "transformers": _version("transformers"),
        "torch_threads": torch.get_num_threads(),
        "cuda_available": torch.cuda.is_available(),
        "cuda_devices": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())],
        "optional": {name: _version(name) for name in OPTIONAL_PARTS},
        "allocator": ("glibc, keeping freed memory (lmad train's setting)" if "MALLOC_MMAP_THRESHOLD_" in os.environ
                      else "the system's default"),
        "omp_wait": (f"OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}" if "OMP_WAIT_POLICY" in os.environ
                     else f"GOMP_SPINCOUNT={os.environ.get('GOMP_SPINCOUNT', '(libgomp default)')}"),
    }
    from lmad.models.language_model import LanguageModelNotFoundError, default_language_model_path

    try:
        info["default_language_model"] = str(default_language_model_path())
    except LanguageModelNotFoundError as error:
        info["default_language_model"] = None
        info["language_model_problem"] = str(error)
    return info


def format_info(info: dict) -> str:
    lines = [
        f"lmad          {info['lmad']}",
        f"python        {info['python']} ({info['platform']})",
        f"torch         {info['torch']} ({info['torch_threads']} CPU threads)",
        f"transformers  {info['transformers'] or 'not installed'}",
        "device        " + (", ".join(f"cuda:{i} {name}" for i, name in enumerate(info["cuda_devices"]))
                            if info["cuda_available"] else "cpu (no CUDA device found)"),
        f"language model {info['default_language_model'] or 'NOT FOUND: ' + info['language_model_problem']}",
        f"allocator     {info['allocator']}",
        f"OpenMP wait   {info['omp_wait']}",
        "optional parts:",
    ]
    for name, version in info["optional"].items():
        state = version if version else "not installed (pip install 'lmad[all]')"
        lines.append(f"  {name:12s} {state:32s} {OPTIONAL_PARTS[name]}")
    return "\n".join(lines)
