"""A projector that average-pools vision tokens 2x2 per frame before the MLP.

(N, L, D_in) -> (N, L', D_out) with L' = ``PooledProjectorOptions.output_length(L)``.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mmplug.core.interfaces import Projector
from mmplug.registry import get_registry
from mmplug_example.options import PooledProjectorOptions, grid_side


class PooledProjector(nn.Module, Projector):
    def __init__(self, mlp: nn.Module, options: PooledProjectorOptions):
        super().__init__()
        self.mlp = mlp
        self.in_features, self.out_features = mlp.in_features, mlp.out_features
        self.options = options

    def output_length(self, length: int) -> int:
        return self.options.output_length(length)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        length = features.shape[1]
        cls = 0 if grid_side(length) else 1
        side = grid_side(length - cls)
        patches = features[:, cls:].transpose(1, 2).reshape(features.shape[0], features.shape[2], side, side)
        pooled = F.avg_pool2d(patches, self.options.pool, ceil_mode=True).flatten(2).transpose(1, 2)
        return self.mlp(torch.cat([features[:, :cls], pooled], dim=1))


def build(options: PooledProjectorOptions, context) -> PooledProjector:
    """Reuses the installed ``mlp2x_gelu`` projector for the MLP (plugins compose)."""
    mlp = get_registry().build("projector", "mlp2x_gelu", {"hidden_act": options.hidden_act}, context)
    return PooledProjector(mlp, options)
