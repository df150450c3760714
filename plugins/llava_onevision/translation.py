"""The LLaVA-OneVision family's ``config.json``: a transformers ``LlavaOnevisionConfig`` dict <->
an mmplug pipeline config (one SigLIP tower serving images and videos, the ``onevision_mlp``
projector, a Qwen2 decoder). Keys absent from the file take transformers 4.56.2's defaults;
unknown keys are errors naming the file and the key. Torch-free.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from mmplug.core.checkpoint.hf_mapping import mapping_of
from mmplug.core.errors import CheckpointError, ConfigError, ConfigIssue
from mmplug.core.interfaces.checkpoint import ConfigTranslation
from mmplug.plugins.checkpoints.subconfig import sub_config, unknown_top_keys
from mmplug.registry import Kind

MODEL_TYPE = "llava_onevision"
PROJECTOR = "onevision_mlp"
TOP_DEFAULTS = {"image_token_index": 151646, "video_token_index": 151647, "projector_hidden_act": "gelu",
                "vision_feature_select_strategy": "full", "vision_feature_layer": -1,
                "vision_aspect_ratio": "anyres_max_9", "image_grid_pinpoints": None,
                "multimodal_projector_bias": True, "pad_token_id": None}
#: Read and unused: the decoder's own ``tie_word_embeddings`` decides (as in transformers' tie_weights).
TOP_UNUSED = {"tie_word_embeddings", "ignore_index", "vocab_size", "image_seq_length", "video_seq_length"}
ABSENT = {
    "text_config": ("qwen2", {}),
    "vision_config": ("siglip_vision_model", {"hidden_size": 1152, "intermediate_size": 4304, "patch_size": 14,
                                              "image_size": 384, "num_hidden_layers": 26, "num_attention_heads": 16,
                                              "vision_use_head": False}),
}


def translate_config(config: dict[str, Any], *, source: str = "config.json", registry: Any = None) -> dict[str, Any]:
    """A LlavaOnevisionConfig dict -> the model and multimodal sections of a pipeline config."""
    from mmplug.registry import get_registry

    registry = registry or get_registry()
    if config.get("model_type", MODEL_TYPE) != MODEL_TYPE:
        raise ConfigError([ConfigIssue("model_type", f"{config['model_type']!r} is not a LLaVA-OneVision config "
                                                     f"(expected {MODEL_TYPE!r})")], source)
    issues: list[ConfigIssue] = []
    language = sub_config(config, "text_config", Kind.LANGUAGE_MODEL, registry, issues, ABSENT)
    tower = sub_config(config, "vision_config", Kind.VISION_ENCODER, registry, issues, ABSENT)
    unknown_top_keys(config, set(TOP_DEFAULTS) | TOP_UNUSED | {"text_config", "vision_config", "image_token_id",
                                                               "video_token_id"}, issues)
    if issues:
        raise ConfigError(issues, source)
    top = {**TOP_DEFAULTS, **{k: v for k, v in config.items() if k in TOP_DEFAULTS}}
    projector = {"name": PROJECTOR, "hidden_act": top["projector_hidden_act"], "bias": top["multimodal_projector_bias"],
                 "vision_aspect_ratio": top["vision_aspect_ratio"]}
    if top["image_grid_pinpoints"] is not None:
        projector["image_grid_pinpoints"] = [tuple(p) for p in top["image_grid_pinpoints"]]
    strategy = top["vision_feature_select_strategy"]
    return {
        "vision_encoder": tower, "projector": projector, "language_model": language,
        "multimodal": {"image_token_id": config.get("image_token_id", top["image_token_index"]),
                       "video_token_id": config.get("video_token_id", top["video_token_index"]),
                       "pad_token_id": top["pad_token_id"], "vision_feature_layer": top["vision_feature_layer"],
                       "image_feature_select_strategy": strategy, "video_feature_select_strategy": strategy,
                       "share_vision_encoder": True},
    }


def export_config(resolved: Any, *, dtype: str) -> dict[str, Any]:
    """The LlavaOnevisionConfig dict of a resolved pipeline stored in ``dtype``."""
    parts, mm = resolved.parts, resolved.config.multimodal
    for section in ("vision_encoder", "projector", "language_model"):
        if section not in parts:
            raise CheckpointError(f"cannot save: the pipeline has no {section} section")
    if parts["projector"].spec.name != PROJECTOR:
        raise CheckpointError(f"LLaVA-OneVision needs the {PROJECTOR} projector, not {parts['projector'].spec.name!r}")
    if "video_encoder" in parts:
        raise CheckpointError("transformers LlavaOnevision has one tower for images and videos; drop video_encoder "
                              "and set multimodal.share_vision_encoder: true")
    if mm.image_feature_select_strategy != mm.video_feature_select_strategy:
        raise CheckpointError("transformers LlavaOnevision uses one vision_feature_select_strategy for images and "
                              "videos; make multimodal.image_/video_feature_select_strategy equal")
    projector, vision, language = parts["projector"].options, parts["vision_encoder"], parts["language_model"]
    text = mapping_of(language, where="language_model").from_options(language.options, where="language_model")
    config = {
        "architectures": ["LlavaOnevisionForConditionalGeneration"], "model_type": MODEL_TYPE, "torch_dtype": dtype,
        "text_config": {**text, "torch_dtype": dtype},
        "vision_config": mapping_of(vision, where="vision_encoder").from_options(vision.options,
                                                                                 where="vision_encoder"),
        "image_token_index": mm.image_token_id, "video_token_index": mm.video_token_id,
        "pad_token_id": mm.pad_token_id, "vision_feature_layer": mm.vision_feature_layer,
        "vision_feature_select_strategy": mm.image_feature_select_strategy,
        "projector_hidden_act": projector.hidden_act, "multimodal_projector_bias": projector.bias,
        "vision_aspect_ratio": projector.vision_aspect_ratio,
        "tie_word_embeddings": text.get("tie_word_embeddings", False),
    }
    if projector.image_grid_pinpoints is not None:
        config["image_grid_pinpoints"] = [list(p) for p in projector.image_grid_pinpoints]
    return config


class OnevisionTranslation(ConfigTranslation):
    """``model_type: llava_onevision`` config.json files, read and written (model files only:
    OneVision's processor files are not translated yet)."""

    model_type = MODEL_TYPE
    default_layout = "llava_onevision"

    def writes(self, resolved: Any) -> bool:
        projector = resolved.parts.get("projector")
        return projector is not None and projector.spec.name == PROJECTOR

    def to_pipeline(self, config: dict[str, Any], directory: Path, *, registry: Any) -> dict[str, Any]:
        data = translate_config(config, source=str(directory / "config.json"), registry=registry)
        return {"description": f"from {directory}", **data, "attention": {"name": "sdpa"}}

    def from_pipeline(self, resolved: Any, *, dtype: str) -> dict[str, Any]:
        return export_config(resolved, dtype=dtype)


ONEVISION = OnevisionTranslation()
