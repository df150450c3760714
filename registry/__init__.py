"""Plugin registry of mmplug: pluggy hook specs, entry-point discovery, typed registry.

Importing this package is cheap: it never imports torch or model code.

A plugin module needs only::

    from mmplug.registry import hookimpl

    @hookimpl
    def mmplug_register_parts(register):
        register("projector", "my_proj", "my_pkg.proj:build", options="my_pkg.opts:MyOptions",
                 summary="What it does")
"""
from mmplug.registry.discovery import (
    ENTRY_POINT_GROUP,
    discover,
    get_registry,
    set_registry,
    use_registry,
)
from mmplug.registry.hookspecs import hookimpl, hookspec
from mmplug.registry.kinds import Kind
from mmplug.registry.registry import Registry
from mmplug.registry.spec import PartSpec, PluginFailure, PresetSpec, Provenance, Unusable, resolve_reference

__all__ = [
    "ENTRY_POINT_GROUP", "Kind", "PartSpec", "PluginFailure", "PresetSpec", "Provenance", "Registry",
    "Unusable", "discover", "get_registry", "hookimpl", "hookspec", "resolve_reference", "set_registry",
    "use_registry",
]
