"""The CLIP ViT vision tower: patch + class + position embeddings, pre-layernorm,
pre-norm encoder layers (attention, activation MLP), post-layernorm.

Parameter names follow the published checkpoints inside ``vision_model``
(``embeddings.patch_embedding.weight``, ``pre_layrnorm.*``, ``encoder.layers.N.*``,
``post_layernorm.*``), so loading one is prefix renaming only.
"""
from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import nn

from mmplug.core.context import BuildContext
from mmplug.core.errors import ProcessorError
from mmplug.core.interfaces.vision import VisionEncoder
from mmplug.core.model.activations import build_activation
from mmplug.core.model.checkpointing import run_layer
from mmplug.plugins.clip.options import ClipOptions


class ClipEmbeddings(nn.Module):
    """Pixels (N,C,H,W) -> [CLS] + patch tokens with learned positions (N,1+P,D)."""

    def __init__(self, o: ClipOptions):
        super().__init__()
        self.class_embedding = nn.Parameter(torch.empty(o.hidden_size))
        self.patch_embedding = nn.Conv2d(o.num_channels, o.hidden_size, o.patch_size, o.patch_size, bias=False)
        self.position_embedding = nn.Embedding(o.patches_per_image + 1, o.hidden_size)
        nn.init.normal_(self.class_embedding, std=0.02)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        patches = self.patch_embedding(pixels.to(self.patch_embedding.weight.dtype))  # (N,D,g,g)
        patches = patches.flatten(2).transpose(1, 2)
        cls = self.class_embedding.expand(patches.shape[0], 1, -1)
        return torch.cat([cls, patches], dim=1) + self.position_embedding.weight


class ClipAttention(nn.Module):
    """Bidirectional multi-head self-attention (N,L,D) -> (N,L,D)."""

    def __init__(self, o: ClipOptions, backend: Any):
        super().__init__()
        self.num_heads = o.num_heads
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (
            nn.Linear(o.hidden_size, o.hidden_size) for _ in range(4))
        self.backend = backend

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, length, _ = x.shape
        q, k, v = (proj(x).view(n, length, self.num_heads, -1).transpose(1, 2)
                   for proj in (self.q_proj, self.k_proj, self.v_proj))
        out = self.backend(q, k, v, causal=False)
        return self.out_proj(out.transpose(1, 2).reshape(n, length, -1))


class ClipMlp(nn.Module):
    def __init__(self, o: ClipOptions):
        super().__init__()
        self.fc1 = nn.Linear(o.hidden_size, o.intermediate_size)
        self.activation = build_activation(o.hidden_act)
        self.fc2 = nn.Linear(o.intermediate_size, o.hidden_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.activation(self.fc1(x), in_place=True))


class ClipLayer(nn.Module):
    """Pre-norm transformer block (N,L,D) -> (N,L,D)."""

    def __init__(self, o: ClipOptions, backend: Any):
        super().__init__()
        self.layer_norm1 = nn.LayerNorm(o.hidden_size, eps=o.layer_norm_eps)
        self.self_attn = ClipAttention(o, backend)
        self.layer_norm2 = nn.LayerNorm(o.hidden_size, eps=o.layer_norm_eps)
        self.mlp = ClipMlp(o)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.self_attn(self.layer_norm1(x))
        return x + self.mlp(self.layer_norm2(x))


class ClipEncoder(nn.Module):
    def __init__(self, o: ClipOptions, backend: Any):
        super().__init__()
        self.layers = nn.ModuleList(ClipLayer(o, backend) for _ in range(o.num_layers))


class ClipVisionTower(nn.Module, VisionEncoder):
    """Pixels (N,C,S,S) -> hidden states (N, 1+P, D) of requested layers; P = (S/patch)^2,
    the CLS token first. Layer 0 is the pre-layernormed embedding, layer k the k-th block's output.
    ``post_layernorm`` holds the published checkpoints' weights of that name; nothing here applies
    it (it would normalise a pooled CLS output), and the features never pass through it."""

    has_cls_token = True

    def __init__(self, options: ClipOptions, attention: Any):
        super().__init__()
        self.options = options
        self.hidden_size = options.hidden_size
        self.num_layers = options.num_layers
        self.patches_per_image = options.patches_per_image
        self.gradient_checkpointing = False
        self.embeddings = ClipEmbeddings(options)
        self.pre_layrnorm = nn.LayerNorm(options.hidden_size, eps=options.layer_norm_eps)
        self.encoder = ClipEncoder(options, attention)
        self.post_layernorm = nn.LayerNorm(options.hidden_size, eps=options.layer_norm_eps)

    def hidden_states(self, pixels: torch.Tensor, layers: Sequence[int]) -> list[torch.Tensor]:
        """One (N, 1+P, D) tensor per entry of ``layers``; blocks past the deepest one are skipped."""
        self._check_pixels(pixels)
        wanted = [self.layer_index(layer) for layer in layers]
        states = {0: self.pre_layrnorm(self.embeddings(pixels))}
        x = states[0]
        for index, block in enumerate(self.encoder.layers[:max(wanted)], start=1):
            x = run_layer(block, x, checkpointing=self.gradient_checkpointing and self.training)
            states[index] = x
        return [states[index] for index in wanted]

    def forward(self, pixels: torch.Tensor, layers: Sequence[int] = (-1,)) -> list[torch.Tensor]:
        return self.hidden_states(pixels, layers)

    def set_gradient_checkpointing(self, enabled: bool = True) -> None:
        self.gradient_checkpointing = enabled

    def _check_pixels(self, pixels: torch.Tensor) -> None:
        check_pixels(pixels, self.options, tower="CLIP", fix="resize/crop")


def check_pixels(pixels: torch.Tensor, o: Any, *, tower: str, fix: str) -> None:
    """Pixels must be (N, num_channels, image_size, image_size); the error says how to get them."""
    expected = (o.num_channels, o.image_size, o.image_size)
    if pixels.dim() != 4 or tuple(pixels.shape[1:]) != expected:
        raise ProcessorError(f"{tower} tower expects pixels (N,{o.num_channels},{o.image_size},{o.image_size}), "
                             f"got {tuple(pixels.shape)}; {fix} images to {o.image_size} px "
                             "with the pipeline's image processor")


def build_clip(options: ClipOptions, context: BuildContext) -> ClipVisionTower:
    """Factory: the tower, running ``context.attention``."""
    return ClipVisionTower(options, context.require_attention())
