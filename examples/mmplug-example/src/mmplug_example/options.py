"""Options of the example parts (pydantic only: no torch here)."""
from __future__ import annotations

import math

from pydantic import Field

from mmplug.core.model.activations import ActivationName
from mmplug.core.options import PluginOptions, ProjectorOptions


def token_layout(length: int, grid: tuple[int, int] | None, has_cls_token: bool | None) -> tuple[int, int, int]:
    """(leading CLS tokens, rows, columns) of ``length`` vision tokens.

    Inside a pipeline the builder wires the tower's patch ``grid`` and whether it has a CLS
    token, so the layout is exact. A projector built alone (no wiring) takes a square grid,
    after one CLS token when ``length`` is a square plus one.
    """
    if grid is not None:
        rows, cols = grid
        cls = length - rows * cols
        if cls not in ((0, 1) if has_cls_token else (0,)):
            raise ValueError(f"pooled_mlp2x_gelu got {length} tokens for a {rows}x{cols} patch grid"
                             + (" (+1 CLS token)" if has_cls_token else ""))
        return cls, rows, cols
    for cls in (0, 1):
        side = math.isqrt(length - cls)
        if side * side == length - cls:
            return cls, side, side
    raise ValueError(f"pooled_mlp2x_gelu needs a square patch grid, got {length} tokens")


class PooledProjectorOptions(ProjectorOptions):
    """Pool ``pool`` x ``pool`` patches, then an MLP; a leading CLS token passes through."""

    pool: int = Field(default=2, ge=1)
    hidden_act: ActivationName = "gelu"

    def output_length(self, length: int, *, grid: tuple[int, int] | None = None,
                      has_cls_token: bool | None = None) -> int:
        """256 patch tokens (16x16) -> 64; 257 (CLS + 256) -> 65."""
        cls, rows, cols = token_layout(length, grid, has_cls_token)
        return cls + math.ceil(rows / self.pool) * math.ceil(cols / self.pool)


class SceneChangeOptions(PluginOptions):
    """Pick ``num_frames`` frames, preferring those just after big content changes."""

    num_frames: int = Field(default=8, ge=1)
    candidates: int = Field(default=64, ge=2, description="low-resolution frames compared")
    thumbnail: int = Field(default=32, ge=8, description="side of the thumbnails compared, in pixels")
