"""Entry-point discovery (group ``mmplug``) and the process-wide default registry.

Environment:
- ``MMPLUG_PLUGINS``: comma-separated allow-list of entry-point or distribution
  names (e.g. ``mmplug,mmplug-example``); others are skipped.
- ``MMPLUG_DISABLE_ENTRY_POINTS=1``: load no entry points at all (tests).
"""
from __future__ import annotations

import contextlib
import os
from importlib import metadata
from typing import Iterator

from mmplug.registry.registry import Registry
from mmplug.registry.spec import Provenance

ENTRY_POINT_GROUP = "mmplug"
ALLOW_ENV = "MMPLUG_PLUGINS"
DISABLE_ENV = "MMPLUG_DISABLE_ENTRY_POINTS"

_default: Registry | None = None


def allow_list_from_env() -> set[str] | None:
    raw = os.environ.get(ALLOW_ENV, "").strip()
    if not raw:
        return None
    return {item.strip() for item in raw.split(",") if item.strip()}


def entry_points_disabled() -> bool:
    return os.environ.get(DISABLE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def discover(*, entry_points: bool | None = None, allow: set[str] | None = None) -> Registry:
    """A new registry filled from the ``mmplug`` entry points.

    A plugin that fails to import (any exception, ``SystemExit`` included; only
    ``KeyboardInterrupt`` goes through) is recorded in ``registry.failures`` and skipped.
    """
    registry = Registry()
    if entry_points is None:
        entry_points = not entry_points_disabled()
    if not entry_points:
        return registry
    allow = allow if allow is not None else allow_list_from_env()
    for entry_point in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=_order):
        provenance = _provenance(entry_point)
        if allow is not None and entry_point.name not in allow and provenance.distribution not in allow:
            continue
        try:
            plugin = entry_point.load()
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # noqa: BLE001 - a broken plugin is reported, never fatal (SystemExit too)
            registry.record_failure(provenance, exc)
            continue
        registry.add_plugin(plugin, provenance)
    return registry


def _order(entry_point: metadata.EntryPoint) -> tuple[int, str, str]:
    """Built-in plugins first, so third-party duplicates are the ones reported."""
    dist = _distribution_name(entry_point) or ""
    return (0 if dist == "mmplug" else 1, dist, entry_point.name)


def _distribution_name(entry_point: metadata.EntryPoint) -> str | None:
    dist = getattr(entry_point, "dist", None)
    return dist.metadata["Name"] if dist is not None else None


def _provenance(entry_point: metadata.EntryPoint) -> Provenance:
    dist = getattr(entry_point, "dist", None)
    if dist is None:
        return Provenance(plugin=entry_point.name)
    return Provenance(plugin=entry_point.name, distribution=dist.metadata["Name"], version=dist.version)


def get_registry() -> Registry:
    """The process-wide registry, discovered on first use."""
    global _default
    if _default is None:
        _default = discover()
    return _default


def set_registry(registry: Registry | None) -> None:
    """Replace the process-wide registry (``None``: rediscover on next use)."""
    global _default
    _default = registry


@contextlib.contextmanager
def use_registry(registry: Registry) -> Iterator[Registry]:
    """Temporarily make ``registry`` the process-wide one (handy in tests)."""
    global _default
    previous = _default
    _default = registry
    try:
        yield registry
    finally:
        _default = previous
