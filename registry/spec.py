"""What a plugin registers: cheap descriptions of parts and presets, resolved lazily."""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable

from mmplug.core.errors import MmplugError, PluginLoadError
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
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - any failure of plugin code is reported, SystemExit too
        raise PluginLoadError(f"{what}: cannot load {reference!r}: {describe_failure(exc)}") from exc
    return target


def describe_failure(exc: BaseException) -> str:
    """One line for an exception raised by plugin code (``SystemExit`` spelt out)."""
    if isinstance(exc, SystemExit):
        return (f"SystemExit: the plugin called exit({exc.code!r}) (sys.exit, or argparse parsing the "
                "command line); plugin code must not exit the process")
    return f"{type(exc).__name__}: {exc}"


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

    def build(self, options: Any, context: Any, *, section: str | None = None) -> Any:
        """Call the factory as ``factory(options, context)`` and return the part.

        A factory that raises (anything but mmplug's own errors, which pass through) or
        returns None gives a :class:`PluginLoadError` naming the part, ``section`` and the
        distribution that provides it; the original exception is chained.
        """
        factory = self.load_factory()
        where = f"{self.label} (section {section or self.kind.value!r}, from {self.provenance.describe()})"
        try:
            part = factory(options, context)
        except (MmplugError, KeyboardInterrupt):
            raise
        except BaseException as exc:  # noqa: BLE001 - plugin code: its failure is named, SystemExit too
            raise PluginLoadError(f"{where} failed to build: {describe_failure(exc)}. This is a bug or an "
                                  "unmet requirement of that plugin; --debug shows its traceback") from exc
        if part is None:
            raise PluginLoadError(f"{where}: its factory {_name_of(factory)} returned None instead of the built "
                                  "part (a missing 'return'?)")
        return part

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
        where = f"preset {self.name!r} from {self.provenance.describe()}"
        target = resolve_reference(self.config, what=where)
        try:
            config = target() if callable(target) else target
        except (MmplugError, KeyboardInterrupt):
            raise
        except BaseException as exc:  # noqa: BLE001 - plugin code
            raise PluginLoadError(f"{where}: its loader failed: {describe_failure(exc)}") from exc
        if not isinstance(config, dict):
            raise PluginLoadError(f"{where} is not a mapping (got {type(config).__name__})")
        return config


def _name_of(factory: Any) -> str:
    module, name = getattr(factory, "__module__", None), getattr(factory, "__qualname__", None)
    return f"{module}:{name}" if module and name else repr(factory)


@dataclass(frozen=True)
class Unusable:
    """A registered name that cannot be built: asking for it raises ``error``.

    ``kind`` is a :class:`Kind` value, or ``"preset"``; ``reason`` is the short form
    ``mmplug plugins`` shows next to the name.
    """

    kind: str
    name: str
    provenance: Provenance
    reason: str
    error: MmplugError


@dataclass(frozen=True)
class PluginFailure:
    """A plugin that failed to import, register or validate; reported, not fatal."""

    plugin: str
    provenance: Provenance
    error: str

    def describe(self) -> str:
        return f"plugin {self.plugin!r} ({self.provenance.describe()}): {self.error}"
