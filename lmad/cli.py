"""The ``lmad`` command line. Each subcommand imports what it needs only when it runs."""

from __future__ import annotations

import argparse
import sys


def _cmd_info(args: argparse.Namespace) -> int:
    from lmad.info import collect_info, format_info

    print(format_info(collect_info()))
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
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 0
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
