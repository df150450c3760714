"""Entry point of the ``mmplug`` command.

Command modules are imported to build ``--help``; they must not import torch or
model code at module level (they import what they need inside ``run``).
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from mmplug.core.errors import MmplugError

#: Command modules in mmplug.core.cli, in the order ``--help`` lists them.
COMMANDS = ("ask", "chat", "train", "plugins", "validate", "schema", "probe", "convert", "doctor")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mmplug",
        description="mmplug: a modular multimodal plugin framework for video/image language models.",
    )
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"mmplug.core.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"mmplug.core.cli.{name}":
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return int(handler(args) or 0)
    except MmplugError as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - one readable line unless --debug
        if args.debug:
            raise
        print(f"error: unexpected {type(exc).__name__}: {exc} (rerun with --debug for the traceback)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
