"""``mmplug chat``: an interactive multi-turn session about videos/images."""
from __future__ import annotations

import argparse
import sys

from mmplug.core.cli.model_args import add_model_arguments, generation_options, load_pipeline

HELP = "commands: /video PATH, /image PATH (attach to your next question), /reset, /exit"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("chat", help="interactive multi-turn chat",
                                   description="Chat about videos/images; media given with --video/--image "
                                               f"join the first question. {HELP}.")
    add_model_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    pipe = load_pipeline(args)
    chat = pipe.chat(**generation_options(args))
    videos, images = list(args.video), list(args.image)
    interactive = sys.stdin.isatty()
    if interactive:
        print(HELP, file=sys.stderr)
    while True:
        if interactive:
            print("you> ", end="", flush=True, file=sys.stderr)
        line = sys.stdin.readline()
        if not line:
            return 0
        line = line.strip()
        if not line:
            continue
        if line in ("/exit", "/quit"):
            return 0
        if line == "/reset":
            chat.reset()
            continue
        if line.startswith(("/video ", "/image ")):
            (videos if line.startswith("/video") else images).append(line.split(" ", 1)[1].strip())
            continue
        for piece in chat.stream(line, videos=videos or None, images=images or None):
            print(piece, end="", flush=True)
        print(flush=True)
        videos, images = [], []
