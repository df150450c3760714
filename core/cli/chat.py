"""``mmplug chat``: an interactive multi-turn session about videos/images.

Lines starting with ``/`` are commands, checked when typed; media are decoded when attached.
A turn that fails prints its error and the session goes on (the conversation as before it).
"""
from __future__ import annotations

import argparse
import difflib
import sys
import traceback
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

from mmplug.core.cli.media_args import decode_now, require_files
from mmplug.core.cli.model_args import add_model_arguments, generation_options, load_pipeline
from mmplug.core.errors import MmplugError

#: Command -> what it takes ("" for nothing).
COMMANDS = {"/video": "PATH", "/image": "PATH", "/reset": "", "/exit": "", "/quit": ""}
HELP = ("commands: /video PATH, /image PATH (attach to your next question), /reset, /exit; "
        "begin a question with // to start it with /")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("chat", help="interactive multi-turn chat",
                                   description="Chat about videos/images; media given with --video/--image "
                                               f"join the first question. {HELP}.")
    add_model_arguments(parser)
    parser.set_defaults(handler=run)


@dataclass
class Attached:
    """Decoded media waiting for the next question."""

    videos: list[Any] = field(default_factory=list)
    images: list[Any] = field(default_factory=list)

    def add(self, pipe: Any, kind: str, path: str) -> None:
        (self.videos if kind == "video" else self.images).append(decode_now(pipe, kind, path))

    def media(self) -> dict[str, Any]:
        return {"videos": self.videos or None, "images": self.images or None}

    def count(self) -> int:
        return len(self.videos) + len(self.images)


def run(args: argparse.Namespace) -> int:
    require_files(args.video + args.image)
    pipe = load_pipeline(args)
    chat = pipe.chat(**generation_options(args))
    attached = Attached()
    for kind, paths in (("video", args.video), ("image", args.image)):
        for path in paths:
            attached.add(pipe, kind, path)
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
        debug = getattr(args, "debug", False)
        if line.startswith("/") and not line.startswith("//"):
            try:
                if command(line, pipe, chat, attached):
                    return 0
            except Exception as exc:  # noqa: BLE001 - a bad command or medium never ends the session
                report(exc, debug)
            continue
        answer(chat, line[1:] if line.startswith("//") else line, attached, debug=debug)


def command(line: str, pipe: Any, chat: Any, attached: Attached) -> bool:
    """Run one ``/command`` line; True to end the session. MmplugError for a bad command or medium."""
    name, _, rest = line.partition(" ")
    rest = _unquote(rest.strip())
    if name not in COMMANDS:
        close = difflib.get_close_matches(name, list(COMMANDS), n=1)
        hint = f" did you mean {close[0]}?" if close else ""
        raise MmplugError(f"unknown command {name!r};{hint} {HELP}")
    if COMMANDS[name] and not rest:
        raise MmplugError(f"{name} needs a file: {name} {COMMANDS[name]}")
    if not COMMANDS[name] and rest:
        raise MmplugError(f"{name} takes nothing after it (got {rest!r})")
    if name in ("/exit", "/quit"):
        return True
    if name == "/reset":
        chat.reset()
        print(f"(conversation forgotten; {attached.count()} attached file(s) kept)", file=sys.stderr)
        return False
    attached.add(pipe, name[1:], rest)
    print(f"(attached {rest} to your next question)", file=sys.stderr)
    return False


def answer(chat: Any, question: str, attached: Attached, *, debug: bool = False) -> None:
    """Stream the answer; on failure print the error: the conversation stays as before the
    question and the attached media wait for the next one."""
    try:
        with closing(chat.stream(question, **attached.media())) as pieces:
            for piece in pieces:
                print(piece, end="", flush=True)
    except KeyboardInterrupt:
        print(flush=True)
        print("(answer interrupted; the question was not kept)", file=sys.stderr)
        return
    except Exception as exc:  # noqa: BLE001 - a failed turn never ends the session
        print(flush=True)
        waiting = attached.count()
        report(exc, debug, "the question was not kept" + (f"; {waiting} attached file(s) wait for your "
                                                             "next question" if waiting else ""))
        return
    print(flush=True)
    attached.videos, attached.images = [], []


def report(exc: Exception, debug: bool, note: str = "") -> None:
    """One line on stderr (the traceback too with --debug); the session goes on."""
    if debug:
        traceback.print_exc()
    reason = str(exc) if isinstance(exc, MmplugError) else f"unexpected {type(exc).__name__}: {exc}"
    print(f"error: {reason}" + (f" ({note})" if note else ""), file=sys.stderr)


def _unquote(text: str) -> str:
    """A path pasted with quotes around it (as terminals do for dropped files) without them."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text
