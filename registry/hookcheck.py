"""Hook implementations mmplug would never call: a misspelt hook name, a missing ``@hookimpl``.

pluggy accepts both silently (the function is simply never called), so a plugin with a
typo registers nothing and is reported nowhere; these checks turn them into failures.
"""
from __future__ import annotations

import difflib
import inspect

import pluggy

PREFIX = "mmplug_"


def hook_names(manager: pluggy.PluginManager) -> list[str]:
    """The hooks mmplug defines (those with a specification)."""
    return sorted(name for name, caller in vars(manager.hook).items()
                  if not name.startswith("_") and caller.has_spec())


def never_called(manager: pluggy.PluginManager, plugin: object) -> list[str]:
    """One message per function of ``plugin`` (already registered with ``manager``) that looks
    like an mmplug hook implementation but that no mmplug hook will call."""
    known = hook_names(manager)
    problems = []
    for caller in manager.get_hookcallers(plugin) or []:
        if caller.has_spec():
            continue
        for impl in caller.get_hookimpls():
            if impl.plugin is plugin:
                function = impl.function.__name__
                hook = "" if function == caller.name else f" (as hook {caller.name!r})"
                problems.append(f"@hookimpl {function!r}{hook} implements no mmplug hook"
                                f"{_did_you_mean(caller.name, known)}, so it is never called; "
                                f"mmplug's hooks are {', '.join(known)}")
    for name in dir(plugin):
        if not name.startswith(PREFIX) or manager.parse_hookimpl_opts(plugin, name) is not None:
            continue
        function = inspect.getattr_static(plugin, name, None)
        if inspect.isfunction(function) and (name in known or difflib.get_close_matches(name, known, n=1, cutoff=0.8)):
            problems.append(f"{name!r} looks like an mmplug hook but has no @hookimpl decorator "
                            f"(from mmplug.registry import hookimpl), so it is never called")
    return problems


def _did_you_mean(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
