"""Checkpoint formats: recognise a weight layout and map its keys onto the model."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Iterable


class CheckpointFormat(ABC):
    """One on-disk weight layout (key naming scheme + config.json flavour).

    Optional attributes, used when present: ``name`` and ``description`` (for messages);
    ``loadable = False`` with a ``hint`` for layouts that must be converted before loading;
    ``import_checkpoint(directory, files, config, *, processor, registry, overrides)
    -> (model, resolved, processor_dir)`` for layouts that ``mmplug convert`` can import.
    """

    @abstractmethod
    def matches(self, keys: Iterable[str], config: dict[str, Any]) -> bool:
        """Whether a checkpoint with these tensor names and config is in this layout."""

    @abstractmethod
    def to_model_key(self, key: str) -> str | None:
        """The mmplug parameter name for a checkpoint key (None: not a model weight)."""

    @abstractmethod
    def from_model_key(self, key: str) -> str:
        """The checkpoint key this layout writes for an mmplug parameter name."""
