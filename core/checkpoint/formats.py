"""Pick the checkpoint format (a ``checkpoint_format`` plugin) that a checkpoint is written in.

Every registered format is asked ``matches(keys, config)``; exactly one must answer yes.
A format with ``loadable = False`` (see :class:`~mmplug.core.interfaces.checkpoint.CheckpointFormat`)
is recognised but refused with its ``hint``; when no format matches, the error names the stray
keys of the closest one (``unmatched_keys``).
"""
from __future__ import annotations

from typing import Any, Iterable

from mmplug.core.checkpoint.keys import group_keys
from mmplug.core.errors import CheckpointError, MmplugError, PluginLoadError
from mmplug.core.interfaces.checkpoint import CheckpointFormat

KIND = "checkpoint_format"


def format_names(registry: Any) -> list[str]:
    return registry.names(KIND)


def build_format(registry: Any, name: str) -> Any:
    """The format registered as ``name`` (unknown names list the installed ones)."""
    fmt = registry.build(KIND, name, {})
    if not isinstance(fmt, CheckpointFormat):
        raise PluginLoadError(f"checkpoint_format {name!r} built a {type(fmt).__name__}, not a CheckpointFormat "
                              "(derive from mmplug.core.interfaces.CheckpointFormat)")
    return fmt


def detect_format(keys: Iterable[str], config: dict[str, Any], *, registry: Any, where: str,
                  layout: str | None = None) -> tuple[str, Any]:
    """(name, format) of the layout ``keys`` are written in; ``layout`` forces one by name."""
    keys = list(keys)
    if layout is not None:
        return layout, build_format(registry, layout)
    found, built, broken = [], [], []
    for name in format_names(registry):
        try:
            fmt = build_format(registry, name)
        except MmplugError as exc:  # a broken format plugin must not hide the others
            broken.append(f"{name} ({exc})")
            continue
        built.append((name, fmt))
        if fmt.matches(keys, config):
            found.append((name, fmt))
    if len(found) == 1:
        return found[0]
    if not found:
        closest = _closest(built, keys, config)
        if closest is not None:
            name, stray = closest
            what = (f"closest is the {name!r} layout, which has no place for {len(stray)} of the {len(keys)} "
                    f"tensor(s):\n{group_keys(stray)}\nRemove them (a stray file or tensors of another model?), "
                    f"or load with layout={name!r} and allow_unused=[glob, ...] to skip them on purpose.")
        else:
            sample = sorted({key.rsplit(".", 3)[0] for key in keys})[:8]
            what = (f"e.g. {', '.join(sample)}. If this is a Video-LLaVA checkpoint in one of them, pass "
                    "layout=NAME to see which keys do not fit; otherwise install a checkpoint_format plugin for it.")
        raise CheckpointError(
            f"{where}: no installed checkpoint format recognises these tensor names "
            f"(installed formats: {', '.join(format_names(registry)) or 'none'}); {what}"
            + (f" Formats that failed to load: {'; '.join(broken)}" if broken else ""))
    raise CheckpointError(f"{where}: the tensor names fit several checkpoint formats "
                          f"({', '.join(name for name, _ in found)}); pass layout=NAME to choose one")


def _closest(formats: list[tuple[str, Any]], keys: list[str], config: dict[str, Any]) -> tuple[str, list[str]] | None:
    """(name, unmatched keys) of the format that fails on the fewest keys, if it fits most of them."""
    best: tuple[str, list[str]] | None = None
    for name, fmt in formats:
        stray = fmt.unmatched_keys(keys, config)
        if stray is None:
            continue
        stray = list(stray)
        if stray and (best is None or len(stray) < len(best[1])):
            best = (name, stray)
    return best if best is not None and len(best[1]) * 2 < len(keys) else None


def require_loadable(name: str, fmt: Any, where: str) -> None:
    """Stop with the format's own advice when it cannot be loaded directly."""
    if fmt.loadable:
        return
    raise CheckpointError(f"{where} is in the {name!r} layout ({fmt.description or name}), which mmplug does not "
                          f"load directly: {fmt.hint}")


def rename_to_model(state_dict: dict[str, Any], layout: str, *, registry: Any = None) -> dict[str, Any]:
    """An in-memory state dict written in ``layout`` with mmplug parameter names (tensors
    untouched; entries that are not weights dropped). E.g. a transformers model's
    ``state_dict()`` with ``layout="state_dict"``."""
    from mmplug.registry import get_registry

    fmt = build_format(registry or get_registry(), layout)
    renamed = {fmt.to_model_key(key): value for key, value in state_dict.items()}
    renamed.pop(None, None)
    return renamed
