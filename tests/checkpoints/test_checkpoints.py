import json

import pytest
import torch

from lmad import build_model
from lmad.checkpoints import CheckpointError, default_checkpoint_dir, num_points, read_metadata
from lmad.models import LMAD


@pytest.fixture
def saved(tmp_path, tiny_model_overrides):
    return build_model("lmad", **tiny_model_overrides).save_pretrained(tmp_path / "ckpt", {"num_points": 512})


def test_round_trip_records_points_and_checksum(saved):
    meta = read_metadata(saved)
    assert meta["num_points"] == 512 and len(meta["weights_sha256"]) == 64
    assert num_points(read_metadata(saved)) == 512
    assert LMAD.from_pretrained(saved).config.objective == "bce_dice"


def test_a_bit_flip_in_the_weights_is_caught(saved):
    weights = saved / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-5] ^= 0x01  # one bit of one weight
    weights.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="checksum"):
        LMAD.from_pretrained(saved)


def test_truncated_weights_and_broken_config_are_one_line_errors(saved):
    weights = saved / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:100])
    meta = json.loads((saved / "config.json").read_text())
    del meta["weights_sha256"]
    (saved / "config.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="damaged"):
        LMAD.from_pretrained(saved)
    (saved / "config.json").write_text(json.dumps({"lmad_version": "0.1.0"}))
    with pytest.raises(CheckpointError, match='no "model" section'):
        LMAD.from_pretrained(saved)
    (saved / "config.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        LMAD.from_pretrained(saved)


def test_missing_folder_and_files(tmp_path):
    with pytest.raises(CheckpointError, match="no lmad checkpoint"):
        read_metadata(tmp_path / "nowhere")
    with pytest.raises(CheckpointError, match="config.json is missing"):
        read_metadata(tmp_path)


def test_the_shipped_checkpoint_is_a_per_query_model_with_its_points():
    meta = read_metadata(default_checkpoint_dir())
    assert meta["model"].get("objective") == "bce_dice" and meta["model"].get("head") == "per_query"
    assert meta["num_points"] == 1024 and "weights_sha256" in meta


def test_training_checkpoints_swap_in_atomically(tmp_path, tiny_model_overrides):
    from lmad.checkpoints import has_training_state, load_training_state, save_training_checkpoint

    model = build_model("lmad", **tiny_model_overrides)
    save_training_checkpoint(tmp_path / "last", model, {"step": torch.tensor(3)})
    save_training_checkpoint(tmp_path / "last", model, {"step": torch.tensor(4)})
    assert has_training_state(tmp_path / "last") and int(load_training_state(tmp_path / "last")["step"]) == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["last"]  # no .tmp / .old left behind


def test_averaging_checkpoints_of_one_model(tmp_path, tiny_model_overrides, capsys):
    import torch
    from safetensors.torch import load_file

    from lmad import build_model
    from lmad.cli import main

    folders = []
    for seed in range(3):
        torch.manual_seed(seed)
        folders.append(build_model("lmad", **tiny_model_overrides).save_pretrained(tmp_path / f"s{seed}",
                                                                                  {"num_points": 64}))
    assert main(["average", *map(str, folders), "--out", str(tmp_path / "soup")]) == 0
    soup = load_file(str(tmp_path / "soup" / "model.safetensors"))
    members = [load_file(str(f / "model.safetensors")) for f in folders]
    name = next(k for k, v in soup.items() if v.is_floating_point() and v.numel() > 1)
    assert torch.allclose(soup[name], sum(m[name] for m in members) / 3, atol=1e-6)
    model = LMAD.from_pretrained(tmp_path / "soup")  # loads like any checkpoint (checksum, names, shapes)
    assert read_metadata(tmp_path / "soup")["averaged_from"] == [str(f) for f in folders]
    assert model(torch.rand(1, 64, 3), ["grasp"]).shape == (1, 1, 64)
    other = build_model("lmad", **{**tiny_model_overrides, "head_width": 16}).save_pretrained(tmp_path / "other")
    assert main(["average", str(folders[0]), str(other), "--out", str(tmp_path / "bad")]) == 2
    assert "another model" in capsys.readouterr().err
