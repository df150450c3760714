"""``config.json`` (+ processor files) of a Hugging Face Video-LLaVA checkpoint -> an mmplug
pipeline config dict.

Keys absent from the file take the defaults transformers 4.56.2 applies (see ``hf_names``);
every other key is either translated or a known no-op, and anything else is an error naming
the file and the key (never silently dropped). Torch-free.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mmplug.core.checkpoint import hf_names as hf
from mmplug.core.errors import CheckpointError, ConfigError, ConfigIssue

RUNTIME_SECTIONS = {"attention": {"name": "sdpa"}, "video_decoder": {"name": "pyav"},
                    "frame_sampler": {"name": "uniform", "num_frames": 8}}


def read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise CheckpointError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{path}: expected a JSON object")
    return data


def _part(section: dict[str, Any], defaults: dict[str, Any], prefix: str, unused: frozenset[str],
          issues: list[ConfigIssue]) -> dict[str, Any]:
    """HF sub-config -> mmplug options (renamed keys, defaults filled, unknown keys reported)."""
    options = {}
    for key, default in defaults.items():
        value = section.get(key, default)
        if value is not None:
            options[hf.RENAMED.get(key, key)] = value
    for key in section:
        if key not in defaults and key not in hf.GENERIC_KEYS and key not in unused:
            issues.append(ConfigIssue(f"{prefix}.{key}", "unknown to mmplug's translation; this setting would be "
                                                         "dropped, so the checkpoint is refused (remove the key if it "
                                                         "has no effect, or add support for it)"))
    return options


def _typed(section: dict[str, Any] | None, table: dict[str, tuple[str, dict]], default_type: str,
           absent: dict[str, Any], where: str, issues: list[ConfigIssue]) -> tuple[str, dict, dict]:
    """(plugin name, defaults, section) of a sub-config; absent: transformers' built-in default."""
    if section is None:
        return table[default_type][0], absent, {}
    model_type = section.get("model_type", default_type)
    if model_type not in table:
        issues.append(ConfigIssue(f"{where}.model_type", f"{model_type!r} is not supported; mmplug translates "
                                                         f"{', '.join(sorted(table))}"))
        return "", {}, {}
    name, defaults = table[model_type]
    return name, defaults, section


def translate_config(config: dict[str, Any], *, source: str = "config.json") -> dict[str, Any]:
    """A VideoLlava config dict -> the model and multimodal sections of a pipeline config."""
    issues: list[ConfigIssue] = []
    if config.get("model_type", "video_llava") != "video_llava":
        raise ConfigError([ConfigIssue("model_type", f"{config['model_type']!r} is not a Video-LLaVA config "
                                                     "(expected 'video_llava')")], source)
    text_name, text_defaults, text = _typed(config.get("text_config"), hf.TEXT_MODELS, "llama",
                                            hf.LLAMA_DEFAULTS, "text_config", issues)
    vision_name, vision_defaults, vision = _typed(config.get("vision_config"), hf.VISION_MODELS, "clip_vision_model",
                                                  hf.VIDEO_LLAVA_TOWER, "vision_config", issues)
    language = _part(text, text_defaults, "text_config", frozenset(), issues) if text_name else {}
    if "num_heads" in language:
        language.setdefault("num_kv_heads", language["num_heads"])  # transformers: None means num_heads
    tower = _part(vision, vision_defaults, "vision_config", hf.VISION_UNUSED, issues) if vision_name else {}
    known = set(hf.VIDEO_LLAVA_DEFAULTS) | {"text_config", "vision_config", "image_token_id", "video_token_id"}
    for key in config:
        if key not in known and key not in hf.GENERIC_KEYS and key not in hf.VIDEO_LLAVA_UNUSED:
            issues.append(ConfigIssue(key, "unknown top-level key; mmplug would drop it, so the checkpoint is "
                                           "refused (remove it if it has no effect)"))
    if issues:
        raise ConfigError(issues, source)
    top = {**hf.VIDEO_LLAVA_DEFAULTS, **{k: v for k, v in config.items() if k in hf.VIDEO_LLAVA_DEFAULTS}}
    return {
        "vision_encoder": {"name": vision_name, **tower},
        "video_encoder": {"name": vision_name, **tower},
        "projector": {"name": "mlp2x_gelu", "hidden_act": top["projector_hidden_act"],
                      "bias": top["multimodal_projector_bias"]},
        "language_model": {"name": text_name, **language},
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
    """tokenizer / chat_template / image_processor sections for the files found in ``directory``."""
    sections: dict[str, Any] = {}
    if (directory / "tokenizer.json").is_file():
        sections["tokenizer"] = {"name": "hf_tokenizers", "path": str(directory)}
    if any((directory / name).is_file() for name in ("chat_template.json", "chat_template.jinja")):
        sections["chat_template"] = {"name": "jinja", "path": str(directory)}
    preprocessor = directory / "preprocessor_config.json"
    if preprocessor.is_file():
        from mmplug.plugins.image.options import clip_options_from_hf

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


def config_from_pretrained(directory: str | Path, *, registry: Any = None) -> dict[str, Any]:
    """The pipeline config dict of a checkpoint directory (``config.json`` + processor files).

    A checkpoint whose weights hold no video tower gets ``share_vision_encoder: true`` (the
    image tower serves videos) instead of a video tower that nothing would fill.
    """
    directory = Path(directory)
    path = directory / "config.json"
    if not path.is_file():
        raise CheckpointError(f"{directory} has no config.json; it is not a Hugging Face checkpoint directory "
                              "(build from a pipeline config with Pipeline.from_config instead)")
    config = read_json(path)
    if config.get("model_type") != "video_llava":
        _explain_foreign(directory, config, path, registry)
    data = translate_config(config, source=str(path))
    description = f"from {directory}"
    if not _has_video_tower(directory, config, registry):
        del data["video_encoder"]
        data["multimodal"]["share_vision_encoder"] = True
        description += " (no video tower in the weights: the image tower encodes videos)"
    return {"description": description, **data, **RUNTIME_SECTIONS, **processor_sections(directory)}


def _explain_foreign(directory: Path, config: dict[str, Any], path: Path, registry: Any) -> None:
    """A config that is not video_llava: name the weight layout if a format plugin knows it."""
    from mmplug.core.checkpoint.files import peek_keys
    from mmplug.core.checkpoint.formats import detect_format, require_loadable
    from mmplug.registry import get_registry

    try:  # safetensors names are read from headers; for pickle weights formats judge by config alone
        name, fmt = detect_format(peek_keys(directory), config, registry=registry or get_registry(),
                                  where=str(directory))
    except CheckpointError:
        pass
    else:
        require_loadable(name, fmt, str(directory))
    raise ConfigError([ConfigIssue("model_type", f"{config.get('model_type')!r} is not supported: mmplug reads "
                                                 "Video-LLaVA checkpoints (model_type 'video_llava')")], str(path))


def _has_video_tower(directory: Path, config: dict[str, Any], registry: Any) -> bool:
    from mmplug.core.checkpoint.files import peek_keys
    from mmplug.core.checkpoint.formats import detect_format
    from mmplug.registry import get_registry

    keys = peek_keys(directory)
    if not keys:
        return True
    try:
        _, fmt = detect_format(keys, config, registry=registry or get_registry(), where=str(directory))
    except CheckpointError:
        return True  # load_weights reports the layout problem with the full key listing
    return any((fmt.to_model_key(key) or "").startswith("video_encoder.") for key in keys)
