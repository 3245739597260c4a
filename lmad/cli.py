"""The ``lmad`` command line. Each subcommand imports what it needs only when it runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _cmd_info(args: argparse.Namespace) -> int:
    from lmad.info import collect_info, format_info

    print(format_info(collect_info()))
    return 0


def _cmd_convert(args: argparse.Namespace) -> int:
    from lmad.data import convert_affordancenet

    written = convert_affordancenet(args.root, args.out, task=args.task, splits=tuple(args.splits.split(",")),
                                    skip_bad=args.skip_bad)
    for split, count in written.items():
        print(f"{split}: {count} samples -> {args.out}/{split}/")
    return 0


def _cmd_models(args: argparse.Namespace) -> int:
    from lmad.models import describe_models

    for name, description in describe_models().items():
        print(f"{name:12s} {description}")
    return 0


def _cmd_average(args: argparse.Namespace) -> int:
    from lmad.checkpoints import average_checkpoints

    out = average_checkpoints(args.checkpoints, args.out)
    print(f"wrote {out}: the uniform average of {len(args.checkpoints)} checkpoints")
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from lmad.train import TrainConfig, train

    config = TrainConfig.from_file(args.config, args.set)
    out = args.out or str(Path("runs") / Path(args.config).stem)
    train(config, out, resume=args.resume)
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    import json

    import numpy as np

    from lmad.data import SYNONYM_QUERIES
    from lmad.data.sources import read_split, recognise_source
    from lmad.eval import evaluate_heatmap, evaluate_openad, summarise_seeds
    from lmad.models import LMAD
    from lmad.queries import parse_queries
    from lmad.runtime import choose_device

    device = choose_device(args.device)
    data = Path(args.data)
    source = args.source or recognise_source(data)
    dataset = read_split(source, data, args.split, args.task, skip_bad=args.skip_bad)
    if args.queries == "canonical":
        queries = list(dataset.class_names)
    elif args.queries == "synonyms":
        queries = list(SYNONYM_QUERIES)
    else:
        queries = parse_queries(args.queries)
    model = LMAD.from_pretrained(args.checkpoint, map_location=device)
    seeds = args.seeds
    report = {"checkpoint": str(args.checkpoint), "data": str(data), "task": args.task, "split": args.split,
              "queries": queries, "seeds": seeds, "protocol": args.protocol}
    if args.protocol == "openad":
        runs = [evaluate_openad(model, dataset, queries, device, args.batch_size, seed) for seed in seeds]
        report.update(summarise_seeds(runs))
        per_class = np.nanmean(np.stack([r["IoU"] for r in runs]), axis=0)
        report["per_class_IoU"] = dict(zip(dataset.class_names, [None if np.isnan(v) else float(v) for v in per_class]))
        binary_keys = [f"binary.{k}" for k in ("IoU", "AUC", "aIoU", "absent_positive_rate")]
        report["binary"] = {key.split(".")[1]: value for key, value in summarise_seeds(runs, binary_keys).items()}
        print("OpenAD protocol (one class per point, argmax over the class set):")
        for key in ("mIoU", "Acc", "mAcc"):
            print(f"  {key:5s} {100 * report[key]['mean']:6.2f} +- {100 * report[key]['std']:.2f}")
        print("  per-class IoU (NaN: empty union, counted as 0 in mIoU):")
        for name, value in report["per_class_IoU"].items():
            print(f"    {name:12s} {'nan' if value is None else f'{100 * value:6.2f}'}")
        print("per-label binary metrics (each affordance's own probability, per shape, mean over labels):")
        for key, value in report["binary"].items():
            print(f"  {key:20s} {100 * value['mean']:6.2f} +- {100 * value['std']:.2f}")
    else:
        runs = [evaluate_heatmap(model, dataset, queries, device, args.batch_size, seed) for seed in seeds]
        keys = ("AP", "AUC", "aIoU", "SIM", "MAE")
        report.update(summarise_seeds(runs, keys))
        for key in keys:
            print(f"{key:5s} {report[key]['mean']:.4f} +- {report[key]['std']:.4f}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
        print(f"wrote {args.json}")
    return 0


def _cmd_synth(args: argparse.Namespace) -> int:
    from lmad.data.synthetic import generate_dataset

    categories = args.categories.split(",") if args.categories else None
    stats = generate_dataset(args.out, args.train, args.val, args.seed, categories, args.balance, args.workers,
                             progress=not args.quiet)
    full = stats["splits"]["train"]["full"] if "train" in stats["splits"] else None
    print(f"wrote {args.out}: {args.train} train and {args.val} val shapes (+4 partial views each), "
          f"both 3D AffordanceNet layouts" + (f"; train none fraction {full['none_fraction']:.2f}" if full else ""))
    if args.preview:
        from lmad.data.synthetic import GENERATORS
        from lmad.viz.contact_sheet import synthetic_contact_sheet

        preview = synthetic_contact_sheet(Path(args.out) / "preview.png", categories or list(GENERATORS), args.seed)
        print(f"preview: {preview}")
    return 0


def _cmd_predict(args: argparse.Namespace) -> int:
    from lmad.predict import AffordanceDetector, parse_formats, predict_files
    from lmad.queries import parse_queries

    formats = parse_formats(args.format)
    queries = parse_queries(args.queries)
    detector = AffordanceDetector.from_pretrained(args.checkpoint, device=args.device, up_axis=args.up_axis,
                                                  threshold=args.threshold, exclusive=args.exclusive or None,
                                                  tta=args.tta,
                                                  **({"num_points": args.num_points} if args.num_points else {}))
    report = predict_files(detector, args.paths, queries, args.out, formats, args.batch_size, args.attention)
    for note in report.notes:
        print(f"note: {note}")
    print(f"{report.scored} of {len(report.inputs)} files scored for {', '.join(queries)}; outputs in {args.out}/")
    for path, reason in report.failures:
        print(f"failed: {path}: {reason}", file=sys.stderr)
    return 1 if report.failures else 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from lmad.examples import FOLDER as examples
    from lmad.examples import manifest as example_manifest
    from lmad.predict import AffordanceDetector, predict_files

    manifest = example_manifest()
    detector = AffordanceDetector.from_pretrained(args.checkpoint, device=args.device)
    out = Path(args.out)
    for name, entry in manifest.items():
        detector.up_axis = entry.get("up_axis", "y")
        report = predict_files(detector, [examples / name], entry["queries"], out, ["png", "html", "npz", "json"],
                               1, attention=detector.model.config.architecture == "aqm", progress=False)
        if report.failures:
            raise ValueError(f"demo example {name} failed: {report.failures[0][1]}")
        summary = report.summaries[str(examples / name)]["queries"]
        share = ", ".join(f"{q} {v['fraction']:.0%}" for q, v in summary.items())
        print(f"{name:16s} -> {out / Path(name).stem}.png / .html   ({share})")
    from lmad.viz.contact_sheet import image_grid

    overview = image_grid([out / f"{Path(name).stem}.png" for name in manifest], out / "overview.png")
    print(f"all four in one picture: {overview}")
    print(f"open {out}/*.html in a browser to rotate the objects and switch between heat maps")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    import os

    from lmad.predict import AffordanceDetector
    from lmad.serve import TOKEN_ENVIRONMENT, check_binding, serve

    token = args.token or os.environ.get(TOKEN_ENVIRONMENT) or None
    check_binding(args.host, token)  # before the model loads
    detector = AffordanceDetector.from_pretrained(args.checkpoint, device=args.device)
    serve(detector, args.host, args.port, token, serve_limits(args), model_processes=args.model_processes)
    return 0


def serve_limits(args: argparse.Namespace):
    """The ServeLimits that `lmad serve`'s options ask for."""
    from lmad.serve import ServeLimits

    return ServeLimits(max_body_bytes=args.max_body_mb * 1024 * 1024, max_points=args.max_points,
                       max_queries=args.max_queries, max_batch=args.max_batch, max_wait_ms=args.max_wait_ms,
                       max_queue=args.max_queue)


def _whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def _positive_int(text: str) -> int:
    value = _whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {text}")
    return value


def _non_negative_int(text: str) -> int:
    value = _whole_number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or a positive whole number, got {text}")
    return value


def _seed_list(text: str) -> list[int]:
    """``"0,1,2"`` -> [0, 1, 2]; anything else is refused by the parser, naming the flag."""
    try:
        seeds = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        seeds = []
    if not seeds or min(seeds) < 0:
        raise argparse.ArgumentTypeError(f"expected comma-separated whole numbers >= 0 such as 0,1,2, got {text!r}")
    return seeds


def _non_negative(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {text}")
    return value


def _probability(text: str) -> float:
    value = float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be strictly between 0 and 1, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    from lmad import __version__
    from lmad.predict import DEFAULT_VIEWS

    parser = argparse.ArgumentParser(
        prog="lmad",
        description="Language-conditioned 3D affordance detection (LM-AD).",
    )
    parser.add_argument("--version", action="version", version=f"lmad {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    info = sub.add_parser("info", help="versions, device, optional parts, where the language model is")
    info.set_defaults(func=_cmd_info)

    models = sub.add_parser("models", help="list the model variants build_model() knows")
    models.set_defaults(func=_cmd_models)

    convert = sub.add_parser("convert", help="convert 3D AffordanceNet files (either layout) to lmad's folder format")
    convert.add_argument("root", help="folder with the 3D AffordanceNet .pkl files")
    convert.add_argument("--out", required=True, help="output folder (gets <split>/ sub-folders of .npz)")
    convert.add_argument("--task", choices=["full", "partial"], default="full")
    convert.add_argument("--splits", default="train,val", help="comma-separated splits (default: train,val)")
    convert.add_argument("--skip-bad", action="store_true", help="skip malformed samples (reported) instead of stopping")
    convert.set_defaults(func=_cmd_convert)

    synth = sub.add_parser("synth", help="generate the procedural affordance dataset (both 3D AffordanceNet layouts)")
    synth.add_argument("--out", required=True, help="output folder")
    synth.add_argument("--train", type=_positive_int, default=2000, help="training shapes (default 2000)")
    synth.add_argument("--val", type=_positive_int, default=400, help="validation shapes (default 400)")
    synth.add_argument("--seed", type=_non_negative_int, default=0, help="generator seed (default 0)")
    synth.add_argument("--categories",
                       help="comma-separated subset of the categories (default: all; an unknown name is refused "
                            "with the list)")
    synth.add_argument("--balance", choices=["real", "uniform"], default="real",
                       help="category shares: 3D AffordanceNet's frequencies (with a floor) or equal")
    synth.add_argument("--workers", type=_positive_int, help="processes (default: all cores)")
    synth.add_argument("--preview", action="store_true", help="also write preview.png, one object per category")
    synth.add_argument("--quiet", action="store_true", help="no progress bar")
    synth.set_defaults(func=_cmd_synth)

    predict = sub.add_parser("predict", help="score your own point clouds or meshes against free-text queries")
    predict.add_argument("paths", nargs="+", help="files or folders (searched recursively)")
    predict.add_argument("--queries", required=True, help='comma-separated, e.g. "grasp,pour,where to sit"')
    predict.add_argument("--threshold", type=_probability, default=0.5,
                         help="a query's region: points whose probability reaches this (default 0.5)")
    predict.add_argument("--tta", type=_positive_int, default=DEFAULT_VIEWS,
                         help=f"test-time views: average this many per object (turned about the up axis, other "
                              f"sampling starts; default {DEFAULT_VIEWS}); 1 is the fastest")
    predict.add_argument("--exclusive", action="store_true",
                         help="one class per point: a softmax over the queries plus 'none' (OpenAD's benchmark form)")
    predict.add_argument("--out", required=True, help="output folder")
    predict.add_argument("--checkpoint", help="checkpoint folder (default: the model shipped with lmad)")
    predict.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                         help="default: cuda when available")
    predict.add_argument("--batch-size", type=_positive_int, default=8, help="clouds per forward pass")
    from lmad.predict.outputs import DEFAULT_FORMATS, OUTPUT_FORMATS

    predict.add_argument("--format", default=",".join(DEFAULT_FORMATS),
                         help=f"comma-separated output formats (default {','.join(DEFAULT_FORMATS)}): "
                              + "; ".join(f"{name}: {fmt.description}" for name, fmt in OUTPUT_FORMATS.items()))
    predict.add_argument("--attention", action="store_true", help="save each query's AQM attention over the points")
    predict.add_argument("--num-points", type=_positive_int,
                         help="points the model sees per object (default: the checkpoint's)")
    predict.add_argument("--up-axis", default="y", choices=["y", "z", "-z", "x", "-y"],
                         help="which input axis points up (the model expects y; robot meshes are often z)")
    predict.set_defaults(func=_cmd_predict)

    demo = sub.add_parser("demo", help="run the shipped model on the example objects, write PNG and HTML")
    demo.add_argument("--out", default="lmad-demo", help="output folder (default: lmad-demo)")
    demo.add_argument("--checkpoint", help="checkpoint folder (default: the model shipped with lmad)")
    demo.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    demo.set_defaults(func=_cmd_demo)

    service = sub.add_parser("serve", help="serve the model over HTTP: a page at /, POST /predict; needs lmad[serve]")
    service.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback; others need a token)")
    service.add_argument("--port", type=_positive_int, default=8000)
    service.add_argument("--token", help="bearer token clients must send (default: $LMAD_SERVE_TOKEN)")
    service.add_argument("--checkpoint", help="checkpoint folder (default: the model shipped with lmad)")
    service.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    service.add_argument("--max-batch", type=_positive_int, default=8, help="clouds per forward pass (default 8)")
    service.add_argument("--max-wait-ms", type=_non_negative, default=10.0,
                         help="how long a batch waits for requests still being read or prepared (default 10)")
    service.add_argument("--max-queue", type=_positive_int, default=64, help="waiting requests before 503 (default 64)")
    service.add_argument("--max-points", type=_positive_int, default=2_000_000, help="points per request")
    service.add_argument("--max-queries", type=_positive_int, default=32, help="queries per request")
    service.add_argument("--max-body-mb", type=_positive_int, default=64, help="request body size in MiB")
    service.add_argument("--model-processes", type=_non_negative_int, default=2,
                         help="processes running the forward passes, one batch each at a time (default 2; "
                              "0: in a thread of the server)")
    service.set_defaults(func=_cmd_serve)

    train = sub.add_parser("train", help="train a model from a config (torchrun for several GPUs)")
    train.add_argument("--config", required=True, help="YAML file, e.g. configs/lmad_full.yaml")
    train.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                       help="override a config value, e.g. --set optim.epochs=50 (repeatable)")
    train.add_argument("--out", help="run folder (default: runs/<config name>)")
    train.add_argument("--resume", action="store_true", help="continue from <out>/last")
    train.set_defaults(func=_cmd_train)

    average = sub.add_parser("average", help="average the weights of checkpoints of one model (a model soup)")
    average.add_argument("checkpoints", nargs="+", help="checkpoint folders of one model, e.g. runs/seed*/last")
    average.add_argument("--out", required=True, help="folder for the averaged checkpoint")
    average.set_defaults(func=_cmd_average)

    evaluate = sub.add_parser("eval", help="evaluate a checkpoint under the OpenAD or heat-map protocol")
    evaluate.add_argument("--checkpoint", required=True, help="checkpoint folder (config.json + model.safetensors)")
    evaluate.add_argument("--data", required=True, help="3D AffordanceNet folder (.pkl) or lmad folder format")
    evaluate.add_argument("--task", choices=["full", "partial"], default="full")
    evaluate.add_argument("--source", help="the dataset's kind (default: recognised from the folder; "
                                           "lmad.data.sources.DATA_SOURCES)")
    evaluate.add_argument("--split", default="val")
    evaluate.add_argument("--queries", default="canonical",
                          help="canonical | synonyms | a comma-separated list, one per class in order")
    evaluate.add_argument("--seeds", type=_seed_list, default=[0], help="comma-separated evaluation seeds (FPS starts), e.g. 0,1,2")
    evaluate.add_argument("--protocol", choices=["openad", "heatmap"], default="openad")
    evaluate.add_argument("--batch-size", type=_positive_int, default=16)
    evaluate.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    evaluate.add_argument("--skip-bad", action="store_true", help="skip malformed samples (reported)")
    evaluate.add_argument("--json", help="also write the results to this JSON file")
    evaluate.set_defaults(func=_cmd_eval)
    return parser


def _join_dash_values(argv: list[str]) -> list[str]:
    """``--up-axis -y`` -> ``--up-axis=-y`` (argparse would read ``-y`` as an option)."""
    joined, i = [], 0
    while i < len(argv):
        if argv[i] == "--up-axis" and i + 1 < len(argv) and argv[i + 1].startswith("-"):
            joined.append(f"--up-axis={argv[i + 1]}")
            i += 2
        else:
            joined.append(argv[i])
            i += 1
    return joined


def main(argv: list[str] | None = None) -> int:
    from lmad.errors import LMADError

    parser = build_parser()
    args = parser.parse_args(_join_dash_values(list(sys.argv[1:] if argv is None else argv)))
    if not hasattr(args, "func"):
        parser.print_help()
        return 0
    try:
        return args.func(args)
    except KeyboardInterrupt:
        hint = " (the last checkpoint is kept: continue with --resume)" if args.command == "train" else ""
        print(f"lmad {args.command}: interrupted{hint}", file=sys.stderr)
        return 130
    except (LMADError, ValueError, OSError) as error:
        # errors lmad raises for bad input say what to do; no traceback for them (OSError: a
        # missing, unreadable or unwritable path, said by the system)
        print(f"lmad {args.command}: error: {error}", file=sys.stderr)
        return 2


def console_main() -> int:
    """The ``lmad`` command: ``main`` in a process set up for lmad's work.

    Two settings must be in the environment when a process starts, so the command restarts
    itself once with them (on Linux; a setting already in the environment is kept):

    - ``GOMP_SPINCOUNT=4000`` (every command, unless ``OMP_WAIT_POLICY`` is set): OpenMP worker
      threads spin briefly between parallel regions, then sleep. With libgomp's default (300,000
      spins) the many small ops of a backbone forward each waited for a worker that another
      process had descheduled (docs/performance.md, "Busy machines"). In your own Python
      process, set it in the environment before torch is imported.
    - glibc keeping freed memory (``lmad train`` only; ``LMAD_ALLOCATOR=system`` keeps the
      system's behaviour): big blocks are otherwise handed back to the kernel when freed, and
      every training step page-faults its way through them again. Not for the other commands:
      a service's resident size would stay at its peak.
    """
    import os

    if sys.platform.startswith("linux"):
        wanted = {} if "OMP_WAIT_POLICY" in os.environ else dict(THREAD_ENVIRONMENT)
        if len(sys.argv) > 1 and sys.argv[1] == "train" and os.environ.get("LMAD_ALLOCATOR", "keep") != "system":
            wanted.update(ALLOCATOR_ENVIRONMENT)
        missing = {k: v for k, v in wanted.items() if k not in os.environ}
        if missing:
            try:
                os.execve(sys.executable, [sys.executable, "-m", "lmad", *sys.argv[1:]], {**os.environ, **missing})
            except OSError:
                pass  # carry on as we are
    return main()


THREAD_ENVIRONMENT = {"GOMP_SPINCOUNT": "4000"}
# glibc malloc: large blocks from the heap (not a fresh mmap each time), and no trimming
ALLOCATOR_ENVIRONMENT = {"MALLOC_MMAP_THRESHOLD_": str(1 << 32), "MALLOC_TRIM_THRESHOLD_": str(1 << 36),
                         "MALLOC_TOP_PAD_": str(1 << 28)}


if __name__ == "__main__":
    sys.exit(main())
