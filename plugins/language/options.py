"""Options of the built-in decoders ``llama`` and ``mistral`` (torch-free)."""
from __future__ import annotations

from typing import Any

from pydantic import Field, PositiveFloat, PositiveInt, field_validator, model_validator

from mmplug.core.checkpoint.hf_mapping import SubConfigMapping
from mmplug.core.model.activations import ActivationName
from mmplug.core.options import LanguageModelOptions, TextFacts

#: transformers' LlamaConfig / MistralConfig (4.56.2) defaults, in HF key names; unset
#: ``num_key_value_heads`` means ``num_attention_heads`` on both sides.
LLAMA = SubConfigMapping("llama", {
    "vocab_size": 32000, "hidden_size": 4096, "intermediate_size": 11008, "num_hidden_layers": 32,
    "num_attention_heads": 32, "num_key_value_heads": None, "hidden_act": "silu", "max_position_embeddings": 2048,
    "rms_norm_eps": 1e-6, "tie_word_embeddings": False, "rope_theta": 10000.0, "rope_scaling": None,
    "attention_bias": False, "mlp_bias": False, "head_dim": None,
}, same_as={"num_key_value_heads": "num_attention_heads"})
MISTRAL = SubConfigMapping("mistral", {
    "vocab_size": 32000, "hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32,
    "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": None, "hidden_act": "silu",
    "max_position_embeddings": 4096 * 32, "rms_norm_eps": 1e-6, "tie_word_embeddings": False,
    "rope_theta": 10000.0, "sliding_window": 4096,
}, same_as={"num_key_value_heads": "num_attention_heads"})

#: rope_type -> (required keys, optional keys) of ``rope_scaling`` besides ``rope_type``.
ROPE_SCALING_KEYS: dict[str, tuple[set[str], set[str]]] = {
    "default": (set(), set()),
    "linear": ({"factor"}, set()),
    "dynamic": ({"factor"}, set()),
    "llama3": ({"factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"}, set()),
    "yarn": ({"factor"}, {"original_max_position_embeddings", "attention_factor", "beta_fast", "beta_slow",
                          "mscale", "mscale_all_dim", "truncate"}),
}


def check_rope_scaling(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """Normalise an HF-style ``rope_scaling`` dict (``type`` -> ``rope_type``) and check its keys."""
    if value is None:
        return None
    value = dict(value)
    if "type" in value:
        value.setdefault("rope_type", value.pop("type"))
    kind = value.get("rope_type")
    if kind not in ROPE_SCALING_KEYS:
        raise ValueError(f"rope_type {kind!r} is not supported; use one of {', '.join(ROPE_SCALING_KEYS)}")
    required, optional = ROPE_SCALING_KEYS[kind]
    keys = set(value) - {"rope_type"}
    if required - keys:
        raise ValueError(f"rope_type {kind!r} needs {', '.join(sorted(required - keys))}")
    if keys - required - optional:
        raise ValueError(f"unknown key(s) {', '.join(sorted(keys - required - optional))} for rope_type {kind!r}")
    factor = value.get("factor")
    if factor is not None and (not isinstance(factor, (int, float)) or factor < 1):
        raise ValueError(f"factor must be a number >= 1, got {factor!r}")
    if kind == "llama3" and value["high_freq_factor"] <= value["low_freq_factor"]:
        raise ValueError("high_freq_factor must be greater than low_freq_factor")
    return value


class LlamaOptions(LanguageModelOptions):
    """A Llama decoder: RMSNorm, rotary positions, SwiGLU MLP, grouped-query attention."""

    hidden_size: PositiveInt
    intermediate_size: PositiveInt
    num_layers: PositiveInt
    num_heads: PositiveInt
    num_kv_heads: PositiveInt | None = Field(default=None, description="Key/value heads; None: num_heads.")
    vocab_size: PositiveInt
    rms_norm_eps: PositiveFloat = 1e-6
    rope_theta: PositiveFloat = 10000.0
    rope_scaling: dict[str, Any] | None = Field(
        default=None, description='HF-style dict, e.g. {"rope_type": "linear", "factor": 2.0}.')
    max_position_embeddings: PositiveInt = 4096
    attention_bias: bool = False
    qkv_bias: bool | None = Field(default=None, description="Biases on q/k/v only; None: attention_bias.")
    mlp_bias: bool = False
    tie_word_embeddings: bool = False
    head_dim: PositiveInt | None = Field(default=None, description="None: hidden_size // num_heads.")
    hidden_act: ActivationName = "silu"

    @field_validator("rope_scaling")
    @classmethod
    def _rope_scaling(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return check_rope_scaling(value)

    @model_validator(mode="after")
    def _heads(self) -> "LlamaOptions":
        if self.head_dim is None and self.hidden_size % self.num_heads:
            raise ValueError(f"num_heads {self.num_heads} must divide hidden_size {self.hidden_size} "
                             "(or set head_dim)")
        if self.num_heads % self.kv_heads:
            raise ValueError(f"num_kv_heads {self.kv_heads} must divide num_heads {self.num_heads}")
        if self.attention_head_dim % 2:
            raise ValueError(f"the head dimension {self.attention_head_dim} must be even for rotary embeddings")
        return self

    @property
    def kv_heads(self) -> int:
        return self.num_kv_heads or self.num_heads

    @property
    def attention_head_dim(self) -> int:
        return self.head_dim or self.hidden_size // self.num_heads

    @property
    def window(self) -> int | None:
        """Sliding attention window of the windowed layers (None: full causal attention)."""
        return None

    def layer_window(self, layer: int) -> int | None:
        """The sliding window of decoder layer ``layer`` (None: full causal attention)."""
        return self.window

    @property
    def projection_biases(self) -> tuple[bool, bool]:
        """Whether (the q/k/v projections, the output projection) carry a bias."""
        qkv = self.attention_bias if self.qkv_bias is None else self.qkv_bias
        return qkv, self.attention_bias

    def facts(self) -> TextFacts:
        return TextFacts(hidden_size=self.hidden_size, vocab_size=self.vocab_size, num_layers=self.num_layers,
                         num_heads=self.num_heads, num_kv_heads=self.kv_heads, sliding_window=self.window,
                         max_positions=self.context)

    @property
    def context(self) -> int | None:
        """Tokens a prompt may hold: max_position_embeddings, except that "dynamic" rope scaling
        stretches the rotary frequencies to any length (no fixed limit)."""
        dynamic = (self.rope_scaling or {}).get("rope_type") == "dynamic"
        return None if dynamic else self.max_position_embeddings


class MistralOptions(LlamaOptions):
    """A Mistral decoder: Llama plus an optional sliding attention window."""

    sliding_window: PositiveInt | None = Field(default=None, description="Keys a query sees, itself included.")

    @property
    def window(self) -> int | None:
        return self.sliding_window
