"""A JSONL training manifest: one sample per line, media paths relative to the manifest.

    {"video": "clips/0001.mp4", "conversations": [{"role": "user", "content": "Which way?"},
                                                  {"role": "assistant", "content": "left"}]}

``image`` instead of ``video`` for stills; both may be lists; other keys (``task``, ``seed``)
are kept as metadata. Every problem names the file and the line.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mmplug.core.errors import ConfigError, ConfigIssue

ROLES = ("system", "user", "assistant")


@dataclass(frozen=True)
class Sample:
    """One manifest line: media paths (absolute), chat turns and free metadata."""

    images: tuple[Path, ...]
    videos: tuple[Path, ...]
    conversations: tuple[dict[str, Any], ...]
    meta: dict[str, Any] = field(default_factory=dict)
    line: int = 0

    def answer(self) -> str:
        """The text of the last assistant turn (the expected answer in evaluation)."""
        return message_text(self.conversations[-1]["content"])

    def question_turns(self) -> list[dict[str, Any]]:
        """The turns before the last assistant turn."""
        return list(self.conversations[:-1])


def message_text(content: Any) -> str:
    """The text of a turn's content (a string, or the text parts of a list)."""
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content if isinstance(part, dict))


def _paths(value: Any, base: Path) -> tuple[Path, ...]:
    items = value if isinstance(value, list) else [value]
    if not all(isinstance(item, str) and item for item in items):
        raise ValueError("media must be a path string or a list of path strings")
    return tuple(base / item for item in items)


def _parse(record: Any, base: Path) -> Sample:
    if not isinstance(record, dict):
        raise ValueError("each line must be a JSON object")
    unknown_media = {"videos", "images"} & set(record)
    if unknown_media:
        raise ValueError(f"use 'video' / 'image' (a path or a list of paths), not {sorted(unknown_media)}")
    turns = record.get("conversations")
    if not isinstance(turns, list) or not turns:
        raise ValueError("'conversations' must be a non-empty list of {role, content} turns")
    for index, turn in enumerate(turns):
        if not isinstance(turn, dict) or turn.get("role") not in ROLES or "content" not in turn:
            raise ValueError(f"conversations[{index}] must be {{'role': one of {list(ROLES)}, 'content': ...}}")
    if turns[-1]["role"] != "assistant" or not message_text(turns[-1]["content"]).strip():
        raise ValueError("the last turn must be a non-empty assistant answer (it is what the model learns)")
    images = _paths(record["image"], base) if "image" in record else ()
    videos = _paths(record["video"], base) if "video" in record else ()
    meta = {k: v for k, v in record.items() if k not in ("image", "video", "conversations")}
    return Sample(images, videos, tuple(turns), meta)


def read_manifest(path: str | Path, *, check_files: bool = True) -> list[Sample]:
    """Every sample of a JSONL manifest; problems are reported all at once, by line."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError([ConfigIssue("train_manifest", f"cannot read {path}: {exc.strerror or exc}")]) from None
    samples, issues = [], []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            sample = _parse(json.loads(text), path.parent)
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            issues.append(ConfigIssue(f"line {number}", str(exc)))
            continue
        missing = [p for p in sample.images + sample.videos if check_files and not p.is_file()]
        if missing:
            issues.append(ConfigIssue(f"line {number}", f"media file not found: {missing[0]} (paths are "
                                                        f"relative to the manifest's folder {path.parent})"))
            continue
        samples.append(Sample(sample.images, sample.videos, sample.conversations, sample.meta, number))
    if issues:
        raise ConfigError(issues[:20], str(path))
    if not samples:
        raise ConfigError([ConfigIssue("", "the manifest holds no sample")], str(path))
    return samples
