"""What a plugin registers: cheap descriptions of parts and presets, resolved lazily."""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable

from mmplug.core.errors import PluginLoadError
from mmplug.registry.kinds import Kind

def resolve_reference(reference: Any, *, what: str) -> Any:
    """Import a lazy ``"package.module:attr"`` reference; pass other objects through.

    Raises :class:`PluginLoadError` naming ``what`` when the import fails.
    """
    if not isinstance(reference, str):
        return reference
    module_name, sep, attr_path = reference.partition(":")
    if not sep or not module_name or not attr_path:
        raise PluginLoadError(f"{what}: bad reference {reference!r}; expected 'package.module:attr'")
    try:
        target: Any = importlib.import_module(module_name)
        for attr in attr_path.split("."):
            target = getattr(target, attr)
    except Exception as exc:  # noqa: BLE001 - any failure of plugin code is reported
        raise PluginLoadError(f"{what}: cannot load {reference!r}: {type(exc).__name__}: {exc}") from exc
    return target


@dataclass(frozen=True)
class Provenance:
    """Where a registration came from: the plugin (entry-point) name and its distribution."""

    plugin: str = "<inline>"
    distribution: str | None = None
    version: str | None = None

    def describe(self) -> str:
        if self.distribution:
            version = f" {self.version}" if self.version else ""
            return f"{self.distribution}{version}"
        return f"plugin {self.plugin!r}"


@dataclass(frozen=True)
class PartSpec:
    """A registered part. ``factory(options, context)`` builds it; ``options`` validates its options;
    ``hf_mapping`` (optional) says how its transformers sub-config maps onto those options."""

    kind: Kind
    name: str
    factory: Any
    options: Any = None
    summary: str = ""
    provenance: Provenance = field(default_factory=Provenance)
    hf_mapping: Any = None
    #: The part to use when a command needs one of this kind and the user named none.
    default: bool = False

    @property
    def label(self) -> str:
        return f"{self.kind.value} {self.name!r}"

    def load_factory(self) -> Callable[..., Any]:
        return resolve_reference(self.factory, what=f"{self.label} from {self.provenance.describe()}")

    def load_options(self) -> type | None:
        """The part's pydantic options model, or None if it takes no options."""
        return resolve_reference(self.options, what=f"options of {self.label} from {self.provenance.describe()}")

    def load_hf_mapping(self) -> Any:
        """The part's :class:`~mmplug.core.checkpoint.hf_mapping.SubConfigMapping`, or None."""
        return resolve_reference(self.hf_mapping, what=f"hf_mapping of {self.label} from {self.provenance.describe()}")


@dataclass(frozen=True)
class PresetSpec:
    """A named pipeline config: a dict, a callable returning one, or a lazy reference to either."""

    name: str
    config: Any
    summary: str = ""
    provenance: Provenance = field(default_factory=Provenance)

    def load(self) -> dict:
        target = resolve_reference(self.config, what=f"preset {self.name!r} from {self.provenance.describe()}")
        config = target() if callable(target) else target
        if not isinstance(config, dict):
            raise PluginLoadError(f"preset {self.name!r} from {self.provenance.describe()} is not a mapping")
        return config


@dataclass(frozen=True)
class PluginFailure:
    """A plugin that failed to import, register or validate; reported, not fatal."""

    plugin: str
    provenance: Provenance
    error: str

    def describe(self) -> str:
        return f"plugin {self.plugin!r} ({self.provenance.describe()}): {self.error}"
