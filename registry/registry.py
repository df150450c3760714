"""The typed registry: parts per kind, presets, and the plugins that failed to load."""
from __future__ import annotations

import difflib
from collections import defaultdict
from typing import Any, Iterable

import pluggy

from mmplug.core.errors import DuplicatePartError, UnknownPartError
from mmplug.registry import hookspecs
from mmplug.registry.kinds import Kind
from mmplug.registry.spec import PartSpec, PluginFailure, PresetSpec, Provenance


class Registry:
    """Holds every registered part by (kind, name) and every preset by name.

    Registration through plugins records problems (import errors, duplicates)
    instead of raising, so one broken plugin never breaks the others; the
    problem is raised when somebody asks for the affected name.
    """

    def __init__(self) -> None:
        self._parts: dict[Kind, dict[str, PartSpec]] = defaultdict(dict)
        self._presets: dict[str, PresetSpec] = {}
        self._conflicts: dict[tuple[str, str], DuplicatePartError] = {}
        self.failures: list[PluginFailure] = []
        self._manager = pluggy.PluginManager(hookspecs.PROJECT)
        self._manager.add_hookspecs(hookspecs)

    # ------------------------------------------------------------------ registration
    def register(
        self,
        kind: Kind | str,
        name: str,
        factory: Any,
        *,
        options: Any = None,
        summary: str = "",
        override: bool = False,
        provenance: Provenance | None = None,
        hf_mapping: Any = None,
        default: bool = False,
    ) -> PartSpec:
        """Register one part. A second part with the same kind and name is an error
        naming both providers, unless ``override=True`` (the new one replaces the old)."""
        kind = Kind.parse(kind)
        if not name or not isinstance(name, str):
            raise ValueError(f"{kind.value} part needs a non-empty string name, got {name!r}")
        spec = PartSpec(kind, name, factory, options, summary, provenance or Provenance(), hf_mapping, default)
        existing = self._parts[kind].get(name)
        if existing is not None and not override:
            raise DuplicatePartError(
                f"{kind.value} {name!r} is registered twice: by {existing.provenance.describe()} "
                f"and by {spec.provenance.describe()}. Uninstall one of them, disable one with "
                f"MMPLUG_PLUGINS, or register with override=True to replace it on purpose."
            )
        self._parts[kind][name] = spec
        self._conflicts.pop((kind.value, name), None)
        return spec

    def register_preset(
        self, name: str, config: Any, *, summary: str = "", override: bool = False,
        provenance: Provenance | None = None,
    ) -> PresetSpec:
        """Register a named pipeline config (dict, callable, or lazy reference)."""
        spec = PresetSpec(name, config, summary, provenance or Provenance())
        existing = self._presets.get(name)
        if existing is not None and not override:
            raise DuplicatePartError(
                f"preset {name!r} is registered twice: by {existing.provenance.describe()} "
                f"and by {spec.provenance.describe()}"
            )
        self._presets[name] = spec
        return spec

    def add_plugin(self, plugin: object, provenance: Provenance | None = None) -> bool:
        """Register a plugin object (usually a module with ``@hookimpl`` functions) and
        run its hooks. Returns False, and records the failure, if anything goes wrong."""
        provenance = provenance or Provenance(plugin=getattr(plugin, "__name__", repr(plugin)))
        try:
            self._manager.register(plugin, name=f"{provenance.plugin}:{id(plugin)}")
        except Exception as exc:  # noqa: BLE001 - invalid hook implementations are reported
            self.record_failure(provenance, exc)
            return False

        def register_part(kind, name, factory, **kwargs):
            kwargs.setdefault("provenance", provenance)
            try:
                return self.register(kind, name, factory, **kwargs)
            except DuplicatePartError as exc:
                self._conflicts[(Kind.parse(kind).value, name)] = exc
                self.failures.append(PluginFailure(provenance.plugin, provenance, str(exc)))
                return None

        def register_preset(name, config, **kwargs):
            kwargs.setdefault("provenance", provenance)
            return self.register_preset(name, config, **kwargs)

        ok = True
        for hook, callback, argname in (
            (self._manager.hook.mmplug_register_parts, register_part, "register"),
            (self._manager.hook.mmplug_register_presets, register_preset, "register"),
        ):
            for impl in hook.get_hookimpls():
                if impl.plugin is not plugin:
                    continue
                try:
                    impl.function(**{argname: callback})
                except Exception as exc:  # noqa: BLE001 - a broken plugin must not break the rest
                    self.record_failure(provenance, exc)
                    ok = False
        return ok

    def record_failure(self, provenance: Provenance, exc: BaseException) -> None:
        self.failures.append(PluginFailure(provenance.plugin, provenance, f"{type(exc).__name__}: {exc}"))

    # ------------------------------------------------------------------ lookup
    def get(self, kind: Kind | str, name: str) -> PartSpec:
        """The part registered as (kind, name). Unknown names raise with close matches,
        what is installed and which plugins failed to load."""
        kind = Kind.parse(kind)
        conflict = self._conflicts.get((kind.value, name))
        if conflict is not None:
            raise conflict
        spec = self._parts[kind].get(name)
        if spec is not None:
            return spec
        raise UnknownPartError(self.unknown_message(kind, name))

    def unknown_message(self, kind: Kind, name: str) -> str:
        installed = self._parts[kind]
        lines = [f"unknown {kind.value} {name!r}."]
        close = difflib.get_close_matches(str(name), list(installed), n=3, cutoff=0.5)
        if close:
            lines.append("Did you mean: " + ", ".join(
                f"{c!r} ({installed[c].provenance.describe()})" for c in close) + "?")
        if installed:
            lines.append(f"Installed {kind.value} parts: " + ", ".join(
                f"{n} ({s.provenance.describe()})" for n, s in sorted(installed.items())) + ".")
        else:
            lines.append(f"No {kind.value} parts are installed.")
        if self.failures:
            lines.append("These plugins failed to load and might provide it: "
                         + "; ".join(f.describe() for f in self.failures))
        return " ".join(lines)

    def default_name(self, kind: Kind | str) -> str:
        """The part of ``kind`` registered with ``default=True`` (the first one, built-ins being
        registered first), else the only one installed; an error naming the choices otherwise."""
        kind = Kind.parse(kind)
        defaults = [name for name, spec in self._parts[kind].items() if spec.default]
        if defaults:
            return defaults[0]
        if len(self._parts[kind]) == 1:
            return next(iter(self._parts[kind]))
        raise UnknownPartError(f"no default {kind.value} is registered; name one of: "
                               f"{', '.join(self.names(kind)) or 'none installed'}")

    def has(self, kind: Kind | str, name: str) -> bool:
        return name in self._parts[Kind.parse(kind)]

    def names(self, kind: Kind | str) -> list[str]:
        return sorted(self._parts[Kind.parse(kind)])

    def parts(self, kind: Kind | str | None = None) -> list[PartSpec]:
        kinds: Iterable[Kind] = [Kind.parse(kind)] if kind is not None else list(Kind)
        return [self._parts[k][n] for k in kinds for n in sorted(self._parts[k])]

    def preset(self, name: str) -> PresetSpec:
        spec = self._presets.get(name)
        if spec is None:
            close = difflib.get_close_matches(name, list(self._presets), n=3, cutoff=0.5)
            hint = f" Did you mean: {', '.join(map(repr, close))}?" if close else ""
            raise UnknownPartError(f"unknown preset {name!r}.{hint} Installed presets: "
                                   f"{', '.join(sorted(self._presets)) or 'none'}.")
        return spec

    def presets(self) -> list[PresetSpec]:
        return [self._presets[n] for n in sorted(self._presets)]

    def build(self, kind: Kind | str, name: str, options: Any, context: Any = None) -> Any:
        """Build one part: validate ``options`` with the part's model, then call its factory
        with ``context`` (a default :class:`~mmplug.core.context.BuildContext` when None)."""
        from mmplug.core.context import BuildContext  # lazy: keeps the registry light
        from mmplug.core.options import validate_options

        kind = Kind.parse(kind)
        spec = self.get(kind, name)
        model = validate_options(spec, options or {}, path=kind.value)
        return spec.load_factory()(model, context if context is not None else BuildContext(section=kind.value))
