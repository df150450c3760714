"""The Video-LLaVA family's ``config.json``: a transformers ``VideoLlavaConfig`` dict (+ processor
files) <-> an mmplug pipeline config.

Keys absent from the file take the defaults transformers 4.56.2 applies; every other key is
either translated or a known no-op, and anything else is an error naming the file and the key
(never silently dropped). The towers' and decoder's sub-configs are translated by the mapping
their part plugins register (``hf_mapping``); this module only knows the family's own keys.
Torch-free.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from mmplug.core.checkpoint.hf_mapping import GENERIC_KEYS, mapping_of, read_json
from mmplug.core.errors import CheckpointError, ConfigError, ConfigIssue
from mmplug.core.interfaces.checkpoint import ConfigTranslation
from mmplug.plugins.checkpoints.subconfig import sub_config
from mmplug.registry import Kind

MODEL_TYPE = "video_llava"


def runtime_sections() -> dict[str, Any]:
    """What a Video-LLaVA checkpoint runs with when its files say nothing (the model card's recipe)."""
    return {"attention": {"name": "sdpa"}, "video_decoder": {"name": "pyav"},
            "frame_sampler": {"name": "uniform", "num_frames": 8}}


#: VideoLlavaConfig top-level defaults.
TOP_DEFAULTS = {
    "image_token_index": 32000, "video_token_index": 32001, "projector_hidden_act": "gelu",
    "vision_feature_select_strategy": "default", "vision_feature_layer": -2, "multimodal_projector_bias": True,
    "pad_token_id": None,
}
#: Top-level keys that describe the processor or duplicate others; unused here.
TOP_UNUSED = frozenset({"image_seq_length", "video_seq_length", "ignore_index", "vocab_size",
                        "tie_word_embeddings"})
#: The sub-configs VideoLlavaConfig builds when a file leaves one out: (default model type,
#: HF defaults that differ from that model type's own).
ABSENT = {
    "text_config": ("llama", {}),
    "vision_config": ("clip_vision_model", {"intermediate_size": 4096, "hidden_size": 1024, "patch_size": 14,
                                            "num_hidden_layers": 24, "num_attention_heads": 16}),
}
#: mmplug projector plugin -> {option: VideoLlava key}.
PROJECTORS = {"mlp2x_gelu": {"hidden_act": "projector_hidden_act", "bias": "multimodal_projector_bias"}}
#: Frames per video VideoLlavaProcessor counts placeholders for (``video_seq_length``).
PROCESSOR_FRAMES = 8


def _sub_config(config: dict[str, Any], key: str, kind: Kind, registry: Any,
                issues: list[ConfigIssue]) -> dict[str, Any] | None:
    return sub_config(config, key, kind, registry, issues, ABSENT)


def translate_config(config: dict[str, Any], *, source: str = "config.json", registry: Any = None) -> dict[str, Any]:
    """A VideoLlava config dict -> the model and multimodal sections of a pipeline config."""
    from mmplug.registry import get_registry

    registry = registry or get_registry()
    issues: list[ConfigIssue] = []
    if config.get("model_type", MODEL_TYPE) != MODEL_TYPE:
        raise ConfigError([ConfigIssue("model_type", f"{config['model_type']!r} is not a Video-LLaVA config "
                                                     f"(expected {MODEL_TYPE!r})")], source)
    language = _sub_config(config, "text_config", Kind.LANGUAGE_MODEL, registry, issues)
    tower = _sub_config(config, "vision_config", Kind.VISION_ENCODER, registry, issues)
    known = set(TOP_DEFAULTS) | {"text_config", "vision_config", "image_token_id", "video_token_id"}
    for key in config:
        if key not in known and key not in GENERIC_KEYS and key not in TOP_UNUSED:
            issues.append(ConfigIssue(key, "unknown top-level key; mmplug would drop it, so the checkpoint is "
                                           "refused (remove it if it has no effect)"))
    if issues:
        raise ConfigError(issues, source)
    top = {**TOP_DEFAULTS, **{k: v for k, v in config.items() if k in TOP_DEFAULTS}}
    return {
        "vision_encoder": dict(tower),
        "video_encoder": dict(tower),
        "projector": {"name": "mlp2x_gelu", "hidden_act": top["projector_hidden_act"],
                      "bias": top["multimodal_projector_bias"]},
        "language_model": language,
        "multimodal": {
            "image_token_id": config.get("image_token_id", top["image_token_index"]),
            "video_token_id": config.get("video_token_id", top["video_token_index"]),
            "pad_token_id": top["pad_token_id"],
            "vision_feature_layer": top["vision_feature_layer"],
            "image_feature_select_strategy": top["vision_feature_select_strategy"],
            "video_feature_select_strategy": "full",
        },
    }


def processor_sections(directory: Path) -> dict[str, Any]:
    """tokenizer / chat_template / image_processor / frame_sampler sections for the processor
    files found in ``directory``."""
    from mmplug.plugins.image.options import clip_options_from_hf

    sections: dict[str, Any] = {}
    if (directory / "tokenizer.json").is_file():
        sections["tokenizer"] = {"name": "hf_tokenizers", "path": str(directory)}
    if any((directory / name).is_file() for name in ("chat_template.json", "chat_template.jinja")):
        sections["chat_template"] = {"name": "jinja", "path": str(directory)}
    preprocessor = directory / "preprocessor_config.json"
    if preprocessor.is_file():
        options = clip_options_from_hf(read_json(preprocessor), source=str(preprocessor))
        sections["image_processor"] = {"name": "clip", **options.model_dump(mode="json", exclude_defaults=True)}
    frames = video_frame_count(directory / "video_preprocessor_config.json")
    if frames is not None:
        sections["frame_sampler"] = {"name": "uniform", "num_frames": frames}
    return sections


def video_frame_count(path: Path) -> int | None:
    """``num_frames`` of a video_preprocessor_config.json that samples frames (None: not given)."""
    if not path.is_file():
        return None
    config = read_json(path)
    frames = config.get("num_frames")
    if frames is None or config.get("do_sample_frames") is False:
        return None
    if not isinstance(frames, int) or isinstance(frames, bool) or frames < 1:
        raise CheckpointError(f"{path}: num_frames must be a positive integer, got {frames!r}")
    return frames


def _has_video_tower(directory: Path, config: dict[str, Any], registry: Any) -> bool:
    from mmplug.core.checkpoint.files import peek_keys
    from mmplug.core.checkpoint.formats import detect_format

    keys = peek_keys(directory)
    if not keys:
        return True
    try:
        _, fmt = detect_format(keys, config, registry=registry, where=str(directory))
    except CheckpointError:
        return True  # load_weights reports the layout problem with the full key listing
    return any((fmt.to_model_key(key) or "").startswith("video_encoder.") for key in keys)


def export_config(resolved: Any, *, dtype: str) -> dict[str, Any]:
    """The VideoLlava ``config.json`` dict of a resolved pipeline whose weights are in ``dtype``."""
    parts, mm = resolved.parts, resolved.config.multimodal
    for section in ("vision_encoder", "projector", "language_model"):
        if section not in parts:
            raise CheckpointError(f"cannot save: the pipeline has no {section} section")
    projector = parts["projector"]
    if projector.spec.name not in PROJECTORS:
        raise CheckpointError(f"projector {projector.spec.name!r} has no transformers VideoLlava equivalent "
                              f"(only {', '.join(PROJECTORS)}); save it as an mmplug config instead")
    if mm.video_feature_select_strategy != "full":
        raise CheckpointError("multimodal.video_feature_select_strategy must be 'full' for transformers "
                              "VideoLlava (it always keeps the CLS token of frames)")
    vision = mapping_of(parts["vision_encoder"], where="vision_encoder").from_options(
        parts["vision_encoder"].options, where="vision_encoder")
    video = parts.get("video_encoder")
    if video is not None and mapping_of(video, where="video_encoder").from_options(
            video.options, where="video_encoder") != vision:
        raise CheckpointError("transformers VideoLlava has one vision_config for both towers; the video_encoder "
                              "options differ from the vision_encoder ones")
    language = parts["language_model"]
    text = mapping_of(language, where="language_model").from_options(language.options, where="language_model")
    config = {
        "architectures": ["VideoLlavaForConditionalGeneration"],
        "model_type": MODEL_TYPE,
        "torch_dtype": dtype,
        "text_config": {**text, "torch_dtype": dtype},
        "vision_config": vision,
        "image_token_index": mm.image_token_id,
        "video_token_index": mm.video_token_id,
        "pad_token_id": mm.pad_token_id,
        "vision_feature_layer": mm.vision_feature_layer,
        "vision_feature_select_strategy": mm.image_feature_select_strategy,
        "image_seq_length": resolved.vision.patches_per_image,
        "video_seq_length": (resolved.vision.patches_per_image + 1) * PROCESSOR_FRAMES,
    }
    for option, key in PROJECTORS[projector.spec.name].items():
        config[key] = getattr(projector.options, option)
    for key in ("image_token_index", "video_token_index"):
        if config[key] is None:
            raise CheckpointError(f"cannot save: multimodal.{key.replace('_index', '_id')} is not set, and "
                                  "transformers needs it")
    return config


def processor_files(resolved: Any, existing: frozenset[str]) -> dict[str, dict[str, Any]]:
    """preprocessor_config.json and video_preprocessor_config.json (from the ``clip`` image
    processor's options), and processor_config.json unless the directory already has one (``existing``)."""
    from mmplug.plugins.image.options import clip_options_to_hf

    files = {} if "processor_config.json" in existing else {"processor_config.json": processor_config(resolved)}
    image = resolved.parts.get("image_processor")
    if image is None or image.spec.name != "clip":
        return files
    files |= {"preprocessor_config.json": {**clip_options_to_hf(image.options),
                                          "image_processor_type": "VideoLlavaImageProcessor",
                                          "processor_class": "VideoLlavaProcessor"}}
    video = {**clip_options_to_hf(image.options), "video_processor_type": "VideoLlavaVideoProcessor",
             "processor_class": "VideoLlavaProcessor"}
    sampler = resolved.parts.get("frame_sampler")
    if sampler is not None and sampler.spec.name == "uniform":  # a checkpoint trained on N frames loads with N
        video.update(do_sample_frames=True, num_frames=sampler.options.num_frames)
    files["video_preprocessor_config.json"] = video
    return files


def processor_config(resolved: Any) -> dict[str, Any]:
    """``processor_config.json``: what VideoLlavaProcessor needs to count placeholder tokens."""
    vision = resolved.parts["vision_encoder"].options
    return {"patch_size": vision.patch_size,
            "vision_feature_select_strategy": resolved.config.multimodal.image_feature_select_strategy,
            "num_additional_image_tokens": 1, "processor_class": "VideoLlavaProcessor"}


class VideoLlavaTranslation(ConfigTranslation):
    """``model_type: video_llava`` config.json files, read and written."""

    model_type = MODEL_TYPE
    default_layout = "published"

    def writes(self, resolved: Any) -> bool:
        """Pipelines with an MLP projector that can take videos (an image-only one is LLaVA's)."""
        projector = resolved.parts.get("projector")
        videos = "video_encoder" in resolved.parts or resolved.config.multimodal.share_vision_encoder
        return projector is not None and projector.spec.name in PROJECTORS and videos

    def to_pipeline(self, config: dict[str, Any], directory: Path, *, registry: Any) -> dict[str, Any]:
        """A checkpoint whose weights hold no video tower gets ``share_vision_encoder: true`` (the
        image tower serves videos) instead of a video tower that nothing would fill."""
        data = translate_config(config, source=str(directory / "config.json"), registry=registry)
        description = f"from {directory}"
        if not _has_video_tower(directory, config, registry):
            del data["video_encoder"]
            data["multimodal"]["share_vision_encoder"] = True
            description += " (no video tower in the weights: the image tower encodes videos)"
        return {"description": description, **data, **runtime_sections(), **processor_sections(directory)}

    def from_pipeline(self, resolved: Any, *, dtype: str) -> dict[str, Any]:
        return export_config(resolved, dtype=dtype)

    def processor_files(self, resolved: Any, *, existing: frozenset[str] = frozenset()) -> dict[str, dict[str, Any]]:
        return processor_files(resolved, existing)


VIDEO_LLAVA = VideoLlavaTranslation()
