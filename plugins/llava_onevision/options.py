"""Options of the ``onevision_mlp`` projector (torch-free)."""
from __future__ import annotations

import math

from pydantic import Field

from mmplug.plugins.projectors.options import Mlp2xOptions


class OnevisionProjectorOptions(Mlp2xOptions):
    """LLaVA-OneVision's projector: the 2-layer MLP, a learned ``image_newline`` vector, video
    frames pooled 2x2 (bilinear) and one newline token after each video.

    ``vision_aspect_ratio`` / ``image_grid_pinpoints`` describe the anyres image tiling; they are
    kept so that a checkpoint's config round-trips, but images are refused (not implemented)."""

    vision_aspect_ratio: str = "anyres_max_9"
    image_grid_pinpoints: list[tuple[int, int]] | None = Field(
        default=None, description="(height, width) resolutions images are tiled to; None: OneVision's 36.")

    def frame_output_length(self, length: int, *, grid: tuple[int, int] | None = None,
                            has_cls_token: bool = False) -> int:
        if grid is None or has_cls_token or grid[0] * grid[1] != length:
            raise ValueError("onevision_mlp pools a patch grid: the vision encoder must declare a grid and video "
                             "features must not keep a CLS token")
        return math.ceil(grid[0] / 2) * math.ceil(grid[1] / 2)

    def video_extra_tokens(self) -> int:
        return 1
