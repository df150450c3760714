"""Pickle checkpoints (``*.bin``), loaded only on explicit request with ``weights_only=True``."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

import torch

from mmplug.core.errors import CheckpointError


class PickleShard:
    """A ``torch.save`` state dict, memory-mapped when the file format allows it."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            try:
                state = torch.load(self.path, map_location="cpu", weights_only=True, mmap=True)
            except RuntimeError:  # legacy (non-zip) files cannot be memory-mapped
                state = torch.load(self.path, map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 - unpickling errors vary
            raise CheckpointError(f"{self.path}: cannot load with torch.load(weights_only=True): {exc}") from None
        if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
            raise CheckpointError(f"{self.path}: expected a dict of tensors (a state dict)")
        self.state = state

    def keys(self) -> list[str]:
        return list(self.state)

    def shape(self, key: str) -> tuple[int, ...]:
        return tuple(self.state[key].shape)

    def dtype(self, key: str) -> torch.dtype:
        return self.state[key].dtype

    def read(self, keys: Iterable[str], dtype: torch.dtype | None = None) -> Iterable[tuple[str, torch.Tensor]]:
        for key in keys:
            tensor = self.state[key]
            converted = tensor if dtype is None or not tensor.is_floating_point() else tensor.to(dtype)
            yield key, converted.clone() if converted is tensor else converted
