"""Vision encoders (towers). Implementations are ``torch.nn.Module`` subclasses."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    import torch


class VisionEncoder(ABC):
    """Pixels (N,3,H,W) -> hidden states of the requested layers.

    Layer indices follow the usual ``hidden_states`` convention: 0 is the
    embedding output, ``num_layers`` the last block's output, negatives count
    from the end. Layers after the deepest requested one are not computed.
    """

    hidden_size: int
    num_layers: int
    #: Patch tokens per image (e.g. 256 for 224 px / 14 px patches).
    patches_per_image: int
    #: Whether position 0 of every hidden state is a CLS token.
    has_cls_token: bool

    def tokens_per_image(self, strategy: str) -> int:
        """Tokens one image yields: "default" drops the CLS token, "full" keeps it."""
        if strategy not in ("default", "full"):
            raise ValueError(f"unknown feature select strategy {strategy!r}; use 'default' or 'full'")
        return self.patches_per_image + (1 if self.has_cls_token and strategy == "full" else 0)

    @abstractmethod
    def hidden_states(self, pixels: "torch.Tensor", layers: Sequence[int]) -> list["torch.Tensor"]:
        """One (N, tokens, hidden_size) tensor per entry of ``layers``, in that order;
        tokens = patches_per_image (+1 with a CLS token, which comes first)."""
