"""A tiny inline plugin used by the framework tests: toy parts of every model kind.

It registers through the same hook as real plugins (``registry.add_plugin(toy_parts)``).
"""
from __future__ import annotations

import difflib

import torch
from pydantic import field_validator
from torch import nn

from mmplug.core.interfaces import AttentionBackend, Availability, LanguageModel, LanguageModelOutput, Projector
from mmplug.core.interfaces import VisionEncoder
from mmplug.core.options import LanguageModelOptions, PluginOptions, ProjectorOptions, TextFacts, VisionFacts
from mmplug.core.options import VisionEncoderOptions
from mmplug.registry import hookimpl

#: Every factory call is recorded here, so tests can prove nothing was built.
BUILT: list[str] = []
ACTIVATIONS = ("gelu", "relu", "silu")


class ToyVisionOptions(VisionEncoderOptions):
    hidden_size: int = 16
    num_layers: int = 2
    num_heads: int = 2
    patches: int = 4

    def facts(self) -> VisionFacts:
        return VisionFacts(self.hidden_size, self.num_layers, self.num_heads, self.patches, True, 224)


class ToyProjectorOptions(ProjectorOptions):
    hidden_act: str = "gelu"

    @field_validator("hidden_act")
    @classmethod
    def known_activation(cls, value: str) -> str:
        if value not in ACTIVATIONS:
            close = difflib.get_close_matches(value, ACTIVATIONS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(ACTIVATIONS)}"
            raise ValueError(f"unknown activation {value!r}{hint}")
        return value


class ToyTextOptions(LanguageModelOptions):
    hidden_size: int = 32
    vocab_size: int = 100
    num_layers: int = 1
    num_heads: int = 4
    sliding_window: int | None = None

    def facts(self) -> TextFacts:
        return TextFacts(self.hidden_size, self.vocab_size, self.num_layers, self.num_heads, self.num_heads,
                         self.sliding_window)


class ToyVision(nn.Module, VisionEncoder):
    has_cls_token = True

    def __init__(self, options: ToyVisionOptions):
        super().__init__()
        self.hidden_size, self.num_layers, self.patches_per_image = (
            options.hidden_size, options.num_layers, options.patches)
        self.embed = nn.Linear(3, options.hidden_size)
        self.blocks = nn.ModuleList(nn.Linear(options.hidden_size, options.hidden_size)
                                    for _ in range(options.num_layers))

    def hidden_states(self, pixels, layers):
        pooled = pixels.flatten(2).mean(-1)  # (N,3)
        x = self.embed(pooled).unsqueeze(1).expand(-1, self.patches_per_image + 1, -1)
        states = [x]
        for block in self.blocks:
            x = torch.tanh(block(x))
            states.append(x)
        return [states[i] for i in layers]


class ToyProjector(nn.Module, Projector):
    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.linear = nn.Linear(in_features, out_features)

    def forward(self, features):
        return self.linear(features)


class ToyText(nn.Module, LanguageModel):
    def __init__(self, options: ToyTextOptions):
        super().__init__()
        self.hidden_size, self.vocab_size, self.num_layers = options.hidden_size, options.vocab_size, options.num_layers
        self.embed_tokens = nn.Embedding(options.vocab_size, options.hidden_size)
        self.lm_head = nn.Linear(options.hidden_size, options.vocab_size, bias=False)

    def embed(self, input_ids):
        return self.embed_tokens(input_ids)

    def decode(self, inputs_embeds, *, attention_mask=None, position_ids=None, cache=None,
               output_hidden_states=False):
        return LanguageModelOutput(hidden=inputs_embeds)

    def logits(self, hidden):
        return self.lm_head(hidden)


class ToyAttention(AttentionBackend):
    def __init__(self, needs_cuda: bool = False):
        self.needs_cuda = needs_cuda

    def availability(self, request):
        if self.needs_cuda and not request.device.startswith("cuda"):
            return Availability(False, "needs a CUDA device")
        return Availability(True)

    def __call__(self, q, k, v, *, causal, mask=None, sliding_window=None, scale=None):
        from mmplug.core.conformance import reference_attention

        return reference_attention(q, k, v, causal=causal, mask=mask, sliding_window=sliding_window, scale=scale)


class ToyModel(nn.Module):
    """Stands in for the assembled model in builder tests."""

    def __init__(self, vision_encoder, video_encoder, projector, language_model, config):
        super().__init__()
        self.vision_encoder, self.video_encoder = vision_encoder, video_encoder
        self.projector, self.language_model, self.config = projector, language_model, config


def build_vision(options, context):
    BUILT.append("vision")
    return ToyVision(options)


def build_projector(options, context):
    BUILT.append("projector")
    wiring = context.wiring if context else {}
    return ToyProjector(wiring.get("in_features", options.in_features), wiring.get("out_features", options.out_features))


def build_text(options, context):
    BUILT.append("text")
    return ToyText(options)


@hookimpl
def mmplug_register_parts(register):
    register("vision_encoder", "toy_vision", build_vision, options=ToyVisionOptions, summary="toy tower")
    register("projector", "toy_proj", build_projector, options=ToyProjectorOptions, summary="toy projector")
    register("language_model", "toy_lm", build_text, options=ToyTextOptions, summary="toy decoder")
    register("attention", "toy_attention", lambda options, context: ToyAttention(), summary="plain math")
    register("attention", "cuda_only", lambda options, context: ToyAttention(needs_cuda=True), summary="needs CUDA")


@hookimpl
def mmplug_register_presets(register):
    register("toy", toy_config, summary="toy pipeline")


def toy_config() -> dict:
    return {
        "vision_encoder": {"name": "toy_vision", "hidden_size": 16, "num_layers": 2},
        "projector": {"name": "toy_proj"},
        "language_model": {"name": "toy_lm", "hidden_size": 32, "vocab_size": 100},
        "attention": {"name": "toy_attention"},
        "multimodal": {"image_token_id": 97, "video_token_id": 98, "pad_token_id": 99, "vision_feature_layer": -2},
    }


class ToyOptions(PluginOptions):
    scale: float = 1.0
