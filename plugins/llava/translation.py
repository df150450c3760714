"""The LLaVA-1.5 family's ``config.json``: a transformers ``LlavaConfig`` dict (+ processor files)
<-> an mmplug pipeline config (one image tower, an MLP projector, a decoder; images only).

Keys absent from the file take transformers 4.56.2's defaults; every other key is translated or a
known no-op, and anything else is an error naming the file and the key. The tower and decoder
sub-configs are translated by their part plugins' ``hf_mapping``. Torch-free.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from mmplug.core.checkpoint.hf_mapping import mapping_of
from mmplug.core.errors import CheckpointError, ConfigError, ConfigIssue
from mmplug.core.interfaces.checkpoint import ConfigTranslation
from mmplug.plugins.checkpoints.subconfig import sub_config, unknown_top_keys
from mmplug.registry import Kind

MODEL_TYPE = "llava"
#: LlavaConfig top-level defaults.
TOP_DEFAULTS = {"image_token_index": 32000, "projector_hidden_act": "gelu", "vision_feature_select_strategy": "default",
                "vision_feature_layer": -2, "multimodal_projector_bias": True, "pad_token_id": None}
#: Top-level keys that describe the processor or duplicate others; unused here.
TOP_UNUSED = {"image_seq_length", "ignore_index", "vocab_size", "tie_word_embeddings"}
#: The sub-configs LlavaConfig builds when a file leaves one out (the CLIP ViT-L/14 336 px tower).
ABSENT = {
    "text_config": ("llama", {}),
    "vision_config": ("clip_vision_model", {"intermediate_size": 4096, "hidden_size": 1024, "patch_size": 14,
                                            "image_size": 336, "num_hidden_layers": 24, "num_attention_heads": 16}),
}
#: Keys of configs written by the original LLaVA repository (not transformers).
ORIGINAL_REPOSITORY_KEYS = ("mm_vision_tower", "mm_projector_type", "mm_hidden_size", "mm_image_tower")
#: mmplug projector plugin -> {option: LlavaConfig key}.
PROJECTORS = {"mlp2x_gelu": {"hidden_act": "projector_hidden_act", "bias": "multimodal_projector_bias"}}


def translate_config(config: dict[str, Any], *, source: str = "config.json", registry: Any = None) -> dict[str, Any]:
    """A LlavaConfig dict -> the model and multimodal sections of a pipeline config."""
    from mmplug.registry import get_registry

    registry = registry or get_registry()
    if config.get("model_type", MODEL_TYPE) != MODEL_TYPE:
        raise ConfigError([ConfigIssue("model_type", f"{config['model_type']!r} is not a LLaVA config "
                                                     f"(expected {MODEL_TYPE!r})")], source)
    issues: list[ConfigIssue] = []
    language = sub_config(config, "text_config", Kind.LANGUAGE_MODEL, registry, issues, ABSENT)
    tower = sub_config(config, "vision_config", Kind.VISION_ENCODER, registry, issues, ABSENT)
    unknown_top_keys(config, set(TOP_DEFAULTS) | TOP_UNUSED | {"text_config", "vision_config", "image_token_id"},
                     issues)
    if issues:
        raise ConfigError(issues, source)
    top = {**TOP_DEFAULTS, **{k: v for k, v in config.items() if k in TOP_DEFAULTS}}
    return {
        "vision_encoder": tower,
        "projector": {"name": "mlp2x_gelu", "hidden_act": top["projector_hidden_act"],
                      "bias": top["multimodal_projector_bias"]},
        "language_model": language,
        "multimodal": {"image_token_id": config.get("image_token_id", top["image_token_index"]),
                       "pad_token_id": top["pad_token_id"], "vision_feature_layer": top["vision_feature_layer"],
                       "image_feature_select_strategy": top["vision_feature_select_strategy"]},
    }


def export_config(resolved: Any, *, dtype: str) -> dict[str, Any]:
    """The LlavaConfig ``config.json`` dict of a resolved image-only pipeline stored in ``dtype``."""
    parts, mm = resolved.parts, resolved.config.multimodal
    for section in ("vision_encoder", "projector", "language_model"):
        if section not in parts:
            raise CheckpointError(f"cannot save: the pipeline has no {section} section")
    if "video_encoder" in parts or mm.share_vision_encoder:
        raise CheckpointError("transformers Llava takes images only; this pipeline encodes videos (video_encoder "
                              "or share_vision_encoder): save it in a Video-LLaVA layout instead")
    projector = parts["projector"]
    if projector.spec.name not in PROJECTORS:
        raise CheckpointError(f"projector {projector.spec.name!r} has no transformers Llava equivalent "
                              f"(only {', '.join(PROJECTORS)}); save it as an mmplug config instead")
    if mm.image_token_id is None:
        raise CheckpointError("cannot save: multimodal.image_token_id is not set, and transformers needs it")
    vision, language = parts["vision_encoder"], parts["language_model"]
    text = mapping_of(language, where="language_model").from_options(language.options, where="language_model")
    config = {
        "architectures": ["LlavaForConditionalGeneration"], "model_type": MODEL_TYPE, "torch_dtype": dtype,
        "text_config": {**text, "torch_dtype": dtype},
        "vision_config": mapping_of(vision, where="vision_encoder").from_options(vision.options,
                                                                                 where="vision_encoder"),
        "image_token_index": mm.image_token_id, "pad_token_id": mm.pad_token_id,
        "vision_feature_layer": mm.vision_feature_layer,
        "vision_feature_select_strategy": mm.image_feature_select_strategy,
        "image_seq_length": resolved.vision.patches_per_image,
        "tie_word_embeddings": text.get("tie_word_embeddings", False),
    }
    for option, key in PROJECTORS[projector.spec.name].items():
        config[key] = getattr(projector.options, option)
    return config


def processor_sections(directory: Path) -> dict[str, Any]:
    """tokenizer / chat_template / image_processor (CLIPImageProcessor) sections of ``directory``."""
    from mmplug.plugins.video_llava.translation import processor_sections as video_llava_sections

    return {k: v for k, v in video_llava_sections(directory).items() if k != "frame_sampler"}


def processor_files(resolved: Any, existing: frozenset[str]) -> dict[str, dict[str, Any]]:
    """preprocessor_config.json (CLIPImageProcessor, from the ``clip`` image processor's options)
    and processor_config.json (what LlavaProcessor counts placeholders with) unless present."""
    from mmplug.plugins.image.options import clip_options_to_hf

    files: dict[str, dict[str, Any]] = {}
    if "processor_config.json" not in existing:
        vision = resolved.parts["vision_encoder"]
        files["processor_config.json"] = {
            "patch_size": vision.options.patch_size, "num_additional_image_tokens": int(resolved.vision.has_cls_token),
            "vision_feature_select_strategy": resolved.config.multimodal.image_feature_select_strategy,
            "processor_class": "LlavaProcessor"}
    image = resolved.parts.get("image_processor")
    if image is not None and image.spec.name == "clip":
        files["preprocessor_config.json"] = {**clip_options_to_hf(image.options),
                                             "image_processor_type": "CLIPImageProcessor",
                                             "processor_class": "LlavaProcessor"}
    return files


class LlavaTranslation(ConfigTranslation):
    """``model_type: llava`` config.json files, read and written."""

    model_type = MODEL_TYPE
    default_layout = "llava"

    def writes(self, resolved: Any) -> bool:
        """Image-only pipelines (no video tower, none shared) with an MLP projector."""
        projector = resolved.parts.get("projector")
        videos = "video_encoder" in resolved.parts or resolved.config.multimodal.share_vision_encoder
        return projector is not None and projector.spec.name in PROJECTORS and not videos

    def to_pipeline(self, config: dict[str, Any], directory: Path, *, registry: Any) -> dict[str, Any]:
        """Original LLaVA-repository checkpoints share ``model_type: llava``: a format that must
        convert them first speaks up, and any other such config is refused by name."""
        from mmplug.core.checkpoint.pretrained_config import refuse_unloadable

        refuse_unloadable(directory, config, registry)
        original = sorted(key for key in ORIGINAL_REPOSITORY_KEYS if key in config)
        if original:
            raise CheckpointError(f"{directory / 'config.json'} is an original LLaVA-repository config ("
                                  f"{', '.join(original)}), not a transformers LlavaConfig; convert the checkpoint "
                                  "to the llava-hf layout first (transformers' convert_llava_weights_to_hf.py)")
        data = translate_config(config, source=str(directory / "config.json"), registry=registry)
        return {"description": f"from {directory}", **data, "attention": {"name": "sdpa"},
                **processor_sections(directory)}

    def from_pipeline(self, resolved: Any, *, dtype: str) -> dict[str, Any]:
        return export_config(resolved, dtype=dtype)

    def processor_files(self, resolved: Any, *, existing: frozenset[str] = frozenset()) -> dict[str, dict[str, Any]]:
        return processor_files(resolved, existing)


LLAVA = LlavaTranslation()
