"""``mmplug ask``: answer one question about videos/images and exit (streams the answer)."""
from __future__ import annotations

import argparse
import json

from mmplug.core.cli.media_args import require_files
from mmplug.core.cli.model_args import add_model_arguments, generation_options, load_pipeline


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("ask", help="answer a question about videos/images",
                                   description="Answer one question and exit, streaming the answer.")
    add_model_arguments(parser)
    parser.add_argument("question")
    parser.add_argument("--json", action="store_true", help="print text, token ids and timings as JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    require_files(args.video + args.image)  # before the model loads
    pipe = load_pipeline(args)
    media = {"videos": args.video or None, "images": args.image or None}
    if args.json:
        out = pipe.generate(args.question, **media, **generation_options(args))
        print(json.dumps({"text": out.text, "token_ids": out.token_ids, "finish_reason": out.finish_reason,
                          "timings": out.timings}, indent=2))
        return 0
    for piece in pipe.stream(args.question, **media, **generation_options(args)):
        print(piece, end="", flush=True)
    print()
    return 0
