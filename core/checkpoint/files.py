"""Find the weight files of a checkpoint directory and index every tensor by name.

Accepted, in this order: ``model.safetensors.index.json`` (sharded), ``model.safetensors``,
then pickle checkpoints (``pytorch_model.bin[.index.json]``), which load only with
``allow_pickle=True`` (``torch.load(weights_only=True)``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
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

    def dtype(self, key: str) -> Any:
        """The torch dtype ``key`` is stored in."""
        return self.shards[self.owner[key]].dtype(key)

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


def read_weight_map(index: Path) -> dict[str, str]:
    """The ``weight_map`` (tensor -> shard file name) of an index file. Every shard must be a
    plain file name, so that an index can only name files inside its own directory."""
    try:
        weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
        raise CheckpointError(f"{index}: not a valid index file (needs a 'weight_map' object): {exc}") from None
    if not isinstance(weight_map, dict):
        raise CheckpointError(f"{index}: 'weight_map' must be an object of tensor name -> shard file name")
    bad = sorted({repr(name) for name in weight_map.values() if not _plain_file_name(name)})
    if bad:
        raise CheckpointError(f"{index}: weight_map names shard(s) that are not plain file names in the "
                              f"checkpoint directory: {', '.join(bad[:5])}. A shard is a file next to the index "
                              "(e.g. 'model-00001-of-00002.safetensors'); paths with folders, '..' or a drive "
                              "are refused, so a checkpoint cannot read files outside its directory.")
    return weight_map


def _plain_file_name(name: Any) -> bool:
    """Whether ``name`` is one file name with no folder part, on POSIX and on Windows."""
    return (isinstance(name, str) and name not in ("", ".", "..") and "\0" not in name
            and PurePosixPath(name).name == name and PureWindowsPath(name).name == name)


def _from_index(directory: Path, index: Path, opener: Any, *, pickle: bool) -> WeightFiles:
    weight_map = read_weight_map(index)
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


def peek_keys(directory: Path) -> list[str]:
    """Tensor names of the safetensors checkpoint in ``directory`` from the index or headers
    only (no tensor data, no torch); [] when there is none."""
    directory = Path(directory)
    if (directory / SAFE_INDEX).is_file():
        try:
            return list(read_weight_map(directory / SAFE_INDEX))
        except CheckpointError:
            return []
    if (directory / SAFE_SINGLE).is_file():
        from mmplug.core.checkpoint.safetensors_header import read_header

        return list(read_header(directory / SAFE_SINGLE)[0])
    return []
