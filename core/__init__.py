"""mmplug.core: interfaces, config schema, builder, model assembly and generation.

Importing this package is cheap; heavy members are imported on first use.
"""
from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "Pipeline": "mmplug.core.pipeline",
    "PipelineConfig": "mmplug.core.config",
    "load_config": "mmplug.core.config",
    "resolve_config": "mmplug.core.config",
    "build_model": "mmplug.core.builder",
    "build_part": "mmplug.core.builder",
    "MmplugError": "mmplug.core.errors",
    "ConfigError": "mmplug.core.errors",
    "MediaError": "mmplug.core.errors",
    "CheckpointError": "mmplug.core.errors",
    "ProcessorError": "mmplug.core.errors",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mmplug.core' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
