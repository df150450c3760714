"""Reading Hugging Face tokenizer/processor JSON files with errors that name the file."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mmplug.core.errors import ConfigError, ConfigIssue


def read_json(path: Path, *, key: str) -> dict[str, Any]:
    """The JSON object in ``path``; ConfigError at ``key`` naming the file if unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([ConfigIssue(key, f"cannot read {path}: {exc.strerror or exc}")]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([ConfigIssue(key, f"{path} is not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset "
                                            f"{exc.start}); replace the file with a good copy")]) from None
    try:
        data = json.loads(text)
    except RecursionError:
        raise ConfigError([ConfigIssue(key, f"{path} is nested too deeply to be a processor file")]) from None
    except json.JSONDecodeError as exc:
        raise ConfigError([ConfigIssue(key, f"{path} is not valid JSON (line {exc.lineno}, column "
                                            f"{exc.colno}: {exc.msg}); replace the file with a good copy")]) from None
    if not isinstance(data, dict):
        raise ConfigError([ConfigIssue(key, f"{path} must hold a JSON object, found {type(data).__name__}")])
    return data


def token_content(value: Any) -> str | None:
    """A special-token entry as written in HF files: a string or ``{"content": ...}``."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("content"), str):
        return value["content"]
    raise ValueError(f"expected a token string or an object with 'content', got {value!r}")
