"""The ``siglip`` image processor: the ``clip`` processor's two paths (PIL reference, batched
fast path for frames) with a square resize and no crop: images (N,H,W,3) -> (N,3,size,size)."""
from __future__ import annotations

from typing import Any

from mmplug.plugins.image.clip import ClipImageProcessor
from mmplug.plugins.siglip.options import SiglipImageOptions


class SiglipImageProcessor(ClipImageProcessor):
    """Images -> float32 pixels (N,3,size,size) (no crop: the aspect ratio is not kept)."""

    options: SiglipImageOptions

    def resized_size(self, height: int, width: int) -> tuple[int, int]:
        return self.options.size, self.options.size


def build_siglip_image_processor(options: SiglipImageOptions, context: Any = None) -> SiglipImageProcessor:
    """Factory of the ``siglip`` image processor (runs on the CPU; ``context`` unused)."""
    return SiglipImageProcessor(options)
