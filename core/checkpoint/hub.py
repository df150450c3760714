"""Resolve a checkpoint name: a local directory as is, otherwise a Hugging Face Hub repo id
downloaded with ``huggingface_hub`` (the optional ``mmplug[hub]`` extra), limited to the files
mmplug reads (no pickle weights unless asked)."""
from __future__ import annotations

import os
from pathlib import Path

from mmplug.core.errors import CheckpointError

#: What a download fetches: weights (safetensors), configs, tokenizer and chat template files.
ALLOW_PATTERNS = ["*.safetensors", "*.json", "tokenizer.model", "*.jinja", "*.txt"]
PICKLE_PATTERNS = ["*.bin"]


def is_repo_id(name: str) -> bool:
    """``owner/name`` (one slash, no path-like start)."""
    return name.count("/") == 1 and not name.startswith((".", "/", "~")) and "\\" not in name and all(
        name.split("/"))


def resolve_pretrained(name_or_path: str | os.PathLike[str], *, revision: str | None = None,
                       allow_pickle: bool = False) -> Path:
    """The local directory of ``name_or_path``: an existing directory, or a Hub snapshot.

    Raises CheckpointError naming the repo id, the cause and the fix when the name is
    neither a directory nor downloadable (package missing, offline, unknown repo).
    """
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        return path
    name = str(name_or_path)
    if path.exists():
        raise CheckpointError(f"{name} is a file; give the checkpoint directory that holds config.json")
    if not is_repo_id(name):
        raise CheckpointError(f"{name}: no such directory, and it is not a Hub repo id ('owner/name'); "
                              "check the path")
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        raise CheckpointError(f"{name!r} is not a local directory, and downloading it from the Hugging Face Hub "
                              "needs the huggingface_hub package: pip install 'mmplug[hub]' (or download the "
                              "repository yourself and pass its directory)") from None
    patterns = ALLOW_PATTERNS + (PICKLE_PATTERNS if allow_pickle else [])
    try:
        return Path(snapshot_download(repo_id=name, revision=revision, allow_patterns=patterns))
    except Exception as exc:  # noqa: BLE001 - hub errors (offline, 404, auth) differ by version
        raise CheckpointError(f"cannot download {name!r}{f' at revision {revision!r}' if revision else ''} from "
                              f"the Hugging Face Hub: {type(exc).__name__}: {_first_line(exc)}. Check the repo id "
                              "and your network (or HF_HUB_OFFLINE / HF_TOKEN for private repos), or download it "
                              "yourself and pass the local directory.") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "no details"
