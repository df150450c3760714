"""LLaVA-OneVision's projector: MLP + image newline + 2x2 bilinear pooling of video frames.

Videos: frames (F,g*g,in) -> MLP -> (F,g,g,D) -> bilinear resize to ceil(g/2) x ceil(g/2) ->
(F,ceil(g/2)^2,D); one video's frames (T,L',D) -> (T*L' + 1, D) with ``image_newline`` last.
Images (anyres tiling, unpadding, a newline per row) are not implemented: they are refused.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from mmplug.core.context import BuildContext
from mmplug.core.errors import ConfigError, ConfigIssue, ProcessorError
from mmplug.plugins.llava_onevision.options import OnevisionProjectorOptions
from mmplug.plugins.projectors.mlp import Mlp2xProjector, widths


class OnevisionProjector(Mlp2xProjector):
    """(F,L,in) video frames -> pooled (F,L',out); ``image_newline`` (out,) ends each video."""

    def __init__(self, in_features: int, out_features: int, grid: tuple[int, int], *, hidden_act: str, bias: bool):
        super().__init__(in_features, out_features, hidden_act=hidden_act, bias=bias)
        self.grid = grid
        self.image_newline = nn.Parameter(torch.randn(out_features) / math.sqrt(out_features))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        raise ProcessorError("onevision_mlp: images need LLaVA-OneVision's anyres tiling, which mmplug does not "
                             "implement yet; pass videos only to this pipeline")

    def project_frames(self, features: torch.Tensor) -> torch.Tensor:
        frames, length, _ = features.shape
        rows, cols = self.grid
        if length != rows * cols:
            raise ProcessorError(f"onevision_mlp: frames have {length} tokens, expected the {rows}x{cols} patch grid")
        projected = super().forward(features).view(frames, rows, cols, -1).permute(0, 3, 1, 2)
        pooled = F.interpolate(projected, size=[math.ceil(rows / 2), math.ceil(cols / 2)], mode="bilinear")
        return pooled.permute(0, 2, 3, 1).reshape(frames, -1, self.out_features)

    def arrange_video(self, frames: torch.Tensor) -> torch.Tensor:
        return torch.cat([frames.flatten(0, 1), self.image_newline[None].to(frames.dtype)])


def build_onevision_projector(options: OnevisionProjectorOptions, context: BuildContext) -> OnevisionProjector:
    grid = context.wiring.get("grid")
    if grid is None or context.wiring.get("has_cls_token"):
        raise ConfigError([ConfigIssue("projector", "onevision_mlp needs a vision encoder with a patch grid and "
                                                    "no CLS token in the features (e.g. siglip)")])
    return OnevisionProjector(*widths(options, context), tuple(grid), hidden_act=options.hidden_act,
                              bias=options.bias)
