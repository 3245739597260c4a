import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from lmad.models import LMAD
from lmad.errors import ConfigError
from lmad.train import TrainConfig, TrainingDivergedError, apply_overrides, epoch_batches, train
from lmad.train.trainer import Distributed, learning_rate
from tests.train.helpers import tiny_config, write_tiny_dataset

REPO = Path(__file__).resolve().parents[2]


def read_metrics(path):
    with open(path) as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("objective", ["bce_dice", "cross_entropy"])
def test_training_lowers_the_loss_and_writes_the_run_folder(tmp_path, capsys, objective):
    data = write_tiny_dataset(tmp_path / "data")
    config = tiny_config(data, epochs=6, lr=5e-3)
    config.model.overrides["objective"] = objective
    summary = train(config, tmp_path / "run", command="lmad train --config tiny.yaml")
    rows = read_metrics(tmp_path / "run" / "metrics.csv")
    assert len(rows) == 6
    assert float(rows[-1]["train_loss"]) < 0.8 * float(rows[0]["train_loss"])
    assert summary["best_mIoU"] == max(float(r["val_mIoU"]) for r in rows)
    for name in ("config.yaml", "command.txt", "best/model.safetensors", "last/training_state.pt", "curve.png"):
        assert (tmp_path / "run" / name).is_file(), name
    assert TrainConfig.from_file(tmp_path / "run" / "config.yaml") == config
    model = LMAD.from_pretrained(tmp_path / "run" / "best")
    assert model(torch.rand(1, 64, 3), ["top", "bottom", "none"]).shape == (1, 3, 64)
    # the eval command on the same data reproduces the validation mIoU of the best epoch
    from lmad.cli import main

    report = tmp_path / "eval.json"
    assert main(["eval", "--checkpoint", str(tmp_path / "run" / "best"), "--data", str(data), "--seeds", "0,1",
                 "--json", str(report)]) == 0
    result = json.loads(report.read_text())
    assert result["mIoU"]["per_seed"][0] == pytest.approx(summary["best_mIoU"], abs=1e-9)
    assert set(result["per_class_IoU"]) == {"top", "bottom", "none"}
    assert set(result["binary"]) == {"IoU", "AUC", "aIoU", "absent_positive_rate"}  # both protocols
    assert 0 <= result["binary"]["AUC"]["mean"] <= 1
    printed = capsys.readouterr().out
    assert "OpenAD protocol" in printed and "per-label binary metrics" in printed


def test_best_and_last_record_the_points_per_cloud_they_were_trained_on(tmp_path):
    """Loading and prediction read it from the folder: ``last/`` without it was predicted at the
    2,048-point default."""
    from lmad.checkpoints import num_points, read_metadata
    from lmad.predict import AffordanceDetector

    data = write_tiny_dataset(tmp_path / "data")
    config = tiny_config(data, epochs=1)
    config.data.num_points = 64
    train(config, tmp_path / "run")
    for folder in ("best", "last"):
        assert num_points(read_metadata(tmp_path / "run" / folder)) == 64
        assert AffordanceDetector.from_pretrained(tmp_path / "run" / folder).num_points == 64


def test_resume_mid_epoch_gives_the_same_weights(tmp_path):
    data = write_tiny_dataset(tmp_path / "data")
    config = tiny_config(data, epochs=2)
    train(config, tmp_path / "full")
    interrupted = train(config, tmp_path / "resumed", stop_after_steps=6)  # 4 steps per epoch: mid epoch 2
    assert interrupted["stopped_early"]
    state = torch.load(tmp_path / "resumed" / "last" / "training_state.pt", weights_only=True)
    assert (state["epoch"], state["step_in_epoch"]) == (1, 2)
    train(config, tmp_path / "resumed", resume=True)
    expected = load_file(tmp_path / "full" / "last" / "model.safetensors")
    resumed = load_file(tmp_path / "resumed" / "last" / "model.safetensors")
    assert expected.keys() == resumed.keys()
    for key in expected:
        assert torch.equal(expected[key], resumed[key]), key


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    data = write_tiny_dataset(tmp_path / "data")
    config = tiny_config(data, epochs=3)
    train(config, tmp_path / "run", stop_after_steps=4)  # an epoch-end checkpoint exists
    good = load_file(tmp_path / "run" / "last" / "model.safetensors")
    config.optim.lr = 1e30  # diverges at once
    with pytest.raises(TrainingDivergedError, match="last good checkpoint"):
        train(config, tmp_path / "run", resume=True)
    after = load_file(tmp_path / "run" / "last" / "model.safetensors")
    assert all(torch.equal(good[k], after[k]) for k in good)


def test_schedule_and_batches():
    config = TrainConfig()
    assert learning_rate(config.optim, 0) == 1e-3 and learning_rate(config.optim, 20) == 5e-4
    assert learning_rate(config.optim, 199) == pytest.approx(max(1e-3 * 0.5**9, 1e-5))
    ranks = [epoch_batches(20, 3, seed=1, epoch=4, dist_info=Distributed(r, 2, r)) for r in (0, 1)]
    seen = [i for batches in ranks for batch in batches for i in batch]
    assert len(seen) == len(set(seen)) == 18  # disjoint, 3 batches of 3 each
    assert epoch_batches(20, 3, 1, 4, Distributed()) == epoch_batches(20, 3, 1, 4, Distributed())
    assert epoch_batches(20, 3, 1, 4, Distributed()) != epoch_batches(20, 3, 1, 5, Distributed())


def test_misspelled_augmentation_key_names_the_known_ones(tmp_path):
    from lmad.train.trainer import build_datasets

    data = write_tiny_dataset(tmp_path / "data")
    config = tiny_config(data)
    config.data.augment = {"rotate_upp": True}
    with pytest.raises(ValueError, match="rotate_up"):
        build_datasets(config)


def test_config_overrides_and_errors(tmp_path):
    data = apply_overrides({"optim": {"lr": 0.1}}, ["optim.lr=0.01", "model.overrides.backbone=lite", "run.seed=3"])
    config = TrainConfig.from_dict(data)
    assert config.optim.lr == 0.01 and config.model.overrides == {"backbone": "lite"} and config.run.seed == 3
    with pytest.raises(ValueError, match="unknown config keys"):
        TrainConfig.from_dict({"optim": {"learning_rate": 1}})
    with pytest.raises(ValueError, match="key=value"):
        apply_overrides({}, ["optim.lr"])


def test_shipped_configs_parse():
    configs = sorted((REPO / "configs").glob("*.yaml"))
    assert configs
    for path in configs:
        TrainConfig.from_file(path)


def test_ddp_two_processes_on_cpu(tmp_path):
    data = write_tiny_dataset(tmp_path / "data")
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
               str(REPO / "tests" / "train" / "ddp_worker.py"), str(data), str(tmp_path / "run")]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    weights = [load_file(tmp_path / "run" / f"rank{r}.safetensors") for r in (0, 1)]
    for key in weights[0]:
        assert torch.equal(weights[0][key], weights[1][key]), key
    seen = [set((tmp_path / "run" / f"rank{r}.seen").read_text().split()) for r in (0, 1)]
    assert seen[0] and seen[1] and not seen[0] & seen[1]


def test_every_shipped_config_builds_its_model():
    from pathlib import Path

    from lmad.models import LMADConfig
    from lmad.models.registry import model_config

    for path in sorted(Path(__file__).resolve().parents[2].glob("configs/*.yaml")):
        config = TrainConfig.from_file(path)
        assert isinstance(model_config(config.model.name, **config.model.overrides), LMADConfig), path


def test_paraphrased_queries_keep_their_positions_and_repeat_on_resume():
    from lmad.data import PARAPHRASES
    from lmad.train.trainer import asked_queries

    names = ["grasp", "contain", "cut", "top"]  # 'top' has no paraphrases: always asked by name
    assert asked_queries(names, 0.0, seed=0, step=5) == names
    seen = [asked_queries(names, 0.5, seed=0, step=step) for step in range(200)]
    for asked in seen:
        for name, text in zip(names, asked):
            assert text == name or text in PARAPHRASES[name]
    paraphrased = sum(a[0] != "grasp" for a in seen) / len(seen)
    assert 0.35 < paraphrased < 0.65
    assert all(a[3] == "top" for a in seen)
    assert asked_queries(names, 0.5, seed=0, step=7) == seen[7]  # a function of (seed, step) only


def test_paraphrases_share_no_word_with_openads_synonym_queries():
    from lmad.data import AFFORDANCE_CLASSES, PARAPHRASES, SYNONYM_QUERIES

    assert set(PARAPHRASES) == set(AFFORDANCE_CLASSES) - {"none"}
    filler = {"a", "the", "to", "on", "in", "by", "it", "up"}
    synonym_words = {w for q in SYNONYM_QUERIES for w in q.split()} - filler
    for name, texts in PARAPHRASES.items():
        for text in texts:
            assert not set(text.split()) & synonym_words, (name, text)
            assert text != name.replace("_", " ")


@pytest.fixture(scope="module")
def one_shape_per_category(tmp_path_factory):
    """A synthetic dataset folder with one training and one validation shape per category, and the count."""
    from lmad.data.synthetic import generate_dataset
    from lmad.data.synthetic.categories import GENERATORS

    root = tmp_path_factory.mktemp("synthetic")
    generate_dataset(root, train=len(GENERATORS), val=len(GENERATORS), seed=0, balance="uniform", workers=1,
                     progress=False)
    return root, len(GENERATORS)


def test_repeat_full_balances_full_shapes_against_partial_views(one_shape_per_category):
    from lmad.train.trainer import build_datasets

    root, count = one_shape_per_category
    config = TrainConfig.from_dict({"data": {"source": "synthetic", "root": str(root), "task": "both",
                                             "repeat_full": 4}})
    train_set, val_set = build_datasets(config)
    full = sum(r.view is None for r in train_set.records)
    assert full == 4 * count and len(train_set) == 8 * count
    assert len(val_set) == 5 * count  # validation is never repeated
    with pytest.raises(ValueError, match="repeat_full"):
        build_datasets(TrainConfig.from_dict({"data": {"source": "synthetic", "root": str(root),
                                                       "task": "both", "repeat_full": 0}}))


def test_repeat_categories_shows_a_category_more_often(one_shape_per_category):
    from lmad.train.trainer import build_datasets

    root, count = one_shape_per_category
    base = {"source": "synthetic", "root": str(root), "task": "both", "repeat_full": 2}
    plain, _ = build_datasets(TrainConfig.from_dict({"data": base}))
    config = TrainConfig.from_dict({"data": {**base, "repeat_categories": {"Knife": 3}}})
    config.check()
    train_set, val_set = build_datasets(config)
    knives = [r for r in train_set.records if r.category == "Knife"]
    assert len(knives) == 3 * sum(r.category == "Knife" for r in plain.records) > 0
    assert sum(r.view is None for r in knives) == 3 * 2  # one knife shape: its full shape 2 x 3 times
    others = [(r.shape_id, r.view) for r in train_set.records if r.category != "Knife"]
    assert others == [(r.shape_id, r.view) for r in plain.records if r.category != "Knife"]
    assert len(val_set) == 5 * count  # validation is never repeated
    full_only, _ = build_datasets(TrainConfig.from_dict({"data": {**base, "task": "full",
                                                                 "repeat_categories": {"Knife": 3}}}))
    assert len(full_only) == count + 2 and sum(r.category == "Knife" for r in full_only.records) == 3
    with pytest.raises(ValueError, match="Knif.*not among"):
        build_datasets(TrainConfig.from_dict({"data": {**base, "repeat_categories": {"Knif": 3}}}))
    with pytest.raises(ConfigError, match="repeat_categories"):
        TrainConfig.from_dict({"data": {**base, "repeat_categories": {"Knife": 0}}}).check()
    with pytest.raises(ConfigError, match="repeat_categories"):
        TrainConfig.from_dict({"data": {**base, "repeat_categories": {"Knife": "many"}}}).check()


def test_init_from_starts_fine_tuning_from_a_checkpoints_weights(tmp_path):
    data = write_tiny_dataset(tmp_path / "data")
    train(tiny_config(data, epochs=1), tmp_path / "first")
    source = load_file(tmp_path / "first" / "last" / "model.safetensors")
    config = tiny_config(data, epochs=1, lr=1e-9)
    config.model.init_from = str(tmp_path / "first" / "last")
    train(config, tmp_path / "tuned", stop_after_steps=1)
    tuned = load_file(tmp_path / "tuned" / "last" / "model.safetensors")
    assert tuned.keys() == source.keys()
    weights = [k for k in source if "running_" not in k and "num_batches" not in k]  # BatchNorm statistics move
    assert max((tuned[k] - source[k]).abs().max().item() for k in weights) < 1e-4  # one step at lr <= 1e-5
    scratch = tiny_config(data, epochs=1, lr=1e-9)
    train(scratch, tmp_path / "scratch", stop_after_steps=1)
    untrained = load_file(tmp_path / "scratch" / "last" / "model.safetensors")
    assert max((untrained[k] - source[k]).abs().max().item() for k in weights) > 1e-3  # not where it started
    config.model.overrides["head"] = "pooled"
    with pytest.raises(ValueError, match="head: 'per_query' there, 'pooled' here"):
        train(config, tmp_path / "other")


@pytest.mark.parametrize("yaml_text, overrides, expected", [
    ("optim: {lr: [1\n", [], "not valid YAML at line"),
    ("", [], "is empty"),
    ("model: {name: lmad}\n", ["optim.lr=abc"], "optim.lr must be a number"),
    ("model: {name: lmad}\n", ["optim.batch_size=0"], "optim.batch_size must be at least 1"),
    ("model: {name: lmad}\n", ["optim.epochs=0"], "optim.epochs must be at least 1"),
    ("model: {name: lmad}\n", ["optim.max_steps_per_epoch=0"], "optim.max_steps_per_epoch must be at least 1"),
    ("model: {name: lmad}\n", ["data.task=everything"], "data.task must be full, partial or both"),
])
def test_a_misconfigured_training_is_one_line_before_any_work(tmp_path, capsys, monkeypatch, yaml_text, overrides,
                                                              expected):
    import lmad.train
    from lmad.cli import main

    monkeypatch.setattr(lmad.train.trainer, "build_datasets", lambda config: pytest.fail("work started"))
    config = tmp_path / "c.yaml"
    config.write_text(yaml_text)
    args = ["train", "--config", str(config), "--out", str(tmp_path / "run")]
    for item in overrides:
        args += ["--set", item]
    assert main(args) == 2
    error = capsys.readouterr().err
    assert expected in error and error.count("\n") == 1 and "Traceback" not in error


def test_divergence_is_one_line_with_its_advice(tmp_path, capsys):
    from lmad.cli import main

    data = write_tiny_dataset(tmp_path / "data")
    config_file = tmp_path / "tiny.yaml"
    config = tiny_config(data, epochs=1)
    config.optim.lr = 1e30
    config_file.write_text(__import__("yaml").safe_dump(config.to_dict()))
    assert main(["train", "--config", str(config_file), "--out", str(tmp_path / "run")]) == 2
    error = capsys.readouterr().err
    assert "lower optim.lr" in error and error.count("\n") == 1


def test_a_run_folder_in_use_is_refused(tmp_path):
    fcntl = pytest.importorskip("fcntl")
    data = write_tiny_dataset(tmp_path / "data")
    run = tmp_path / "run"
    run.mkdir()
    with open(run / ".lock", "a+") as other_run:  # another training holds the folder
        fcntl.flock(other_run, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(Exception, match="in use by another training run"):
            train(tiny_config(data, epochs=1), run)
    assert not (run / "last").exists()
    train(tiny_config(data, epochs=1), run)  # free again once the other has finished
    assert (run / "last" / "model.safetensors").is_file()


def test_a_new_data_source_is_one_reader_and_one_registration(tmp_path, monkeypatch):
    from lmad.data import load_folder
    from lmad.data.sources import DATA_SOURCES, DataSource, read_split, register_data_source

    monkeypatch.setattr("lmad.data.sources.DATA_SOURCES", dict(DATA_SOURCES))
    write_tiny_dataset(tmp_path / "lab" / "scans_v2")

    def read_lab_scans(root, split, task, options):  # this lab keeps its splits one folder down
        return load_folder(root / "scans_v2", split, options["skip_bad"], options["augment"], options["seed"])

    register_data_source(DataSource("lab_scans", "our lab's scans", read_lab_scans,
                                    lambda root: (root / "scans_v2").is_dir()))
    assert len(read_split("lab_scans", tmp_path / "lab", "val")) == 2
    config = tiny_config(tmp_path / "lab", epochs=1)
    config.data.source = "lab_scans"
    assert train(config, tmp_path / "run")["global_step"] == 4
    from lmad.data.sources import recognise_source

    assert recognise_source(tmp_path / "lab") == "lab_scans"
    with pytest.raises(Exception, match="data.source must be one of"):
        TrainConfig.from_dict({"data": {"source": "nowhere"}})


def test_weight_average_is_what_best_holds_and_resumes_exactly(tmp_path):
    data = write_tiny_dataset(tmp_path / "data")
    config = tiny_config(data, epochs=2, ema=0.5)
    config.run.eval_every = 2  # one validation, after the last step: best/ is the average then
    train(config, tmp_path / "full")
    trained = load_file(tmp_path / "full" / "last" / "model.safetensors")
    averaged = load_file(tmp_path / "full" / "best" / "model.safetensors")
    state = torch.load(tmp_path / "full" / "last" / "training_state.pt", weights_only=True)
    moved = [k for k in state["ema"] if not torch.equal(trained[k], averaged[k])]
    assert moved  # best/ holds the average, not the last weights
    assert all(torch.equal(averaged[k], state["ema"][k]) for k in state["ema"])
    train(config, tmp_path / "resumed", stop_after_steps=6)
    train(config, tmp_path / "resumed", resume=True)
    resumed = load_file(tmp_path / "resumed" / "best" / "model.safetensors")
    assert all(torch.equal(averaged[k], resumed[k]) for k in averaged)


def test_asking_each_object_a_sample_of_queries_trains_and_resumes_exactly(tmp_path):
    data = write_tiny_dataset(tmp_path / "data", absent=("left", "right"))  # 4 affordances, 2 in each cloud
    config = tiny_config(data, epochs=2)
    config.optim.queries_per_object = 1
    train(config, tmp_path / "full")
    train(config, tmp_path / "resumed", stop_after_steps=6)
    train(config, tmp_path / "resumed", resume=True)
    expected = load_file(tmp_path / "full" / "last" / "model.safetensors")
    resumed = load_file(tmp_path / "resumed" / "last" / "model.safetensors")
    assert all(torch.equal(expected[k], resumed[k]) for k in expected)
    config.optim.queries_per_object = 0
    train(config, tmp_path / "every")
    every = load_file(tmp_path / "every" / "last" / "model.safetensors")
    assert any(not torch.equal(expected[k], every[k]) for k in expected)  # the sample changed the steps
    config.model.overrides["objective"] = "cross_entropy"
    config.optim.queries_per_object = 2
    with pytest.raises(Exception, match="queries_per_object needs the bce_dice objective"):
        train(config, tmp_path / "ce")
