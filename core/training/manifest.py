"""A JSONL training manifest: one sample per line, media paths relative to the manifest.

    {"video": "clips/0001.mp4", "conversations": [{"role": "user", "content": "Which way?"},
                                                  {"role": "assistant", "content": "left"}]}

``image`` instead of ``video`` for stills; both may be lists; other keys (``task``, ``seed``)
are kept as metadata. A turn's content is a string or a list of ``text``/``image``/``video``
parts. Every line is checked when the manifest is read, and every problem names the file and
the line.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mmplug.core.errors import ConfigError, ConfigIssue
from mmplug.core.processor.processor import IMAGE_TOKEN, VIDEO_TOKEN

ROLES = ("system", "user", "assistant")
PART_TYPES = ("text", "image", "video")
#: Problems listed in one error (the rest are counted).
MAX_ISSUES_SHOWN = 50


@dataclass(frozen=True)
class Sample:
    """One manifest line: media paths (absolute), chat turns and free metadata."""

    images: tuple[Path, ...]
    videos: tuple[Path, ...]
    conversations: tuple[dict[str, Any], ...]
    meta: dict[str, Any] = field(default_factory=dict)
    line: int = 0
    manifest: str = ""

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


def _paths(value: Any, base: Path, key: str, problems: list[str]) -> tuple[Path, ...]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, str) and item for item in items):
        problems.append(f"'{key}' must be a path string or a non-empty list of path strings, got {value!r}"[:200])
        return ()
    return tuple(base / item for item in items)


def _content_problems(content: Any, where: str) -> list[str]:
    """What is wrong with one turn's content: a string, or a list of text/image/video parts."""
    if isinstance(content, str):
        return []
    if not isinstance(content, list):
        return [f"{where}.content must be a string or a list of parts, got {type(content).__name__}"]
    problems = []
    for index, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind not in PART_TYPES:
            problems.append(f"{where}.content[{index}] must be {{'type': one of {list(PART_TYPES)}, ...}}, "
                            f"got {part!r}"[:200])
        elif kind == "text" and not isinstance(part.get("text"), str):
            problems.append(f"{where}.content[{index}] is a text part without a string 'text'")
    return problems


def _turn_problems(turns: Any) -> list[str]:
    """Every problem of the conversation, or [] when it can be trained on."""
    if not isinstance(turns, list) or not turns:
        return ["'conversations' must be a non-empty list of {role, content} turns"]
    problems = []
    for index, turn in enumerate(turns):
        if not isinstance(turn, dict) or turn.get("role") not in ROLES or "content" not in turn:
            problems.append(f"conversations[{index}] must be {{'role': one of {list(ROLES)}, 'content': ...}}")
        else:
            problems += _content_problems(turn["content"], f"conversations[{index}]")
    if problems:
        return problems
    if turns[-1]["role"] != "assistant" or not message_text(turns[-1]["content"]).strip():
        problems.append("the last turn must be a non-empty assistant answer (it is what the model learns)")
    if not any(turn["role"] == "user" for turn in turns[:-1]):
        problems.append("no user turn before the answer: add {'role': 'user', 'content': 'the question'}")
    return problems


def _placeholder_problems(turns: list[dict[str, Any]], images: int, videos: int) -> list[str]:
    """Placeholders against media, as training will see them: a plain-text first user turn gets
    one image/video part per medium (``data.with_media_placeholders``); parts are used as given."""
    first_user = next(turn for turn in turns if turn["role"] == "user")
    added = isinstance(first_user["content"], str)
    problems = []
    for kind, token, given in (("image", IMAGE_TOKEN, images), ("video", VIDEO_TOKEN, videos)):
        in_text = sum(message_text(turn["content"]).count(token) for turn in turns)
        parts = sum(1 for turn in turns if isinstance(turn["content"], list)
                    for part in turn["content"] if part.get("type") == kind)
        found = in_text + parts + (given if added else 0)
        if found == given:
            continue
        how = (f"the first user turn is plain text, so one {kind} part per {kind} is added to it; "
               f"remove the {in_text + parts} {token} written in the turns" if added else
               f"give one {{'type': '{kind}'}} part (or {token}) per {kind}")
        problems.append(f"{found} {token} placeholder(s) for {given} {kind}(s): {how}")
    return problems


def _parse(record: Any, base: Path, check_files: bool) -> tuple[Sample | None, list[str]]:
    """One manifest line -> (its sample, []) or (None, every problem found in it)."""
    if not isinstance(record, dict):
        return None, ["each line must be a JSON object"]
    problems = []
    unknown_media = {"videos", "images"} & set(record)
    if unknown_media:
        problems.append(f"use 'video' / 'image' (a path or a list of paths), not {sorted(unknown_media)}")
    images = _paths(record["image"], base, "image", problems) if "image" in record else ()
    videos = _paths(record["video"], base, "video", problems) if "video" in record else ()
    if check_files:
        problems += [f"media file not found: {p} (paths are relative to the manifest's folder {base})"
                     for p in images + videos if not p.is_file()]
    turns = record.get("conversations")
    turn_problems = _turn_problems(turns)
    problems += turn_problems or _placeholder_problems(turns, len(images), len(videos))
    if problems:
        return None, problems
    meta = {k: v for k, v in record.items() if k not in ("image", "video", "conversations")}
    return Sample(images, videos, tuple(turns), meta), []


def read_manifest(path: str | Path, *, check_files: bool = True) -> list[Sample]:
    """Every sample of a JSONL manifest. Every line is checked here (JSON, turns, content,
    placeholders against media, media files), and all problems are reported at once by line."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ConfigError([ConfigIssue("train_manifest", f"cannot read {path}: {exc.strerror or exc}")]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([ConfigIssue("train_manifest", f"{path} is not UTF-8 text ({exc.reason} at byte "
                                                         f"{exc.start}); save it as UTF-8 JSON lines")]) from None
    samples, issues = [], []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            issues.append(ConfigIssue(f"line {number}", f"not JSON: {exc}"))
            continue
        sample, problems = _parse(record, path.parent, check_files)
        issues += [ConfigIssue(f"line {number}", problem) for problem in problems]
        if sample is not None:
            samples.append(dataclasses.replace(sample, line=number, manifest=str(path)))
    if issues:
        shown = issues[:MAX_ISSUES_SHOWN]
        if len(issues) > len(shown):
            lines_left = len({issue.path for issue in issues[len(shown):]})
            shown.append(ConfigIssue("", f"... and {len(issues) - len(shown)} more problem(s) on {lines_left} more "
                                         "line(s) (not shown)"))
        raise ConfigError(shown, str(path))
    if not samples:
        raise ConfigError([ConfigIssue("", "the manifest holds no sample")], str(path))
    return samples
