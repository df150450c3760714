"""The header of a safetensors file, parsed and checked as strictly as the official reader does.

A file is ``u64 little-endian length N | N bytes of UTF-8 JSON | data``. The JSON object maps
each tensor name to ``{"dtype", "shape", "data_offsets": [begin, end]}`` (offsets into the
data) and may hold ``"__metadata__"`` (string -> string). A header is accepted only when:

- N is at most ``MAX_HEADER_BYTES`` and the header fits in the file; it is UTF-8 JSON with
  no repeated key;
- every shape and offset is a list of non-negative integers (two offsets), every dtype is
  one the format defines, and ``end - begin`` is exactly the bytes that dtype and shape need;
- sorted by offset, the tensors tile the data: the first starts at 0, each starts where the
  one before ends (no gap, no overlap), and the last ends where the file ends.

These are the rules of the ``safetensors`` package (tests build corrupt files and check that
both readers refuse them). Offsets need not be multiples of the element size: such a file is
valid and read correctly by both. Torch-free.
"""
from __future__ import annotations

import json
import math
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mmplug.core.errors import CheckpointError

#: The largest header read (the official reader's limit too).
MAX_HEADER_BYTES = 100 * 1024 * 1024
#: Bits per element of every dtype the safetensors format defines (mmplug loads a subset).
DTYPE_BITS: dict[str, int] = {
    "BOOL": 8, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8, "F8_E4M3FNUZ": 8,
    "F8_E5M2FNUZ": 8, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6, "I16": 16, "U16": 16, "F16": 16,
    "BF16": 16, "I32": 32, "U32": 32, "F32": 32, "C64": 64, "F64": 64, "I64": 64, "U64": 64,
}
_AGAIN = "download or save it again"


@dataclass(frozen=True)
class Entry:
    """One tensor of a file: dtype name, shape and absolute byte range ``[begin, end)``."""

    dtype: str
    shape: tuple[int, ...]
    begin: int
    end: int


def read_header(path: Path) -> tuple[dict[str, Entry], dict[str, str]]:
    """(entries by name, in header order; ``__metadata__``) of a safetensors file.

    CheckpointError naming the file (and the tensor) for anything the format does not allow."""
    path = Path(path)
    header, length, size = _read_json(path)
    metadata = header.pop("__metadata__", None)
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise CheckpointError(f"{path}: corrupt safetensors header: '__metadata__' must map strings to "
                              f"strings; {_AGAIN}")
    base = 8 + length
    entries = {key: _entry(path, key, info, base) for key, info in header.items()}
    data_end = _check_tiling(path, entries, base)
    if data_end != size:
        problem = (f"{size - data_end} byte(s) after the last tensor" if data_end < size else
                   f"truncated: the header describes {data_end} bytes but the file has {size}")
        raise CheckpointError(f"{path}: {problem}; {_AGAIN}")
    return entries, metadata


def _read_json(path: Path) -> tuple[dict[str, Any], int, int]:
    """(JSON header, header length N, file size)."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as handle:
            prefix = handle.read(8)
            if len(prefix) < 8:
                raise CheckpointError(f"{path}: not a safetensors file ({size} bytes, shorter than the "
                                      f"8-byte header length); {_AGAIN}")
            length = struct.unpack("<Q", prefix)[0]
            if length > MAX_HEADER_BYTES:
                raise CheckpointError(f"{path}: not a safetensors file: its header would be {length} bytes, "
                                      f"over the {MAX_HEADER_BYTES} byte limit; {_AGAIN}")
            if 8 + length > size:
                raise CheckpointError(f"{path}: not a safetensors file or truncated header ({size} bytes, "
                                      f"header length {length}); {_AGAIN}")
            raw = handle.read(length)
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_unique_keys)
    except UnicodeDecodeError as exc:
        raise CheckpointError(f"{path}: corrupt safetensors header (not UTF-8 at byte {8 + exc.start}); "
                              f"{_AGAIN}") from None
    except (ValueError, RecursionError) as exc:
        raise CheckpointError(f"{path}: corrupt safetensors header ({exc}); {_AGAIN}") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{path}: corrupt safetensors header (not a JSON object); {_AGAIN}")
    return header, length, size


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object; a key given twice is an error (readers would disagree on which one wins)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"key {key!r} appears twice")
        out[key] = value
    return out


def _naturals(value: Any) -> bool:
    """Whether ``value`` is a list of non-negative integers (JSON true/false excluded)."""
    return isinstance(value, list) and all(type(n) is int and n >= 0 for n in value)


def _entry(path: Path, key: str, info: Any, base: int) -> Entry:
    where = f"{path}: tensor {key!r}"
    if not isinstance(info, dict) or not {"dtype", "shape", "data_offsets"} <= set(info):
        raise CheckpointError(f"{where}: malformed header entry {info!r} (needs dtype, shape, data_offsets); "
                              f"{_AGAIN}")
    dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
    if not isinstance(dtype, str) or dtype not in DTYPE_BITS:
        raise CheckpointError(f"{where}: unknown dtype {dtype!r} (the format defines {', '.join(DTYPE_BITS)})")
    if not _naturals(shape):
        raise CheckpointError(f"{where}: shape {shape!r} is not a list of non-negative integers; {_AGAIN}")
    if not _naturals(offsets) or len(offsets) != 2 or offsets[1] < offsets[0]:
        raise CheckpointError(f"{where}: data_offsets {offsets!r} are not [begin, end] with 0 <= begin <= end; "
                              f"{_AGAIN}")
    bits = math.prod(shape) * DTYPE_BITS[dtype]
    if bits % 8:
        raise CheckpointError(f"{where}: {dtype} x {tuple(shape)} is not a whole number of bytes; {_AGAIN}")
    begin, end = offsets
    if end - begin != bits // 8:
        raise CheckpointError(f"{where}: byte range [{begin}, {end}) holds {end - begin} bytes but {dtype} x "
                              f"{tuple(shape)} needs {bits // 8}; {_AGAIN}")
    return Entry(dtype, tuple(shape), base + begin, base + end)


def _check_tiling(path: Path, entries: dict[str, Entry], base: int) -> int:
    """The absolute end of the data; error unless the tensors, by offset, follow each other exactly."""
    expected = base
    for key, entry in sorted(entries.items(), key=lambda item: (item[1].begin, item[1].end)):
        if entry.begin != expected:
            how = ("overlaps the tensor before it" if entry.begin < expected
                   else f"leaves a gap of {entry.begin - expected} byte(s) before it")
            raise CheckpointError(f"{path}: tensor {key!r} starts at data byte {entry.begin - base}, not "
                                  f"{expected - base}: it {how}. Tensors must follow each other with no gap "
                                  f"or overlap; {_AGAIN}")
        expected = entry.end
    return expected
