"""Vision encoders (towers). Implementations are ``torch.nn.Module`` subclasses."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Sequence

from mmplug.core import feature_select
from mmplug.core.errors import ConfigError, ConfigIssue

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
        return feature_select.tokens_per_image(self.patches_per_image, self.has_cls_token, strategy)

    def layer_index(self, layer: int) -> int:
        """``layer`` (negatives count from the end) as 0..num_layers; a ConfigError otherwise."""
        try:
            return feature_select.layer_index(layer, self.num_layers)
        except ValueError as exc:
            raise ConfigError([ConfigIssue("multimodal.vision_feature_layer", str(exc))]) from None

    def set_gradient_checkpointing(self, enabled: bool = True) -> None:
        """Recompute the layers' activations in backward; towers that cannot say so."""
        if enabled:
            raise ConfigError([ConfigIssue("multimodal.gradient_checkpointing", (
                f"this vision encoder ({type(self).__name__}) does not support gradient checkpointing; "
                "turn the option off for this pipeline"))])

    @abstractmethod
    def hidden_states(self, pixels: "torch.Tensor", layers: Sequence[int]) -> list["torch.Tensor"]:
        """One (N, tokens, hidden_size) tensor per entry of ``layers``, in that order;
        tokens = patches_per_image (+1 with a CLS token, which comes first)."""
