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
    """Register parts: ``register(kind, name, factory, options=..., summary=..., hf_mapping=..., default=...)``.

    ``factory`` is a callable or a lazy ``"package.module:attr"`` string; it is
    called as ``factory(options, context)`` (a :class:`mmplug.core.context.BuildContext`)
    when the part is built. ``options`` is a pydantic model class (or lazy string)
    validating the part's options. ``hf_mapping`` (optional, lazy string) is the part's
    :class:`mmplug.core.checkpoint.hf_mapping.SubConfigMapping`: how a transformers
    sub-config of its model type becomes its options, so model families can read it.
    ``default=True`` makes it the part commands use when the user names none of its kind.
    """


@hookspec
def mmplug_register_presets(register: Callable[..., Any]) -> None:
    """Register named pipeline configs: ``register(name, config_dict_or_loader, summary=...)``."""
