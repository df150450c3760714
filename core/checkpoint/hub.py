"""Resolve a checkpoint name: a local directory as is, otherwise a Hugging Face Hub repo id
downloaded with ``huggingface_hub`` (the optional ``mmplug[hub]`` extra), limited to the files
mmplug reads (no pickle weights unless asked).

A name is a local path first: one that reads as a path (``./x``, ``a/b/c``, ``/abs``) or whose
first folder exists here (``models/shapes-tin`` next to ``models/``) is never sent to the Hub;
the error names the missing folder and the close matches beside it.
"""
from __future__ import annotations

import difflib
import os
from pathlib import Path

from mmplug.core.errors import CheckpointError

#: What a download fetches: weights (safetensors), configs, tokenizer and chat template files.
ALLOW_PATTERNS = ["*.safetensors", "*.json", "tokenizer.model", "*.jinja", "*.txt"]
PICKLE_PATTERNS = ["*.bin"]
WEIGHT_PATTERNS = ["*.safetensors"] + PICKLE_PATTERNS


def is_repo_id(name: str) -> bool:
    """``owner/name`` (one slash, no path-like start)."""
    return name.count("/") == 1 and not name.startswith((".", "/", "~")) and "\\" not in name and all(
        name.split("/"))


def missing_local_path(name: str | os.PathLike[str]) -> str | None:
    """Why ``name`` means a local directory that does not exist, or None when it exists or
    reads as a Hub repo id (``owner/name`` with no local folder ``owner``)."""
    path = Path(name).expanduser()
    text = str(name)
    if path.is_dir():
        return None
    if is_repo_id(text) and not Path(text.split("/")[0]).is_dir():
        return None
    hint = _close_matches(path)
    if is_repo_id(text):
        owner = text.split("/")[0]
        return (f"{text}: no such directory{hint}. It is not looked up on the Hugging Face Hub because a "
                f"local folder '{owner}' exists here; check the path (or run from another folder to "
                "download the Hub repo of that name)")
    return f"{text}: no such directory{hint}, and it is not a Hub repo id ('owner/name'); check the path"


def _close_matches(path: Path) -> str:
    """' (did you mean ...?)' for the first missing folder of ``path``, from its existing parent."""
    missing = path
    while not missing.parent.is_dir() and missing.parent != missing:
        missing = missing.parent
    parent = missing.parent
    try:
        folders = sorted(entry.name for entry in os.scandir(parent) if entry.is_dir())
    except OSError:
        return ""
    matches = difflib.get_close_matches(missing.name, folders, n=3, cutoff=0.6)
    if not matches:
        return f" (no folder like '{missing.name}' in {parent}{os.sep})"
    rest = path.relative_to(missing)
    guesses = [str(parent / match / rest) if rest != Path(".") else str(parent / match) for match in matches]
    return f" (did you mean {' or '.join(repr(g) for g in guesses)}?)"


def resolve_pretrained(name_or_path: str | os.PathLike[str], *, revision: str | None = None,
                       allow_pickle: bool = False, weights: bool = True) -> Path:
    """The local directory of ``name_or_path``: an existing directory, or a Hub snapshot
    (``weights=False``: configs, tokenizer and template files only).

    Raises CheckpointError naming the path or repo id, the cause and the fix when the name is
    neither a directory nor downloadable (missing local folder, package missing, offline,
    unknown repo).
    """
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        return path
    name = str(name_or_path)
    if path.exists():
        raise CheckpointError(f"{name} is a file; give the checkpoint directory that holds config.json")
    problem = missing_local_path(name)
    if problem:
        raise CheckpointError(problem)
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        raise CheckpointError(f"{name!r} is not a local directory, and downloading it from the Hugging Face Hub "
                              "needs the huggingface_hub package: pip install 'mmplug[hub]' (or download the "
                              "repository yourself and pass its directory)") from None
    patterns = ALLOW_PATTERNS + (PICKLE_PATTERNS if allow_pickle else [])
    if not weights:
        patterns = [p for p in patterns if p not in WEIGHT_PATTERNS]
    try:
        return Path(snapshot_download(repo_id=name, revision=revision, allow_patterns=patterns))
    except Exception as exc:  # noqa: BLE001 - hub errors (offline, 404, auth) differ by version
        raise CheckpointError(f"{name!r} is not a local directory, and it cannot be downloaded"
                              f"{f' at revision {revision!r}' if revision else ''} from the Hugging Face Hub: "
                              f"{type(exc).__name__}: {_first_line(exc)}. Check the path or the repo id and your "
                              "network (or HF_HUB_OFFLINE / HF_TOKEN for private repos), or download it yourself "
                              "and pass the local directory.") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "no details"
