"""The typed registry: parts per kind, presets, and the plugins that failed to load."""
from __future__ import annotations

import difflib
from collections import defaultdict
from typing import Any, Iterable

import pluggy

from mmplug.core.errors import DuplicatePartError, PluginLoadError, UnknownPartError
from mmplug.registry import hookspecs
from mmplug.registry.hookcheck import never_called
from mmplug.registry.kinds import Kind
from mmplug.registry.spec import PartSpec, PluginFailure, PresetSpec, Provenance, Unusable, describe_failure

PRESET = "preset"  # the kind under which unusable presets are recorded


class Registry:
    """Holds every registered part by (kind, name) and every preset by name.

    Registration through plugins records problems (import errors, duplicates, hooks that
    fail midway, misspelt hooks) instead of raising, so one broken plugin never breaks
    the others; a name that cannot be built is :meth:`unusable` and raises its problem
    when somebody asks for it.
    """

    def __init__(self) -> None:
        self._parts: dict[Kind, dict[str, PartSpec]] = defaultdict(dict)
        self._presets: dict[str, PresetSpec] = {}
        self._unusable: dict[tuple[str, str], Unusable] = {}
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
        self._unusable.pop((kind.value, name), None)
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
        self._unusable.pop((PRESET, name), None)
        return spec

    def add_plugin(self, plugin: object, provenance: Provenance | None = None) -> bool:
        """Register a plugin object (usually a module with ``@hookimpl`` functions) and
        run its hooks. Returns False, and records the failure, if anything goes wrong:
        invalid or misspelt hook implementations, a duplicate name (which then becomes
        unusable), or a hook that raises (what it had registered is withdrawn)."""
        provenance = provenance or Provenance(plugin=getattr(plugin, "__name__", repr(plugin)))
        failures_before = len(self.failures)
        try:
            self._manager.register(plugin, name=f"{provenance.plugin}:{id(plugin)}")
            problems = never_called(self._manager, plugin)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 - invalid hook implementations are reported
            self.record_failure(provenance, exc)
            return False
        for problem in problems:
            self.failures.append(PluginFailure(provenance.plugin, provenance, problem))
        hooks = ((self._manager.hook.mmplug_register_parts, self.register, _part_key),
                 (self._manager.hook.mmplug_register_presets, self.register_preset, _preset_key))
        for hook, register, key_of in hooks:
            for impl in hook.get_hookimpls():
                if impl.plugin is plugin:
                    self._run_hook(impl, hook.name, register, key_of, provenance)
        return len(self.failures) == failures_before

    def _run_hook(self, impl: Any, hook: str, register: Any, key_of: Any, provenance: Provenance) -> None:
        """Call one hook implementation with a ``register`` callback. A duplicate name is
        recorded (the name becomes unusable) and the hook goes on; a hook that raises has
        everything it registered withdrawn, and those names become unusable."""
        added: list[tuple[str, str]] = []
        saved = (self._snapshot(), len(self.failures))

        def callback(*args, **kwargs):
            kwargs.setdefault("provenance", provenance)
            try:
                spec = register(*args, **kwargs)
            except DuplicatePartError as exc:
                key = key_of(*args, **kwargs)
                self._unusable[key] = Unusable(*key, provenance, "registered twice", exc)
                self.failures.append(PluginFailure(provenance.plugin, provenance, str(exc)))
                return None
            added.append(key_of(*args, **kwargs))
            return spec

        try:
            impl.function(register=callback)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 - a broken plugin must not break the rest
            self._restore(saved[0])
            del self.failures[saved[1]:]
            self._withdraw(added, hook, provenance, exc)

    def _snapshot(self) -> tuple:
        return ({k: dict(v) for k, v in self._parts.items()}, dict(self._presets), dict(self._unusable))

    def _restore(self, snapshot: tuple) -> None:
        parts, presets, unusable = snapshot
        self._parts = defaultdict(dict, parts)
        self._presets, self._unusable = presets, unusable

    def _withdraw(self, added: list[tuple[str, str]], hook: str, provenance: Provenance, exc: BaseException) -> None:
        """Record a hook that failed after registering ``added``; names nobody else provides
        become unusable, with an error saying why."""
        error = describe_failure(exc)
        lost = [key for key in added if not self._provided(*key)]
        withdrawn = f"; withdrawn: {', '.join(f'{k} {n!r}' for k, n in lost)}" if lost else ""
        self.failures.append(PluginFailure(provenance.plugin, provenance, f"{hook} failed: {error}{withdrawn}"))
        for kind, name in lost:
            message = (f"{kind} {name!r} from {provenance.describe()} is unavailable: the plugin's {hook} hook "
                       f"failed after registering it ({error}). Fix or reinstall that package; "
                       "`mmplug plugins` lists the failure")
            self._unusable[(kind, name)] = Unusable(kind, name, provenance, f"{hook} failed midway",
                                                    PluginLoadError(message))

    def _provided(self, kind: str, name: str) -> bool:
        return name in self._presets if kind == PRESET else name in self._parts[Kind(kind)]

    def record_failure(self, provenance: Provenance, exc: BaseException) -> None:
        self.failures.append(PluginFailure(provenance.plugin, provenance, describe_failure(exc)))

    # ------------------------------------------------------------------ lookup
    def get(self, kind: Kind | str, name: str) -> PartSpec:
        """The part registered as (kind, name). Unknown names raise with close matches,
        what is installed and which plugins failed to load."""
        kind = Kind.parse(kind)
        unusable = self._unusable.get((kind.value, name))
        if unusable is not None:
            raise unusable.error
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

    def unusable(self, kind: Kind | str | None = None) -> list[Unusable]:
        """Names registered but impossible to build (duplicates, withdrawn by a failed hook);
        ``kind``: a Kind, or ``"preset"``."""
        wanted = None if kind is None else (PRESET if kind == PRESET else Kind.parse(kind).value)
        return [u for key, u in sorted(self._unusable.items()) if wanted in (None, key[0])]

    def problem(self, kind: Kind | str, name: str) -> Unusable | None:
        """Why (kind, name) cannot be built, or None if it can be asked for."""
        return self._unusable.get((PRESET if kind == PRESET else Kind.parse(kind).value, name))

    def has(self, kind: Kind | str, name: str) -> bool:
        return name in self._parts[Kind.parse(kind)]

    def names(self, kind: Kind | str) -> list[str]:
        return sorted(self._parts[Kind.parse(kind)])

    def parts(self, kind: Kind | str | None = None) -> list[PartSpec]:
        kinds: Iterable[Kind] = [Kind.parse(kind)] if kind is not None else list(Kind)
        return [self._parts[k][n] for k in kinds for n in sorted(self._parts[k])]

    def preset(self, name: str) -> PresetSpec:
        unusable = self._unusable.get((PRESET, name))
        if unusable is not None:
            raise unusable.error
        spec = self._presets.get(name)
        if spec is None:
            close = difflib.get_close_matches(name, list(self._presets), n=3, cutoff=0.5)
            hint = f" Did you mean: {', '.join(map(repr, close))}?" if close else ""
            raise UnknownPartError(f"unknown preset {name!r}.{hint} Installed presets: "
                                   f"{', '.join(sorted(self._presets)) or 'none'}.")
        return spec

    def presets(self) -> list[PresetSpec]:
        return [self._presets[n] for n in sorted(self._presets)]

    def build(self, kind: Kind | str, name: str, options: Any, context: Any = None, *,
              section: str | None = None) -> Any:
        """Build one part: validate ``options`` with the part's model, then call its factory with
        ``context`` (a default :class:`~mmplug.core.context.BuildContext` when None; see
        :meth:`PartSpec.build` for how its failures are reported)."""
        from mmplug.core.context import BuildContext  # lazy: keeps the registry light
        from mmplug.core.options import validate_options

        kind = Kind.parse(kind)
        spec = self.get(kind, name)
        section = section or kind.value
        model = validate_options(spec, options or {}, path=section)
        return spec.build(model, context if context is not None else BuildContext(section=section), section=section)


def _part_key(kind: Kind | str, name: str, *args: Any, **kwargs: Any) -> tuple[str, str]:
    """The key of a ``register(kind, name, ...)`` call."""
    return Kind.parse(kind).value, name


def _preset_key(name: str, *args: Any, **kwargs: Any) -> tuple[str, str]:
    """The key of a ``register_preset(name, ...)`` call."""
    return PRESET, name
