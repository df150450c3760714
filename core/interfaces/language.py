"""Language backbones: embeddings + cache -> hidden states -> logits."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch


@dataclass
class LanguageModelOutput:
    """``hidden`` (B,S,D) after the final norm; ``hidden_states``: the input embeddings and
    every layer's output when asked for; ``cache``: the updated KV cache (or None)."""

    hidden: "torch.Tensor"
    hidden_states: "list[torch.Tensor] | None" = None
    cache: Any = None


class LanguageModel(ABC):
    """A decoder-only language model."""

    hidden_size: int
    vocab_size: int
    num_layers: int

    @abstractmethod
    def embed(self, input_ids: "torch.Tensor") -> "torch.Tensor":
        """Token embeddings (B,S,D) of ids (B,S)."""

    @abstractmethod
    def decode(
        self,
        inputs_embeds: "torch.Tensor",
        *,
        attention_mask: "torch.Tensor | None" = None,
        position_ids: "torch.Tensor | None" = None,
        cache: Any = None,
        output_hidden_states: bool = False,
    ) -> LanguageModelOutput:
        """Run the decoder. ``attention_mask`` (B, past+S) 1 = real token, 0 = padding;
        ``position_ids`` (B,S); ``cache`` holds past keys/values and is updated in place."""

    @abstractmethod
    def logits(self, hidden: "torch.Tensor") -> "torch.Tensor":
        """Vocabulary logits (B,S,vocab_size) of hidden states (B,S,D)."""

    def set_gradient_checkpointing(self, enabled: bool = True) -> None:
        """Recompute the layers' activations in backward; models that cannot say so."""
        if enabled:
            from mmplug.core.errors import ConfigError, ConfigIssue

            raise ConfigError([ConfigIssue("multimodal.gradient_checkpointing", (
                f"this language model ({type(self).__name__}) does not support gradient checkpointing; "
                "turn the option off for this pipeline"))])
