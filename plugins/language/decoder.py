"""A Llama-family decoder: token embeddings, pre-norm blocks of grouped-query attention
with rotary positions and a gated (SwiGLU) MLP, a final RMSNorm and the LM head.

Llama, Mistral and Qwen2 are this one module: they differ only in their options (Mistral adds a
sliding attention window, Qwen2 q/k/v biases and per-layer windows). Parameter names match the published checkpoints inside
``model`` (``embed_tokens``, ``layers.N.self_attn.q_proj``, ``norm``) plus ``lm_head``.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from mmplug.core.context import BuildContext
from mmplug.core.errors import ProcessorError
from mmplug.core.interfaces.language import LanguageModel, LanguageModelOutput
from mmplug.core.model.activations import build_activation
from mmplug.core.model.checkpointing import run_layer
from mmplug.core.model.fast_paths import one_call_rms_norm_applies
from mmplug.core.model.linear import RowSplitLinear
from mmplug.core.model.positions import position_ids_from_mask
from mmplug.plugins.language.options import LlamaOptions
from mmplug.plugins.language.rope import RotaryEmbedding, apply_rotary


#: torch >= 2.4 has a one-call RMSNorm: on CPU in float32 the same bits as the steps below (values
#: and gradients, tests/model/test_rms_norm.py) in one dispatch instead of six; when it applies:
#: :mod:`mmplug.core.model.fast_paths`. GPUs keep the steps (not verified there).
FUNCTIONAL_RMS_NORM = getattr(F, "rms_norm", None)


class RMSNorm(nn.Module):
    """x / rms(x) * weight over the last axis, computed in float32."""

    def __init__(self, size: int, eps: float):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(size))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if FUNCTIONAL_RMS_NORM is not None and one_call_rms_norm_applies(x, self.weight):
            return FUNCTIONAL_RMS_NORM(x, self.weight.shape, self.weight, self.eps)
        # normalise in float32 and cast back before the weight, as the reference does
        x32 = x.float()
        x32 = x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * x32.to(x.dtype)


class GatedMlp(nn.Module):
    """down(act(gate(x)) * up(x)): (B,S,D) -> (B,S,D)."""

    def __init__(self, o: LlamaOptions):
        super().__init__()
        self.gate_proj = RowSplitLinear(o.hidden_size, o.intermediate_size, bias=o.mlp_bias)
        self.up_proj = RowSplitLinear(o.hidden_size, o.intermediate_size, bias=o.mlp_bias)
        self.down_proj = RowSplitLinear(o.intermediate_size, o.hidden_size, bias=o.mlp_bias)
        self.act_fn = build_activation(o.hidden_act)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.down_proj(self.act_fn(self.gate_proj(x), times=self.up_proj(x), in_place=True))


class SelfAttention(nn.Module):
    """Causal grouped-query attention with rotary positions: (B,S,D) -> (B,S,D)."""

    def __init__(self, o: LlamaOptions, layer: int, backend: Any):
        super().__init__()
        self.layer, self.backend, self.window = layer, backend, o.layer_window(layer)
        self.head_dim = o.attention_head_dim
        qkv_bias, out_bias = o.projection_biases
        self.q_proj = RowSplitLinear(o.hidden_size, o.num_heads * self.head_dim, bias=qkv_bias)
        self.k_proj = RowSplitLinear(o.hidden_size, o.kv_heads * self.head_dim, bias=qkv_bias)
        self.v_proj = RowSplitLinear(o.hidden_size, o.kv_heads * self.head_dim, bias=qkv_bias)
        self.o_proj = RowSplitLinear(o.num_heads * self.head_dim, o.hidden_size, bias=out_bias)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, mask: torch.Tensor | None,
                cache: Any) -> torch.Tensor:
        b, s, _ = x.shape
        q, k, v = (proj(x).view(b, s, -1, self.head_dim).transpose(1, 2)
                   for proj in (self.q_proj, self.k_proj, self.v_proj))
        q, k = apply_rotary(q, cos, sin), apply_rotary(k, cos, sin)
        if cache is not None:
            k, v = cache.update(self.layer, k, v)
        out = self.backend(q, k, v, causal=True, mask=mask, sliding_window=self.window)
        return self.o_proj(out.transpose(1, 2).reshape(b, s, -1))


class DecoderLayer(nn.Module):
    """Pre-norm block: x + attn(norm(x)), then + mlp(norm(x))."""

    def __init__(self, o: LlamaOptions, layer: int, backend: Any):
        super().__init__()
        self.input_layernorm = RMSNorm(o.hidden_size, o.rms_norm_eps)
        self.self_attn = SelfAttention(o, layer, backend)
        self.post_attention_layernorm = RMSNorm(o.hidden_size, o.rms_norm_eps)
        self.mlp = GatedMlp(o)

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, mask: torch.Tensor | None,
                cache: Any = None) -> torch.Tensor:
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, mask, cache)
        return x + self.mlp(self.post_attention_layernorm(x))


class Decoder(nn.Module, LanguageModel):
    """Token ids / embeddings (B,S[,D]) -> hidden states (B,S,D) -> logits (B,S,vocab)."""

    def __init__(self, options: LlamaOptions, attention: Any):
        super().__init__()
        self.options = options
        self.hidden_size, self.vocab_size, self.num_layers = options.hidden_size, options.vocab_size, options.num_layers
        self.gradient_checkpointing = False
        self.rotary = RotaryEmbedding(options)
        self.embed_tokens = nn.Embedding(options.vocab_size, options.hidden_size)
        self.layers = nn.ModuleList(DecoderLayer(options, i, attention) for i in range(options.num_layers))
        self.norm = RMSNorm(options.hidden_size, options.rms_norm_eps)
        self.lm_head = RowSplitLinear(options.hidden_size, options.vocab_size, bias=False)
        if options.tie_word_embeddings:
            self.lm_head.weight = self.embed_tokens.weight

    def embed(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.embed_tokens(input_ids)

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.lm_head(hidden)

    def set_gradient_checkpointing(self, enabled: bool = True) -> None:
        self.gradient_checkpointing = enabled

    def decode(self, inputs_embeds: torch.Tensor, *, attention_mask: torch.Tensor | None = None,
               position_ids: torch.Tensor | None = None, cache: Any = None,
               output_hidden_states: bool = False) -> LanguageModelOutput:
        """inputs_embeds (B,S,D); attention_mask (B,past+S) 1 = token, 0 = padding; position_ids (B,S)
        (default: from the mask, else past..past+S-1). ``hidden_states`` follows the reference
        convention: the embeddings, each block's output, the last one after the final norm."""
        b, s, _ = inputs_embeds.shape
        past = cache.length if cache is not None else 0
        mask = self._padding_mask(attention_mask, b, past, s)
        if position_ids is None:
            position_ids = (position_ids_from_mask(attention_mask, s) if attention_mask is not None else
                            torch.arange(past, past + s, device=inputs_embeds.device)[None].expand(b, s))
        cos, sin = self.rotary(position_ids.to(inputs_embeds.device), inputs_embeds.dtype)
        checkpointing = self.gradient_checkpointing and self.training and cache is None
        x, states = inputs_embeds, [inputs_embeds]
        for layer in self.layers:
            x = run_layer(layer, x, cos, sin, mask, cache, checkpointing=checkpointing)
            if output_hidden_states:
                states.append(x)
        hidden = self.norm(x)
        if not output_hidden_states:
            return LanguageModelOutput(hidden=hidden, cache=cache)
        return LanguageModelOutput(hidden=hidden, hidden_states=states[:-1] + [hidden], cache=cache)

    @staticmethod
    def _padding_mask(attention_mask: torch.Tensor | None, b: int, past: int, s: int) -> torch.Tensor | None:
        """Key-padding mask (B,1,S,past+S) bool, or None when every token is real."""
        if attention_mask is None:
            return None
        if tuple(attention_mask.shape) != (b, past + s):
            raise ProcessorError(f"attention_mask has shape {tuple(attention_mask.shape)}, expected ({b}, {past + s}) "
                                 f"= (batch, cached {past} + new {s} tokens); pass the mask of the whole sequence")
        if bool(attention_mask.all()):
            return None
        return attention_mask.bool()[:, None, None, :].expand(b, 1, s, past + s)


def build_decoder(options: LlamaOptions, context: BuildContext) -> Decoder:
    """Factory of ``llama``, ``mistral`` and ``qwen2``: the decoder, running ``context.attention``."""
    return Decoder(options, context.require_attention())
