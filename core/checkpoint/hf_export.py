"""A resolved mmplug pipeline -> a transformers ``VideoLlavaConfig`` dict (``config.json``), and
the clip image options -> ``preprocessor_config.json``. The inverse of :mod:`hf_config`.

Every option is written explicitly (no reliance on transformers' defaults); an option that
transformers cannot express (e.g. a projector other than ``mlp2x_gelu``) is an error.
Torch-free.
"""
from __future__ import annotations

from typing import Any

from mmplug.core.checkpoint import hf_names as hf
from mmplug.core.errors import CheckpointError

#: mmplug projector plugin -> {option: VideoLlava key}.
PROJECTORS = {"mlp2x_gelu": {"hidden_act": "projector_hidden_act", "bias": "multimodal_projector_bias"}}
#: Options that only matter inside mmplug (wiring, runtime); never written.
INTERNAL_OPTIONS = {"in_features", "out_features"}
BACK = {ours: theirs for theirs, ours in hf.RENAMED.items()}


def _sub_config(section: str, part: Any, table: dict[str, tuple[str, dict]]) -> dict[str, Any]:
    by_plugin = {plugin: (model_type, defaults) for model_type, (plugin, defaults) in table.items()}
    if part.spec.name not in by_plugin:
        raise CheckpointError(f"{section} plugin {part.spec.name!r} has no transformers VideoLlava equivalent "
                              f"(supported: {', '.join(sorted(by_plugin))}); save it as an mmplug config instead")
    model_type, defaults = by_plugin[part.spec.name]
    out: dict[str, Any] = {"model_type": model_type}
    fields = type(part.options).model_fields
    for key, value in part.options.model_dump(mode="json").items():
        theirs = BACK.get(key, key)
        if theirs in defaults:
            out[theirs] = value
        elif value != fields[key].default:
            raise CheckpointError(f"{section}.{key}={value!r} cannot be written to a transformers {model_type} "
                                  "config (it has no such setting)")
    if model_type in hf.TEXT_MODELS and out.get("num_key_value_heads") is None:
        out["num_key_value_heads"] = out["num_attention_heads"]
    return out


def hf_config(resolved: Any, *, dtype: str) -> dict[str, Any]:
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
    vision = _sub_config("vision_encoder", parts["vision_encoder"], hf.VISION_MODELS)
    video = parts.get("video_encoder")
    if video is not None and _sub_config("video_encoder", video, hf.VISION_MODELS) != vision:
        raise CheckpointError("transformers VideoLlava has one vision_config for both towers; the video_encoder "
                              "options differ from the vision_encoder ones")
    text = _sub_config("language_model", parts["language_model"], hf.TEXT_MODELS)
    config = {
        "architectures": ["VideoLlavaForConditionalGeneration"],
        "model_type": "video_llava",
        "torch_dtype": dtype,
        "text_config": {**text, "torch_dtype": dtype},
        "vision_config": vision,
        "image_token_index": mm.image_token_id,
        "video_token_index": mm.video_token_id,
        "pad_token_id": mm.pad_token_id,
        "vision_feature_layer": mm.vision_feature_layer,
        "vision_feature_select_strategy": mm.image_feature_select_strategy,
        "image_seq_length": resolved.vision.patches_per_image,
        "video_seq_length": (resolved.vision.patches_per_image + 1) * 8,
    }
    for option, key in PROJECTORS[projector.spec.name].items():
        config[key] = getattr(projector.options, option)
    for key in ("image_token_index", "video_token_index"):
        if config[key] is None:
            raise CheckpointError(f"cannot save: multimodal.{key.replace('_index', '_id')} is not set, and "
                                  "transformers needs it")
    return config


def preprocessor_config(part: Any) -> dict[str, Any] | None:
    """``preprocessor_config.json`` for a ``clip`` image processor part (None for other plugins)."""
    if part is None or part.spec.name != "clip":
        return None
    from mmplug.plugins.image.options import PIL_RESAMPLE

    o = part.options
    resample = {name: code for code, name in PIL_RESAMPLE.items()}[o.resample]
    return {
        "crop_size": {"height": o.crop_size, "width": o.crop_size}, "do_center_crop": o.do_center_crop,
        "do_convert_rgb": True, "do_normalize": o.do_normalize, "do_rescale": o.do_rescale,
        "do_resize": o.do_resize, "image_mean": list(o.image_mean), "image_std": list(o.image_std),
        "image_processor_type": "VideoLlavaImageProcessor", "processor_class": "VideoLlavaProcessor",
        "resample": resample, "rescale_factor": o.rescale_factor, "size": {"shortest_edge": o.size},
    }


def video_preprocessor_config(image_part: Any, sampler_part: Any) -> dict[str, Any] | None:
    """``video_preprocessor_config.json``: the image settings for video frames, plus
    ``num_frames`` (transformers' video-processor key) when the frame sampler is ``uniform``,
    so that a checkpoint trained on N frames loads with N frames."""
    config = preprocessor_config(image_part)
    if config is None:
        return None
    config.pop("image_processor_type")
    config["video_processor_type"] = "VideoLlavaVideoProcessor"
    if sampler_part is not None and sampler_part.spec.name == "uniform":
        config.update(do_sample_frames=True, num_frames=sampler_part.options.num_frames)
    return config


def processor_config(resolved: Any) -> dict[str, Any]:
    """``processor_config.json``: what VideoLlavaProcessor needs to count placeholder tokens."""
    vision = resolved.parts["vision_encoder"].options
    return {"patch_size": vision.patch_size,
            "vision_feature_select_strategy": resolved.config.multimodal.image_feature_select_strategy,
            "num_additional_image_tokens": 1, "processor_class": "VideoLlavaProcessor"}
