"""Projectors: vision features -> language-model embeddings."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


class Projector(ABC):
    """(N,L,in_features) -> (N,L',out_features), with L' = ``output_length(L)``.

    ``in_features`` = vision hidden size x number of feature layers and
    ``out_features`` = text hidden size; the builder wires both.
    """

    in_features: int
    out_features: int

    def output_length(self, length: int) -> int:
        """Tokens out for ``length`` tokens in (identity unless the projector pools)."""
        return length

    @abstractmethod
    def forward(self, features: "torch.Tensor") -> "torch.Tensor":
        """Projected features (N, output_length(L), out_features)."""
