"""Find the weight files of a checkpoint directory and index every tensor by name.

Accepted, in this order: ``model.safetensors.index.json`` (sharded), ``model.safetensors``,
then pickle checkpoints (``pytorch_model.bin[.index.json]``), which load only with
``allow_pickle=True`` (``torch.load(weights_only=True)``).
"""
from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from mmplug.core.errors import CheckpointError

SAFE_INDEX, SAFE_SINGLE = "model.safetensors.index.json", "model.safetensors"
PICKLE_INDEX, PICKLE_SINGLE = "pytorch_model.bin.index.json", "pytorch_model.bin"


@dataclass
class WeightFiles:
    """The tensors of a checkpoint: ``shards`` (path -> reader) and ``owner`` (tensor -> path)."""

    directory: Path
    shards: dict[Path, Any] = field(default_factory=dict)
    owner: dict[str, Path] = field(default_factory=dict)
    pickle: bool = False

    def keys(self) -> list[str]:
        return list(self.owner)

    def shape(self, key: str) -> tuple[int, ...]:
        return tuple(self.shards[self.owner[key]].shape(key))

    def describe(self, key: str) -> str:
        return f"{key!r} in {self.owner[key].name}"


def list_weight_files(directory: Path, *, allow_pickle: bool = False) -> WeightFiles:
    """Index the checkpoint in ``directory``; every shard is checked (present, complete,
    matching the index) before any tensor is read."""
    directory = Path(directory)
    if not directory.is_dir():
        raise CheckpointError(f"{directory} is not a directory; give a checkpoint directory or a Hub repo id")
    if (directory / SAFE_INDEX).is_file():
        return _from_index(directory, directory / SAFE_INDEX, _open_safetensors, pickle=False)
    if (directory / SAFE_SINGLE).is_file():
        return _collect(directory, [directory / SAFE_SINGLE], _open_safetensors, pickle=False)
    pickled = [directory / PICKLE_INDEX] if (directory / PICKLE_INDEX).is_file() else sorted(directory.glob("*.bin"))
    if pickled:
        if not allow_pickle:
            raise CheckpointError(
                f"{directory} holds only pickle weights ({', '.join(p.name for p in pickled[:3])}); pickle files can "
                "run arbitrary code when loaded, so mmplug refuses them by default. Convert once with "
                f"`mmplug convert {directory} OUT_DIR --allow-pickle` (writes safetensors), or pass "
                "allow_pickle=True to load them with torch.load(weights_only=True) if you trust the source.")
        if pickled[0].name == PICKLE_INDEX:
            return _from_index(directory, pickled[0], _open_pickle, pickle=True)
        return _collect(directory, pickled, _open_pickle, pickle=True)
    others = sorted(p.name for p in directory.iterdir())[:12]
    raise CheckpointError(f"{directory} holds no weights: expected {SAFE_SINGLE} or {SAFE_INDEX} "
                          f"(found: {', '.join(others) or 'nothing'})")


def _open_safetensors(path: Path) -> Any:
    from mmplug.core.checkpoint.safetensors_io import SafetensorsShard

    return SafetensorsShard(path)


def _open_pickle(path: Path) -> Any:
    from mmplug.core.checkpoint.pickled import PickleShard

    return PickleShard(path)


def _collect(directory: Path, paths: Iterable[Path], opener: Any, *, pickle: bool) -> WeightFiles:
    files = WeightFiles(directory, pickle=pickle)
    for path in paths:
        shard = opener(path)
        files.shards[path] = shard
        for key in shard.keys():
            if key in files.owner:
                raise CheckpointError(f"tensor {key!r} appears in both {files.owner[key].name} and {path.name}; "
                                      "remove the stray file from the checkpoint directory")
            files.owner[key] = path
    return files


def _from_index(directory: Path, index: Path, opener: Any, *, pickle: bool) -> WeightFiles:
    try:
        weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"{index}: not a valid index file (needs a 'weight_map' object): {exc}") from None
    by_file: dict[str, list[str]] = {}
    for key, name in weight_map.items():
        by_file.setdefault(name, []).append(key)
    absent = [f"{name} ({len(keys)} tensors, e.g. {keys[0]!r})" for name, keys in sorted(by_file.items())
              if not (directory / name).is_file()]
    if absent:
        raise CheckpointError(f"{index.name} in {directory} names shard(s) that are absent: {'; '.join(absent)}. "
                              "Download the missing file(s) or save the checkpoint again.")
    files = _collect(directory, [directory / name for name in sorted(by_file)], opener, pickle=pickle)
    for name, keys in by_file.items():
        stored = set(files.shards[directory / name].keys())
        lost = sorted(set(keys) - stored)
        if lost:
            raise CheckpointError(f"{index.name} says {name} holds {len(lost)} tensor(s) it does not contain "
                                  f"(e.g. {lost[:3]}); the shard and the index do not belong together")
    return files


def raw_header(path: Path) -> tuple[dict[str, Any], int, int]:
    """(JSON header, header length, file size) of a safetensors file; CheckpointError if unreadable."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as handle:
            prefix = handle.read(8)
            length = struct.unpack("<Q", prefix)[0] if len(prefix) == 8 else None
            if length is None or length > min(size - 8, 100 * 1024 * 1024):
                raise CheckpointError(f"{path}: not a safetensors file or truncated header ({size} bytes); "
                                      "download or save it again")
            header = json.loads(handle.read(length))
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{path}: corrupt safetensors header ({exc}); download or save it again") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{path}: corrupt safetensors header (not a JSON object)")
    return header, length, size


def peek_keys(directory: Path) -> list[str]:
    """Tensor names of the safetensors checkpoint in ``directory`` from the index or headers
    only (no tensor data, no torch); [] when there is none."""
    directory = Path(directory)
    if (directory / SAFE_INDEX).is_file():
        try:
            return list(json.loads((directory / SAFE_INDEX).read_text(encoding="utf-8"))["weight_map"])
        except (OSError, ValueError, KeyError, TypeError):
            return []
    if (directory / SAFE_SINGLE).is_file():
        header, _, _ = raw_header(directory / SAFE_SINGLE)
        return [key for key in header if key != "__metadata__"]
    return []
