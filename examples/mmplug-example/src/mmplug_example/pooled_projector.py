"""A projector that average-pools vision tokens 2x2 per frame before the MLP.

(N, L, D_in) -> (N, L', D_out) with L' = ``PooledProjectorOptions.output_length(L)``. The patch
grid and whether the tower has a CLS token come from the builder's wiring.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mmplug.core.interfaces import Projector
from mmplug.registry import get_registry
from mmplug_example.options import PooledProjectorOptions, token_layout


class PooledProjector(nn.Module, Projector):
    def __init__(self, mlp: nn.Module, options: PooledProjectorOptions, grid: tuple[int, int] | None,
                 has_cls_token: bool):
        super().__init__()
        self.mlp = mlp
        self.in_features, self.out_features = mlp.in_features, mlp.out_features
        self.options, self.grid, self.has_cls_token = options, grid, has_cls_token

    def output_length(self, length: int) -> int:
        return self.options.output_length(length, grid=self.grid, has_cls_token=self.has_cls_token)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        cls, rows, cols = token_layout(features.shape[1], self.grid, self.has_cls_token)
        patches = features[:, cls:].transpose(1, 2).reshape(features.shape[0], features.shape[2], rows, cols)
        pooled = F.avg_pool2d(patches, self.options.pool, ceil_mode=True).flatten(2).transpose(1, 2)
        return self.mlp(torch.cat([features[:, :cls], pooled], dim=1))


def build(options: PooledProjectorOptions, context) -> PooledProjector:
    """Reuses the installed ``mlp2x_gelu`` projector for the MLP (plugins compose)."""
    mlp = get_registry().build("projector", "mlp2x_gelu", {"hidden_act": options.hidden_act}, context)
    return PooledProjector(mlp, options, context.wiring.get("grid"), context.wiring.get("has_cls_token", False))
