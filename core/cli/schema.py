"""``mmplug schema``: the JSON Schema of pipeline configs for the plugins installed now."""
from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("schema", help="print the config JSON Schema",
                                   description="Print the JSON Schema of pipeline config files for the "
                                               "plugins installed now (for editor completion and checks).")
    parser.add_argument("--output", "-o", help="write to this file instead of stdout")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from mmplug.core.schema import pipeline_schema

    text = json.dumps(pipeline_schema(), indent=2)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    else:
        print(text)
    return 0
