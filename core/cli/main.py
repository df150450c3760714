"""Entry point of the ``mmplug`` command.

Command modules are imported to build ``--help``; they must not import torch or
model code at module level (they import what they need inside ``run``).
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Sequence

from mmplug.core.errors import MmplugError

#: Command modules in mmplug.core.cli, in the order ``--help`` lists them.
COMMANDS = ("ask", "chat", "train", "plugins", "validate", "schema", "probe", "convert", "doctor")

#: Exit status when the reader of stdout went away (``mmplug plugins | head -1``): 128 + SIGPIPE,
#: what a shell reports for a command that a closed pipe stopped.
BROKEN_PIPE = 141

DEBUG_HELP = "show full tracebacks on errors"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mmplug",
        description="mmplug: a modular multimodal plugin framework for video/image language models.",
    )
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"mmplug.core.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"mmplug.core.cli.{name}":
                raise
            continue
        module.register(subparsers)
    for command in subparsers.choices.values():
        # also after the command name; SUPPRESS keeps a --debug given before it
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP)
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
    except BrokenPipeError:
        return _reader_went_away()
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


def _reader_went_away() -> int:
    """Stop quietly, as other command-line tools do when their output pipe closes: what is
    still buffered for stdout goes nowhere (Python would otherwise complain at exit)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # stdout without a file descriptor (captured in tests)
        pass
    return BROKEN_PIPE


if __name__ == "__main__":
    sys.exit(main())
