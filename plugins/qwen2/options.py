"""Options of the ``qwen2`` decoder (torch-free).

Sliding windows are expressed as Qwen2 configs express them: ``use_sliding_window`` turns
them on, ``sliding_window`` is the width, and the layers that use it are those named
``sliding_attention`` in ``layer_types`` (default: layers ``max_window_layers`` and above).
"""
from __future__ import annotations

from typing import Literal

from pydantic import Field, NonNegativeInt, PositiveInt, model_validator

from mmplug.core.checkpoint.hf_mapping import SubConfigMapping
from mmplug.plugins.language.options import LlamaOptions

LayerType = Literal["full_attention", "sliding_attention"]

#: transformers' Qwen2Config (4.56.2) defaults, in HF key names. Qwen2 has no ``head_dim``,
#: ``attention_bias`` or ``mlp_bias`` keys: q/k/v always carry biases, o_proj and the MLP never.
QWEN2 = SubConfigMapping("qwen2", {
    "vocab_size": 151936, "hidden_size": 4096, "intermediate_size": 22016, "num_hidden_layers": 32,
    "num_attention_heads": 32, "num_key_value_heads": 32, "hidden_act": "silu", "max_position_embeddings": 32768,
    "rms_norm_eps": 1e-6, "tie_word_embeddings": False, "rope_theta": 10000.0, "rope_scaling": None,
    "use_sliding_window": False, "sliding_window": 4096, "max_window_layers": 28, "layer_types": None,
}, same_as={"num_key_value_heads": "num_attention_heads"})


class Qwen2Options(LlamaOptions):
    """A Qwen2 decoder (e.g. Qwen2-0.5B: hidden 896, 24 layers, 14 heads over 2 kv heads, tied embeddings)."""

    qkv_bias: bool | None = True
    max_position_embeddings: PositiveInt = 32768
    use_sliding_window: bool = False
    sliding_window: PositiveInt | None = Field(default=None, description="Keys a query sees, itself included.")
    max_window_layers: NonNegativeInt = Field(default=28, description="Layers below it attend fully.")
    layer_types: list[LayerType] | None = Field(
        default=None, description="Per layer attention; None: sliding from max_window_layers on.")

    @model_validator(mode="after")
    def _windows(self) -> "Qwen2Options":
        if self.use_sliding_window and self.sliding_window is None:
            raise ValueError("use_sliding_window is true but sliding_window is not set")
        if self.layer_types is not None and len(self.layer_types) != self.num_layers:
            raise ValueError(f"layer_types has {len(self.layer_types)} entries for {self.num_layers} layers")
        return self

    def layer_window(self, layer: int) -> int | None:
        if not self.use_sliding_window:
            return None
        kind = (self.layer_types[layer] if self.layer_types is not None else
                "sliding_attention" if layer >= self.max_window_layers else "full_attention")
        return self.sliding_window if kind == "sliding_attention" else None

    @property
    def window(self) -> int | None:
        windows = {self.layer_window(i) for i in range(self.num_layers)} - {None}
        return self.sliding_window if windows else None
