"""Model assembly: the multimodal model that joins vision towers, projector and decoder.

Importing this package is cheap; the torch-based classes load on first attribute access
(``from mmplug.core.model import MultimodalModel``), so torch-free modules such as
:mod:`mmplug.core.model.activations` can be used by plugin options.
"""
from __future__ import annotations

from mmplug.core.lazy import lazy_attributes

_LAZY = {
    "MultimodalModel": "mmplug.core.model.multimodal",
    "MultimodalOutput": "mmplug.core.model.multimodal",
    "KVCache": "mmplug.core.model.cache",
}

__all__ = list(_LAZY)
__getattr__ = lazy_attributes(__name__, _LAZY)
