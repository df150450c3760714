"""Options of the built-in projectors (torch-free)."""
from __future__ import annotations

from pydantic import Field

from mmplug.core.model.activations import ActivationName
from mmplug.core.options import ProjectorOptions


class LinearOptions(ProjectorOptions):
    """One Linear layer from vision width to text width."""

    bias: bool = True


class Mlp2xOptions(ProjectorOptions):
    """Linear(in, out) -> activation -> Linear(out, out) (LLaVA's ``mlp2x_gelu``)."""

    hidden_act: ActivationName = Field(default="gelu", description="Activation between the two layers.")
    bias: bool = True
