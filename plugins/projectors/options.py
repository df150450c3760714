"""Options of the built-in projectors (torch-free)."""
from __future__ import annotations

from pydantic import Field, field_validator

from mmplug.core.model.activations import check_activation
from mmplug.core.options import ProjectorOptions


class LinearOptions(ProjectorOptions):
    """One Linear layer from vision width to text width."""

    bias: bool = True


class Mlp2xOptions(ProjectorOptions):
    """Linear(in, out) -> activation -> Linear(out, out) (LLaVA's ``mlp2x_gelu``)."""

    hidden_act: str = Field(default="gelu", description="Activation between the two layers.")
    bias: bool = True

    @field_validator("hidden_act")
    @classmethod
    def _known_activation(cls, value: str) -> str:
        return check_activation(value)
