"""The ``lmad`` command line. Each subcommand imports what it needs only when it runs."""

from __future__ import annotations

import argparse
import sys


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


def build_parser() -> argparse.ArgumentParser:
    from lmad import __version__

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
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 0
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError) as error:
        # errors lmad raises for bad input say what to do; no traceback for them
        print(f"lmad {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
