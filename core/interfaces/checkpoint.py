"""Checkpoint formats: recognise a weight layout and map its keys onto the model; a model
family's formats also translate its ``config.json`` to a pipeline config and back."""
from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Iterable

from mmplug.core.errors import CheckpointError


class ConfigTranslation(ABC):
    """How one model family's ``config.json`` (one ``model_type``) becomes a pipeline config,
    and how a resolved pipeline is written back as that family's files.

    Shared by every weight layout of the family (e.g. the transformers 4.x and 5.x layouts of
    Video-LLaVA); the part plugins contribute their own sub-configs through
    :class:`mmplug.core.checkpoint.hf_mapping.SubConfigMapping`.
    """

    #: The ``model_type`` of the config.json files this translation reads.
    model_type: str = ""
    #: The checkpoint_format (layout) a pipeline of this family is saved in by default.
    default_layout: str = ""

    def writes(self, resolved: Any) -> bool:
        """Whether a resolved pipeline is of this family (so that saving it without naming a
        layout picks :attr:`default_layout`); :meth:`from_pipeline` still checks every detail."""
        return True

    @abstractmethod
    def to_pipeline(self, config: dict[str, Any], directory: Path, *, registry: Any) -> dict[str, Any]:
        """The pipeline config dict (every section, runtime defaults and processor sections
        included) of the checkpoint in ``directory`` whose ``config.json`` is ``config``."""

    @abstractmethod
    def from_pipeline(self, resolved: Any, *, dtype: str) -> dict[str, Any]:
        """The ``config.json`` dict of a resolved pipeline whose weights are stored in ``dtype``;
        raises :class:`CheckpointError` for what the family cannot express."""

    def processor_files(self, resolved: Any, *, existing: frozenset[str] = frozenset()) -> dict[str, dict[str, Any]]:
        """Processor files generated from the resolved pipeline: file name -> JSON, written over
        the files of the same name; ``existing``: names already in the target directory (copied from the pipeline's sources)."""
        return {}


class CheckpointFormat(ABC):
    """One on-disk weight layout (key naming scheme + config.json flavour)."""

    #: Names used in messages.
    name: str = ""
    description: str = ""
    #: False for layouts that must be converted (``mmplug convert``) before they load; ``hint``
    #: then says how.
    loadable: bool = True
    hint: str = "convert it first with `mmplug convert`"
    #: The config.json translation of the family this layout belongs to (None: weights only).
    translation: ConfigTranslation | None = None

    @abstractmethod
    def matches(self, keys: Iterable[str], config: dict[str, Any]) -> bool:
        """Whether a checkpoint with these tensor names and config is in this layout."""

    @abstractmethod
    def to_model_key(self, key: str) -> str | None:
        """The mmplug parameter name for a checkpoint key (None: not a model weight)."""

    @abstractmethod
    def from_model_key(self, key: str) -> str:
        """The checkpoint key this layout writes for an mmplug parameter name."""

    def unmatched_keys(self, keys: Iterable[str], config: dict[str, Any]) -> list[str] | None:
        """The keys that keep this layout from matching (named when no format matches);
        None: the layout cannot say."""
        return None

    @property
    def can_import(self) -> bool:
        """Whether :meth:`import_checkpoint` is implemented (``mmplug convert`` of a layout
        that does not load directly)."""
        return type(self).import_checkpoint is not CheckpointFormat.import_checkpoint

    def import_checkpoint(self, directory: Path, files: Any, config: dict[str, Any], *, processor: Path | None,
                          registry: Any, overrides: Any = None) -> tuple[Any, Any, Path]:
        """(model, resolved config, processor directory) of a checkpoint in this layout, for
        layouts that convert themselves; the default says the layout has no importer."""
        raise CheckpointError(f"the {self.name or type(self).__name__!r} layout has no importer")
