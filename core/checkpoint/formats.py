"""Pick the checkpoint format (a ``checkpoint_format`` plugin) that a checkpoint is written in.

Every registered format is asked ``matches(keys, config)``; exactly one must answer yes.
A format with ``loadable = False`` (see :class:`~mmplug.core.interfaces.checkpoint.CheckpointFormat`)
is recognised but refused with its ``hint``.
"""
from __future__ import annotations

from typing import Any, Iterable

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
    found, broken = [], []
    for name in format_names(registry):
        try:
            fmt = build_format(registry, name)
        except MmplugError as exc:  # a broken format plugin must not hide the others
            broken.append(f"{name} ({exc})")
            continue
        if fmt.matches(keys, config):
            found.append((name, fmt))
    if len(found) == 1:
        return found[0]
    sample = sorted({key.rsplit(".", 3)[0] for key in keys})[:8]
    if not found:
        raise CheckpointError(
            f"{where}: no installed checkpoint format recognises these tensor names (e.g. {', '.join(sample)}). "
            f"Installed formats: {', '.join(format_names(registry)) or 'none'}. If this is a Video-LLaVA "
            "checkpoint in one of them, pass layout=NAME to see which keys do not fit; otherwise install a "
            "checkpoint_format plugin for it."
            + (f" Formats that failed to load: {'; '.join(broken)}" if broken else ""))
    raise CheckpointError(f"{where}: the tensor names fit several checkpoint formats "
                          f"({', '.join(name for name, _ in found)}); pass layout=NAME to choose one")


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
