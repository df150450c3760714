"""The pluggy hook specifications of mmplug. A plugin module implements any of them
with ``@mmplug.registry.hookimpl`` and is found through the ``mmplug`` entry-point group.

Hooks must stay cheap: they register descriptions (names, summaries, lazy
``"module:attr"`` references) and never import torch or model code.
"""
from __future__ import annotations

from typing import Any, Callable

import pluggy

PROJECT = "mmplug"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def mmplug_register_parts(register: Callable[..., Any]) -> None:
    """Register parts: ``register(kind, name, factory, options=..., summary=...)``.

    ``factory`` is a callable or a lazy ``"package.module:attr"`` string; it is
    called as ``factory(options, context)`` when the part is built. ``options``
    is a pydantic model class (or lazy string) validating the part's options.
    """


@hookspec
def mmplug_register_presets(register: Callable[..., Any]) -> None:
    """Register named pipeline configs: ``register(name, config_dict_or_loader, summary=...)``."""
