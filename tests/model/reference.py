"""Shared helpers of the parity tests: tiny random reference models (transformers, test-only)
and the same architecture built through mmplug, with identical weights.

One description (:class:`Tiny`) drives both sides, so every parity test compares two builds
of the same numbers.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Any

import torch

IMAGE, VIDEO, PAD = 120, 121, 122


@dataclass(frozen=True)
class Tiny:
    """A tiny Video-LLaVA: CLIP 32 wide, 3 layers, 42 px / 14 px patches (9 patches);
    a 2-layer decoder 64 wide, 4 heads over 2 kv heads, vocabulary 128."""

    text: str = "llama"  # "llama" or "mistral"
    sliding_window: int | None = None
    vision_feature_layer: int | tuple = -2  # a tuple for several layers (hashable)
    image_strategy: str = "default"
    attention: str = "eager"
    num_layers: int = 3
    text_extra: tuple = ()  # extra decoder options as (key, value) pairs; dicts as pair tuples (hashable)

    def with_(self, **changes: Any) -> "Tiny":
        return replace(self, **changes)

    @property
    def feature_layer(self) -> int | list[int]:
        layer = self.vision_feature_layer
        return list(layer) if isinstance(layer, tuple) else layer

    def clip(self) -> dict:
        return {"hidden_size": 32, "intermediate_size": 64, "num_layers": self.num_layers, "num_heads": 4,
                "image_size": 42, "patch_size": 14}

    def decoder(self) -> dict:
        options = {"hidden_size": 64, "intermediate_size": 128, "num_layers": 2, "num_heads": 4,
                   "num_kv_heads": 2, "vocab_size": 128, "rms_norm_eps": 1e-6,
                   **{k: dict(v) if isinstance(v, tuple) else v for k, v in self.text_extra}}
        if self.sliding_window is not None:
            options["sliding_window"] = self.sliding_window
        return options

    def mmplug_config(self) -> dict:
        """The pipeline config dict (model sections only)."""
        return {
            "vision_encoder": {"name": "clip", **self.clip()},
            "video_encoder": {"name": "clip", **self.clip()},
            "projector": {"name": "mlp2x_gelu"},
            "language_model": {"name": self.text, **self.decoder()},
            "attention": {"name": self.attention},
            "multimodal": {"image_token_id": IMAGE, "video_token_id": VIDEO, "pad_token_id": PAD,
                           "vision_feature_layer": self.feature_layer,
                           "image_feature_select_strategy": self.image_strategy},
        }

    def reference_config(self) -> Any:
        from transformers import VideoLlavaConfig

        clip = self.clip()
        vision = {"model_type": "clip_vision_model", "hidden_size": clip["hidden_size"],
                  "intermediate_size": clip["intermediate_size"], "num_hidden_layers": clip["num_layers"],
                  "num_attention_heads": clip["num_heads"], "image_size": clip["image_size"],
                  "patch_size": clip["patch_size"], "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5}
        ours = self.decoder()
        renamed = {"num_layers": "num_hidden_layers", "num_heads": "num_attention_heads",
                   "num_kv_heads": "num_key_value_heads"}
        text = {"model_type": self.text, **{renamed.get(k, k): v for k, v in ours.items()}}
        return VideoLlavaConfig(vision_config=vision, text_config=text, image_token_index=IMAGE,
                                video_token_index=VIDEO, pad_token_id=PAD,
                                vision_feature_layer=self.feature_layer,
                                vision_feature_select_strategy=self.image_strategy,
                                attn_implementation=self.attention)

    @property
    def tokens_per_image(self) -> int:
        return 9 + (1 if self.image_strategy == "full" else 0)

    tokens_per_frame = 10  # videos use the "full" strategy, as in the reference


def randomize(module: torch.nn.Module, seed: int = 0) -> None:
    """Give every parameter O(1)-scale random values (norm weights near 1), so parity
    compares non-trivial numbers (default inits leave biases at 0 and norms at 1)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in module.named_parameters():
            noise = torch.randn(p.shape, generator=generator) * 0.1
            p.copy_(noise + 1 if "norm" in name and name.endswith("weight") else noise)


@functools.lru_cache(maxsize=None)
def build_pair(tiny: Tiny, seed: int = 0) -> tuple[Any, Any]:
    """(reference model, mmplug model), both fp32 eval, with identical weights (cached: do not
    modify the models in tests)."""
    from transformers import VideoLlavaForConditionalGeneration

    from mmplug.core.builder import build_model
    from mmplug.core.checkpoint import rename_to_model
    from mmplug.registry import discover

    torch.manual_seed(seed)
    reference = VideoLlavaForConditionalGeneration(tiny.reference_config()).eval()
    randomize(reference, seed)
    ours = build_model(tiny.mmplug_config(), registry=discover()).eval()
    ours.load_state_dict(rename_to_model(reference.state_dict(), "state_dict"), strict=True)
    return reference, ours


def prompt(tiny: Tiny, *parts: Any) -> list[int]:
    """Token ids: ints are text tokens, "image" an image's placeholder run, ("video", T) a video's."""
    ids: list[int] = []
    for part in parts:
        if isinstance(part, int):
            ids.append(part)
        elif part == "image":
            ids += [IMAGE] * tiny.tokens_per_image
        else:
            ids += [VIDEO] * tiny.tokens_per_frame * part[1]
    return ids


def left_pad(rows: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """(input_ids, attention_mask) (B,S), rows left-padded with PAD."""
    width = max(len(r) for r in rows)
    ids = torch.tensor([[PAD] * (width - len(r)) + r for r in rows])
    mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows])
    return ids, mask


def pixels(*shape: int, seed: int = 1) -> torch.Tensor:
    return torch.randn(*shape, 3, 42, 42, generator=torch.Generator().manual_seed(seed))


def reference_positions(mask: torch.Tensor) -> torch.Tensor:
    """Position ids the reference's generate() derives for left padding (B,S)."""
    return (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1)
