"""Procedural validation metrics of a checkpoint, the README's validation table.

    python benchmarks/validation_table.py --checkpoint lmad/checkpoints/default --label "shipped"
    python benchmarks/validation_table.py --checkpoint runs/old --label "previous model"
    python benchmarks/validation_table.py --readme       # the table from benchmarks/results/validation.json
    python benchmarks/validation_table.py --readme --labels "shipped,OpenAD-style" --readme-table same-recipe-table

Runs ``lmad eval`` (OpenAD protocol, evaluation seed 0) on the procedural val split for full
shapes and partial views, with the canonical names and with OpenAD's synonyms: four runs, a few
minutes each on 2 cores. Each run's own JSON is kept in ``runs/validation/<label>/`` and reused
when it is of the same checkpoint and data (``--again`` runs it anew); the figures go to
``benchmarks/results/validation.json`` under the label, and ``--readme`` writes one row per
(split, queries, label) between the README's ``validation-table`` markers (``--labels`` picks
and orders the runs, ``--readme-table`` names other markers).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from functools import reduce
from pathlib import Path

from generated_tables import write_table

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "validation.json"
SETTINGS = [("full", "canonical", "full shapes, canonical names"),
            ("partial", "canonical", "partial views, canonical names"),
            ("full", "synonyms", "full shapes, OpenAD's synonyms"),
            ("partial", "synonyms", "partial views, OpenAD's synonyms")]
# column -> where `lmad eval --json` keeps its mean (dotted path)
COLUMNS = {"mIoU": "mIoU", "Acc": "Acc", "mAcc": "mAcc",
           "label IoU": "binary.IoU", "label AUC": "binary.AUC", "label aIoU": "binary.aIoU"}


def evaluate(checkpoint: str, label: str, data: str, again: bool) -> dict:
    """The four ``lmad eval`` runs of one checkpoint -> {setting name: {column: percent}}."""
    folder = ROOT / "runs" / "validation" / re.sub(r"[^A-Za-z0-9_.-]+", "_", label)
    folder.mkdir(parents=True, exist_ok=True)
    figures = {}
    for task, queries, name in SETTINGS:
        path = folder / f"{task}_{queries}.json"
        saved = json.loads(path.read_text()) if path.exists() and not again else {}
        same_run = all(Path(saved.get(k, "")).resolve() == Path(v).resolve()
                       for k, v in (("checkpoint", checkpoint), ("data", data)))
        if not same_run:
            print(f"lmad eval {checkpoint}: {name}", flush=True)
            subprocess.run([sys.executable, "-m", "lmad", "eval", "--checkpoint", checkpoint, "--data", data,
                            "--task", task, "--queries", queries, "--seeds", "0", "--json", str(path)],
                           check=True, stdout=subprocess.DEVNULL)
        result = json.loads(path.read_text())
        figures[name] = {column: 100 * reduce(dict.__getitem__, key.split("."), result)["mean"]
                         for column, key in COLUMNS.items()}
    return figures


def readme_table(runs: dict) -> str:
    lines = ["| procedural val split | model | " + " | ".join(COLUMNS) + " |",
             "|---|---|" + "---|" * len(COLUMNS)]
    for _, _, name in SETTINGS:
        for label, figures in runs.items():
            if name in figures:
                values = " | ".join(f"{figures[name][c]:.2f}" for c in COLUMNS)
                lines.append(f"| {name} | {label} | {values} |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoint", help="checkpoint folder to evaluate")
    parser.add_argument("--label", help="its name in the results and the table")
    parser.add_argument("--data", default=str(ROOT / "data" / "synthetic"), help="the procedural dataset (lmad synth)")
    parser.add_argument("--again", action="store_true", help="run the evaluations even when their JSON exists")
    parser.add_argument("--readme", action="store_true", help="write the README table from the saved results")
    parser.add_argument("--readme-table", default="validation-table", help="the README markers to write between")
    parser.add_argument("--labels", help="comma-separated runs for the table, in order (default: all)")
    args = parser.parse_args(argv)
    saved = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"runs": {}}
    if args.checkpoint:
        if not args.label:
            parser.error("--checkpoint needs --label")
        if not Path(args.data).exists():
            sys.exit(f"no dataset at {args.data}: make it with the `lmad synth` command of "
                     "configs/default_model_cpu.yaml")
        saved["runs"][args.label] = evaluate(args.checkpoint, args.label, args.data, args.again)
        RESULTS.write_text(json.dumps(saved, indent=1) + "\n")
        print(f"wrote {RESULTS}")
    runs = saved["runs"]
    if args.labels:
        missing = [label for label in args.labels.split(",") if label not in runs]
        if missing:
            sys.exit(f"no saved results for {missing}; saved: {sorted(runs)}")
        runs = {label: runs[label] for label in args.labels.split(",")}
    table = readme_table(runs)
    print(table)
    if args.readme:
        write_table(args.readme_table, table)


if __name__ == "__main__":
    main()
