"""Projectors: vision features (N,L,in_features) -> text embeddings (N,L,out_features).

Parameter names follow the published Video-LLaVA checkpoints (``linear_1``, ``linear_2``).
"""
from __future__ import annotations

import torch
from torch import nn

from mmplug.core.context import BuildContext
from mmplug.core.errors import ConfigError, ConfigIssue
from mmplug.core.interfaces.projector import Projector
from mmplug.core.model.activations import build_activation
from mmplug.core.options import ProjectorOptions
from mmplug.plugins.projectors.options import LinearOptions, Mlp2xOptions


class Mlp2xProjector(nn.Module, Projector):
    """(N,L,in) -> Linear -> activation -> Linear -> (N,L,out)."""

    def __init__(self, in_features: int, out_features: int, *, hidden_act: str = "gelu", bias: bool = True):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.linear_1 = nn.Linear(in_features, out_features, bias=bias)
        self.act = build_activation(hidden_act)
        self.linear_2 = nn.Linear(out_features, out_features, bias=bias)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.linear_2(self.act(self.linear_1(features), in_place=True))


class LinearProjector(nn.Module, Projector):
    """(N,L,in) -> Linear -> (N,L,out)."""

    def __init__(self, in_features: int, out_features: int, *, bias: bool = True):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.linear = nn.Linear(in_features, out_features, bias=bias)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.linear(features)


def widths(options: ProjectorOptions, context: BuildContext) -> tuple[int, int]:
    """(in_features, out_features) from the builder's wiring, else from the options."""
    found = {"in_features": context.wiring.get("in_features", options.in_features),
             "out_features": context.wiring.get("out_features", options.out_features)}
    missing = [key for key, value in found.items() if value is None]
    if missing:
        raise ConfigError([ConfigIssue(f"projector.{key}", "unknown width: build the projector inside a pipeline "
                                                           "(the builder wires it) or set it in the options")
                           for key in missing])
    return found["in_features"], found["out_features"]


def build_mlp2x(options: Mlp2xOptions, context: BuildContext) -> Mlp2xProjector:
    return Mlp2xProjector(*widths(options, context), hidden_act=options.hidden_act, bias=options.bias)


def build_linear(options: LinearOptions, context: BuildContext) -> LinearProjector:
    return LinearProjector(*widths(options, context), bias=options.bias)
