"""Options of the example parts (pydantic only: no torch here)."""
from __future__ import annotations

import math

from pydantic import Field

from mmplug.core.options import PluginOptions, ProjectorOptions


def grid_side(tokens: int) -> int | None:
    """Side of a square token grid, or None if ``tokens`` is not a square."""
    side = math.isqrt(tokens)
    return side if side * side == tokens else None


class PooledProjectorOptions(ProjectorOptions):
    """Pool ``pool`` x ``pool`` patches, then an MLP; a leading CLS token passes through."""

    pool: int = Field(default=2, ge=1)
    hidden_act: str = "gelu"

    def output_length(self, length: int) -> int:
        """256 patch tokens -> 64; 257 (CLS + 256) -> 65."""
        cls = 0 if grid_side(length) else 1
        side = grid_side(length - cls)
        if side is None:
            raise ValueError(f"pooled_mlp2x_gelu needs a square patch grid, got {length} tokens")
        return cls + math.ceil(side / self.pool) ** 2


class SceneChangeOptions(PluginOptions):
    """Pick ``num_frames`` frames, preferring those just after big content changes."""

    num_frames: int = Field(default=8, ge=1)
    candidates: int = Field(default=64, ge=2, description="low-resolution frames compared")
    thumbnail: int = Field(default=32, ge=8, description="side of the thumbnails compared, in pixels")
