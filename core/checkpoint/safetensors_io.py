"""Reading and writing safetensors files tensor by tensor, straight into their final buffers.

A file is ``u64 little-endian header length | JSON header | data``; the header maps every
tensor name to ``{"dtype", "shape", "data_offsets": [begin, end]}`` (offsets into data).
Reading copies each tensor from the file into the caller's buffer with ``readinto`` (the
page cache is shared, nothing is held twice in the process), and writing streams each
tensor's bytes without building the file in memory. Files stay compatible with
``safetensors.safe_open`` (tests check both ways).
"""
from __future__ import annotations

import json
import os
import struct
from pathlib import Path
from typing import Any, Iterable, Mapping

import torch

from mmplug.core.checkpoint.safetensors_header import Entry, read_header as parse_header
from mmplug.core.errors import CheckpointError

#: safetensors dtype names <-> torch dtypes.
DTYPES: dict[str, torch.dtype] = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
    "BOOL": torch.bool,
}
NAMES = {dtype: name for name, dtype in DTYPES.items()}
#: Largest scratch buffer used to convert dtypes while reading.
CHUNK = 16 * 1024 * 1024


class SafetensorsShard:
    """An opened-on-demand safetensors file: ``entries`` from the header, ``read(key, dtype)``."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.entries, self.metadata = read_header(self.path)

    def keys(self) -> list[str]:
        return list(self.entries)

    def shape(self, key: str) -> tuple[int, ...]:
        return self.entries[key].shape

    def dtype(self, key: str) -> torch.dtype:
        return DTYPES[self.entries[key].dtype]

    def read(self, keys: Iterable[str], dtype: torch.dtype | None = None) -> Iterable[tuple[str, torch.Tensor]]:
        """Yield (key, CPU tensor) in file order, floating tensors converted to ``dtype`` (None: as
        stored). Each tensor is read into its final buffer; a conversion goes through a scratch
        buffer of at most ``CHUNK`` bytes, so it never holds a second copy of the tensor."""
        wanted = sorted(keys, key=lambda k: self.entries[k].begin)
        scratch: dict[torch.dtype, torch.Tensor] = {}  # one buffer per source dtype, reused
        with open(self.path, "rb", buffering=0) as handle:
            for key in wanted:
                entry = self.entries[key]
                source = DTYPES[entry.dtype]
                target = dtype if dtype is not None and source.is_floating_point else source
                out = torch.empty(entry.shape, dtype=target)
                handle.seek(entry.begin)
                if target == source:
                    self._read_exact(handle, _bytes(out.view(-1)), key, entry.begin)
                else:
                    flat, step = out.view(-1), max(1, CHUNK // source.itemsize)
                    buffer = scratch.setdefault(source, torch.empty(step, dtype=source))
                    for start in range(0, flat.numel(), step):
                        part = buffer[:min(step, flat.numel() - start)]
                        self._read_exact(handle, _bytes(part), key, handle.tell())
                        flat[start:start + part.numel()].copy_(part)
                yield key, out

    def _read_exact(self, handle: Any, view: memoryview, key: str, position: int) -> None:
        done = 0
        while done < len(view):
            count = handle.readinto(view[done:])
            if not count:
                raise CheckpointError(f"{self.path}: file ends inside tensor {key!r} (at byte {position + done}); "
                                      "the file is truncated, download or save it again")
            done += count


def _bytes(tensor: torch.Tensor) -> memoryview:
    """A writable byte view of a contiguous CPU tensor."""
    return memoryview(tensor.view(torch.uint8).numpy()) if tensor.numel() else memoryview(bytearray())


def read_header(path: Path) -> tuple[dict[str, Entry], dict[str, str]]:
    """(entries by name, ``__metadata__``) of a safetensors file whose header is valid (see
    :mod:`~mmplug.core.checkpoint.safetensors_header`) and whose dtypes torch loads here."""
    entries, metadata = parse_header(path)
    for key, entry in entries.items():
        if entry.dtype not in DTYPES:
            raise CheckpointError(f"{path}: tensor {key!r} has dtype {entry.dtype}, which mmplug does not load; "
                                  f"supported: {', '.join(DTYPES)}")
    return entries, metadata


def write_file(path: Path, tensors: Mapping[str, torch.Tensor], metadata: Mapping[str, str] | None = None) -> None:
    """Write ``tensors`` (any device, contiguous or not) as one safetensors file, streaming
    one tensor at a time. Writes to ``path.tmp`` first, then renames."""
    header: dict[str, Any] = {"__metadata__": dict(metadata or {"format": "pt"})}
    offset = 0
    for key, tensor in tensors.items():
        if tensor.dtype not in NAMES:
            raise CheckpointError(f"cannot save {key!r}: dtype {tensor.dtype} has no safetensors name")
        nbytes = tensor.numel() * tensor.element_size()
        header[key] = {"dtype": NAMES[tensor.dtype], "shape": list(tensor.shape),
                       "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)  # keep tensor data 8-byte aligned
    partial = path.with_name(path.name + ".tmp")
    with open(partial, "wb") as handle:
        handle.write(struct.pack("<Q", len(raw)))
        handle.write(raw)
        for tensor in tensors.values():
            data = tensor.detach().to("cpu").contiguous()
            if data.numel():
                handle.write(memoryview(data.view(-1).view(torch.uint8).numpy()))
    os.replace(partial, path)
