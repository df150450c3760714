"""Checkpoints: resolve a name to a directory, translate its config.json, load and save weights.

- :func:`resolve_pretrained` (name or path -> local directory; Hub via ``mmplug[hub]``)
- :func:`config_from_pretrained` (``config.json`` + processor files -> pipeline config dict)
- :func:`load_weights` (fill a meta-device model from safetensors, shard by shard)
- :func:`save_pretrained` (config.json + safetensors + processor files, loadable by transformers)

Importing this package is cheap; torch-based modules load on first use.
"""
from __future__ import annotations

from mmplug.core.lazy import lazy_attributes

_LAZY = {
    "resolve_pretrained": "mmplug.core.checkpoint.hub",
    "config_from_pretrained": "mmplug.core.checkpoint.pretrained_config",
    "load_weights": "mmplug.core.checkpoint.loader",
    "save_pretrained": "mmplug.core.checkpoint.saver",
    "convert_checkpoint": "mmplug.core.checkpoint.convert",
    "rename_to_model": "mmplug.core.checkpoint.formats",
}

__all__ = list(_LAZY)
__getattr__ = lazy_attributes(__name__, _LAZY)
