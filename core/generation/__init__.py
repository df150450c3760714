"""Generation: sampling rules, the decode loop with a KV cache, stop conditions and streaming.

Importing this package is cheap (the options can be checked without torch); the decode loop
is imported on first use.
"""
from mmplug.core.lazy import lazy_attributes

_LAZY = {
    "GenerationConfig": "mmplug.core.generation.config",
    "GenerationOptionsError": "mmplug.core.generation.config",
    "GenerationResult": "mmplug.core.generation.engine",
    "decode_steps": "mmplug.core.generation.engine",
    "generate_ids": "mmplug.core.generation.engine",
}

__all__ = sorted(_LAZY)
__getattr__ = lazy_attributes(__name__, _LAZY)
