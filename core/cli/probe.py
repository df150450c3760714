"""``mmplug probe FILE...``: the pre-flight check of a dataset's videos.

One line per file: codec, frame count and how it was found, fps, duration,
display size, rotation, and whether the first and last frames decode (or the
error). A file that fails (unreadable, over the media limits) never stops the
files after it. Exits 1 if any file cannot be decoded. Imports nothing heavy until run.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "probe", help="check that videos decode and show their metadata",
        description="Probe video and image files: codec, frames (and how they were counted), fps, "
                    "duration, size, rotation, and whether the first and last frames decode. "
                    "Exits with 1 if any file cannot be decoded.")
    parser.add_argument("files", nargs="+", metavar="FILE", help="video or image files")
    parser.add_argument("--json", action="store_true", help="one JSON list, an object per file")
    parser.add_argument("--decoder", help="video_decoder plugin to use (default: the one registered as default; "
                                           "see `mmplug plugins`)")
    parser.set_defaults(handler=run)


def check_file(decoder: Any, path: str) -> dict:
    """Probe ``path`` and decode its first and last frames; a dict with ``ok`` and ``error``.

    Any failure is this file's result, so the files after it are still checked: a MediaError
    (the file is unreadable, or over the media limits), or an unexpected exception (a bug
    that this file triggers; its traceback is logged at debug level)."""
    from dataclasses import asdict

    from mmplug.core.errors import ConfigError, MediaError

    try:
        info = decoder.probe(path)
        decoder.read(path, sorted({0, max(info.num_frames - 1, 0)}))
    except MediaError as exc:
        return {"file": path, "ok": False, "error": exc.cause, "backend": exc.backend}
    except ConfigError:
        raise  # a setting of the whole run (e.g. a media limit in the environment), not this file
    except Exception as exc:  # noqa: BLE001 - one file's bug must not hide the other files
        log.debug("probing %s failed", path, exc_info=True)
        return {"file": path, "ok": False, "backend": getattr(decoder, "backend", "?"),
                "error": f"unexpected {type(exc).__name__}: {exc} (a bug in mmplug or the decoder: please "
                         "report it with this file)"}
    record = {"file": path, "ok": True, "error": None, **asdict(info)}
    record.pop("source", None)
    record.pop("frame_times", None)  # one number per frame: not a summary
    return record


def format_line(record: dict) -> str:
    """The human-readable line of one file."""
    if not record["ok"]:
        return f"{record['file']}: NOT DECODABLE [{record['backend']}] {record['error']}"
    size = f"{record['width']}x{record['height']}"
    if record["frame_count_source"] == "image":
        return f"{record['file']}: {record['codec']}, still image, {size}, rotation {record['rotation']}, ok"
    rate = "variable" if record["variable_fps"] else "constant"
    parts = [
        record["codec"],
        f"{record['num_frames']} frames ({record['frame_count_source']})",
        f"{record['fps']:.3f} fps ({rate})",
        f"{record['duration']:.2f} s",
        size,
        f"rotation {record['rotation']}",
        "audio" if record["has_audio"] else "no audio",
        "ok",
    ]
    return f"{record['file']}: " + ", ".join(parts)


def run(args: argparse.Namespace) -> int:
    from mmplug.registry import get_registry

    registry = get_registry()
    decoder = registry.build("video_decoder", args.decoder or registry.default_name("video_decoder"), {})
    records = []
    for path in args.files:
        record = check_file(decoder, path)
        records.append(record)
        if not args.json:
            print(format_line(record), flush=True)
    if args.json:
        json.dump(records, sys.stdout, indent=2)
        print()
    return 0 if all(r["ok"] for r in records) else 1
