"""mmplug.core: interfaces, config schema, builder, model assembly and generation.

Importing this package is cheap; heavy members are imported on first use.
"""
from __future__ import annotations

from mmplug.core.lazy import lazy_attributes

_LAZY = {
    "Pipeline": "mmplug.core.pipeline",
    "PipelineConfig": "mmplug.core.config",
    "load_config": "mmplug.core.config",
    "resolve_config": "mmplug.core.resolve",
    "build_model": "mmplug.core.builder",
    "build_part": "mmplug.core.builder",
    "build_processor": "mmplug.core.builder",
    "GenerationConfig": "mmplug.core.generation",
    "MmplugError": "mmplug.core.errors",
    "ConfigError": "mmplug.core.errors",
    "MediaError": "mmplug.core.errors",
    "CheckpointError": "mmplug.core.errors",
    "ProcessorError": "mmplug.core.errors",
}

__all__ = sorted(_LAZY)
__getattr__ = lazy_attributes(__name__, _LAZY)
