"""LM-AD against its ablations and the OpenAD-style baseline, side by side, on the procedural benchmark.

    python benchmarks/accuracy.py --quick          # 2 CPU cores, about 70 minutes
    python benchmarks/accuracy.py                  # the full budget, for a GPU
    python benchmarks/accuracy.py --quick --models lmad@cross_entropy,lmad@bce_dice --merge

Same data, seeds and training budget (optimizer steps) for every row; a row is a model of
available_models(), optionally with ``@objective`` (cross_entropy | bce_dice), ``@head``
(per_query | pooled) and ``@paraphrases`` (30 % of the training queries asked by a paraphrase,
``data.paraphrases``; OpenAD's synonyms, the test, are not among them). Full shapes and
partial views; canonical and synonym queries; the OpenAD protocol (mIoU / Acc / mAcc) and the
per-label binary metrics (IoU of p >= 0.5, AUC, aIoU), as mean +- std over seeds. Writes
benchmarks/results/accuracy.json
({task: {row: {"mIoU": {"mean", "std"}, ...}}}, task in full, partial, full_synonyms,
partial_synonyms; ``--merge`` keeps the rows already there) and the README's results table
between its markers.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from lmad.data import SYNONYM_QUERIES, load_affordancenet
from lmad.eval import evaluate_openad, summarise_seeds
from lmad.models import available_models
from lmad.train import TrainConfig, train
from generated_tables import write_table  # benchmarks/, beside this script

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"

# OpenAD's lr 1e-3 for every model, with gradient clipping (without it LM-AD collapsed, see README)
BUDGETS = {  # shapes generated, points per cloud, optimizer steps, batch, backbone, learning rate
    "quick": {"train": 600, "val": 100, "num_points": 512, "steps": 150, "batch": 16, "backbone": "lite",
              "lr": 1e-3},
    "full": {"train": 4000, "val": 500, "num_points": 2048, "steps": 20000, "batch": 16, "backbone": "default",
             "lr": 1e-3},
}


METRICS = ("mIoU", "Acc", "mAcc", "binary.IoU", "binary.AUC", "binary.aIoU")


PARAPHRASE_CHANCE = 0.3  # as configs/default_model_cpu.yaml


def parse_row(row: str) -> tuple[str, dict, float]:
    """``lmad@bce_dice@pooled@paraphrases`` -> ("lmad", {"objective": "bce_dice", "head": "pooled"}, 0.3)."""
    model, *options = row.split("@")
    overrides, paraphrases = {}, 0.0
    for option in options:
        if option == "paraphrases":
            paraphrases = PARAPHRASE_CHANCE
        else:
            overrides["head" if option in ("per_query", "pooled") else "objective"] = option
    return model, overrides, paraphrases


def run(row: str, task: str, seed: int, data: Path, budget: dict, out: Path):
    # epochs of at most 50 steps (full batches only), as many as the step budget needs
    steps_per_epoch = min(50, len(load_affordancenet(data, task, "train")) // budget["batch"])
    epochs = max(1, round(budget["steps"] / steps_per_epoch))
    model, overrides, paraphrases = parse_row(row)
    config = TrainConfig.from_dict({
        "model": {"name": model, "overrides": {"backbone": budget["backbone"], **overrides}},
        "data": {"source": "synthetic", "root": str(data), "task": task, "num_points": budget["num_points"],
                 "augment": {"rotate_up": True, "scale": [0.85, 1.15]}, "paraphrases": paraphrases},
        "optim": {"lr": budget["lr"], "grad_clip_norm": 1.0, "batch_size": budget["batch"], "epochs": epochs,
                  "max_steps_per_epoch": steps_per_epoch, "lr_step_epochs": max(1, epochs // 2)},
        "run": {"seed": seed, "eval_every": 10_000, "progress": False},
    })
    torch.manual_seed(seed)
    train(config, out)
    from lmad.models import LMAD

    checkpoint = out / "best" if (out / "best").exists() else out / "last"
    trained = LMAD.from_pretrained(checkpoint)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    val = load_affordancenet(data, task, "val")
    return {queries: evaluate_openad(trained.to(device), val, list(val.class_names) if queries == "canonical"
                                     else list(SYNONYM_QUERIES), device, 32, seed)
            for queries in ("canonical", "synonyms")}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="the 2-core CPU budget")
    parser.add_argument("--data", help="a procedural dataset folder (default: generated for the budget)")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--models", default=",".join(available_models()),
                        help="comma-separated rows: model[@objective][@head], e.g. lmad@bce_dice,openad@cross_entropy")
    parser.add_argument("--merge", action="store_true", help="keep the rows already in the results file")
    parser.add_argument("--results", default=str(RESULTS / "accuracy.json"), help="the results file")
    parser.add_argument("--table-only", action="store_true", help="only (re)write the table from the results file")
    parser.add_argument("--tasks", default="full,partial")
    parser.add_argument("--steps", type=int, help="override the budget's optimizer steps")
    parser.add_argument("--lr", type=float, help="override the budget's learning rate")
    parser.add_argument("--no-readme", action="store_true", help="print the table, leave README.md alone")
    parser.add_argument("--readme-table", default="accuracy-table",
                        help="which README table (between <!-- NAME:start/end --> markers) to write")
    args = parser.parse_args(argv)
    if args.table_only:
        payload = json.loads(Path(args.results).read_text())
        results = {k: v for k, v in payload.items() if k not in ("budget", "seeds", "seconds")}
        table = markdown_table(results, payload["budget"], payload["seeds"])
        print(table)
        if not args.no_readme:
            write_table(args.readme_table, table)
        return
    budget = dict(BUDGETS["quick" if args.quick else "full"])
    if args.steps:
        budget["steps"] = args.steps
    if args.lr:
        budget["lr"] = args.lr
    seeds = [int(s) for s in args.seeds.split(",")]
    models, tasks = args.models.split(","), args.tasks.split(",")
    work = Path(tempfile.mkdtemp(prefix="lmad-accuracy-"))
    data = Path(args.data) if args.data else work / "data"
    if not args.data:
        from lmad.data.synthetic import generate_dataset

        generate_dataset(data, budget["train"], budget["val"], seed=1234, balance="uniform", progress=False)
    print(f"budget {budget}, seeds {seeds}, data {data}")
    path = Path(args.results)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"budget": budget, "seeds": seeds, "seconds": {}}
    if args.merge and path.exists():
        payload = json.loads(path.read_text())
        if payload["budget"] != budget or payload["seeds"] != seeds:
            raise SystemExit(f"--merge: {path} was made with budget {payload['budget']} and seeds {payload['seeds']}")
        if not isinstance(payload.get("seconds"), dict):
            payload["seconds"] = {"earlier rows": payload.get("seconds")}
    started = time.time()
    for task in tasks:
        for model in models:
            runs = []
            for seed in seeds:
                runs.append(run(model, task, seed, data, budget, work / f"{task}-{model}-{seed}"))
                print(f"{task:8s} {model:10s} seed {seed}: mIoU {100 * runs[-1]['canonical']['mIoU']:.2f} "
                      f"(synonyms {100 * runs[-1]['synonyms']['mIoU']:.2f})  [{time.time() - started:.0f} s]", flush=True)
            for queries, suffix in (("canonical", ""), ("synonyms", "_synonyms")):
                summary = summarise_seeds([r[queries] for r in runs], METRICS)
                payload.setdefault(task + suffix, {})[model] = {k: {"mean": v["mean"], "std": v["std"]}
                                                               for k, v in summary.items()}
            payload["seconds"][",".join(models)] = round(time.time() - started)
            path.write_text(json.dumps(payload, indent=2))  # after every row: an interrupted run keeps its rows
    results = {k: v for k, v in payload.items() if k not in ("budget", "seeds", "seconds")}
    table = markdown_table(results, budget, seeds)
    print(table)
    if not args.no_readme:
        write_table(args.readme_table, table)


def markdown_table(results: dict, budget: dict, seeds) -> str:
    tasks = [t for t in ("full", "partial", "full_synonyms", "partial_synonyms") if t in results]
    canonical = [t for t in tasks if not t.endswith("_synonyms")]
    header = ("| model | " + " | ".join(f"{t} mIoU" for t in tasks) + " | "
              + " | ".join(f"{t} Acc / mAcc" for t in canonical) + " | "
              + " | ".join(f"{t} label IoU / AUC / aIoU" for t in canonical) + " |")
    lines = [f"Procedural benchmark, val split, mean +- std over seeds {seeds}; budget: "
             f"{budget['steps']} steps of {budget['batch']} clouds, {budget['num_points']} points, "
             f"{budget['backbone']} backbone (generated by `benchmarks/accuracy.py`). mIoU, Acc, mAcc: OpenAD "
             "protocol; label IoU / AUC / aIoU: per (shape, affordance), each affordance's own probability "
             "(rows without them were measured before these metrics existed; synonym-query label metrics are in "
             "`benchmarks/results/accuracy.json`).", "", header,
             "|---" * (1 + len(tasks) + 2 * len(canonical)) + "|"]

    def cell(entry, *keys):
        if any(key not in entry for key in keys):
            return "-"
        return " / ".join(f"{100 * entry[key]['mean']:.1f}" for key in keys)

    models = list(dict.fromkeys(model for t in tasks for model in results[t]))
    for model in models:
        rows = {t: results[t].get(model, {}) for t in tasks}
        cells = [f"{100 * rows[t]['mIoU']['mean']:.1f} +- {100 * rows[t]['mIoU']['std']:.1f}" if rows[t] else "-"
                 for t in tasks]
        cells += [cell(rows[t], "Acc", "mAcc") for t in canonical]
        cells += [cell(rows[t], "binary.IoU", "binary.AUC", "binary.aIoU") for t in canonical]
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()
