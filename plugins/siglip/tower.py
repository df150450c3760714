"""The SigLIP ViT vision tower: patch (with bias) + position embeddings, no CLS token, no
pre-layernorm, the CLIP encoder blocks (tanh GELU MLP), a post-layernorm and an optional
attention-pooling head.

Parameter names follow SiglipVisionModel inside ``vision_model`` (``embeddings.patch_embedding.*``,
``encoder.layers.N.*``, ``post_layernorm.*``, ``head.*``), so loading one is prefix renaming only.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import nn

from mmplug.core.context import BuildContext
from mmplug.core.errors import ProcessorError
from mmplug.core.interfaces.vision import VisionEncoder
from mmplug.core.model.checkpointing import run_layer
from mmplug.plugins.clip.tower import ClipEncoder, ClipMlp, check_pixels
from mmplug.plugins.siglip.options import SiglipOptions


class SiglipEmbeddings(nn.Module):
    """Pixels (N,C,S,S) -> patch tokens with learned positions (N,P,D), P = (S // patch)^2."""

    def __init__(self, o: SiglipOptions):
        super().__init__()
        self.patch_embedding = nn.Conv2d(o.num_channels, o.hidden_size, o.patch_size, o.patch_size)
        self.position_embedding = nn.Embedding(o.patches_per_image, o.hidden_size)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        patches = self.patch_embedding(pixels.to(self.patch_embedding.weight.dtype))  # (N,D,g,g)
        return patches.flatten(2).transpose(1, 2) + self.position_embedding.weight


class SiglipPoolingHead(nn.Module):
    """Attention pooling with a learned probe: (N,P,D) -> (N,D)."""

    def __init__(self, o: SiglipOptions):
        super().__init__()
        self.probe = nn.Parameter(torch.randn(1, 1, o.hidden_size))
        self.attention = nn.MultiheadAttention(o.hidden_size, o.num_heads, batch_first=True)
        self.layernorm = nn.LayerNorm(o.hidden_size, eps=o.layer_norm_eps)
        self.mlp = ClipMlp(o)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = self.attention(self.probe.expand(x.shape[0], -1, -1), x, x, need_weights=False)[0]
        return (pooled + self.mlp(self.layernorm(pooled)))[:, 0]


class SiglipVisionTower(nn.Module, VisionEncoder):
    """Pixels (N,C,S,S) -> hidden states (N, P, D) of requested layers (no CLS token). Layer 0 is
    the embedding output, layer k the k-th block's output; ``post_layernorm`` (and the head) only
    serve :meth:`pooled` and :meth:`last_hidden_state`, never the features (as in LLaVA models)."""

    has_cls_token = False

    def __init__(self, options: SiglipOptions, attention: Any):
        super().__init__()
        self.options = options
        self.hidden_size, self.num_layers = options.hidden_size, options.num_layers
        self.patches_per_image = options.patches_per_image
        self.gradient_checkpointing = False
        self.embeddings = SiglipEmbeddings(options)
        self.encoder = ClipEncoder(options, attention)
        self.post_layernorm = nn.LayerNorm(options.hidden_size, eps=options.layer_norm_eps)
        self.head = SiglipPoolingHead(options) if options.use_head else None

    def hidden_states(self, pixels: torch.Tensor, layers: Sequence[int]) -> list[torch.Tensor]:
        """One (N, P, D) tensor per entry of ``layers``; blocks past the deepest one are skipped."""
        self._check_pixels(pixels)
        wanted = [self.layer_index(layer) for layer in layers]
        states = {0: self.embeddings(pixels)}
        x = states[0]
        for index, block in enumerate(self.encoder.layers[:max(wanted)], start=1):
            x = run_layer(block, x, checkpointing=self.gradient_checkpointing and self.training)
            states[index] = x
        return [states[index] for index in wanted]

    def last_hidden_state(self, pixels: torch.Tensor) -> torch.Tensor:
        """The post-layernormed last layer (N, P, D) (SiglipVisionModel's ``last_hidden_state``)."""
        return self.post_layernorm(self.hidden_states(pixels, [-1])[0])

    def pooled(self, pixels: torch.Tensor) -> torch.Tensor:
        """The attention-pooled image embedding (N, D); needs ``use_head``."""
        if self.head is None:
            raise ProcessorError("this SigLIP tower has no pooling head (use_head: false)")
        return self.head(self.last_hidden_state(pixels))

    def forward(self, pixels: torch.Tensor, layers: Sequence[int] = (-1,)) -> list[torch.Tensor]:
        return self.hidden_states(pixels, layers)

    def set_gradient_checkpointing(self, enabled: bool = True) -> None:
        self.gradient_checkpointing = enabled

    def _check_pixels(self, pixels: torch.Tensor) -> None:
        check_pixels(pixels, self.options, tower="SigLIP", fix="resize")


def build_siglip(options: SiglipOptions, context: BuildContext) -> SiglipVisionTower:
    """Factory: the tower, running ``context.attention``."""
    return SiglipVisionTower(options, context.require_attention())
