"""Options of the ``clip`` image processor, and their reading from a HF ``preprocessor_config.json``.

Pure pydantic: importing this module never imports torch, numpy or PIL.
"""
from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, ValidationError, field_validator

from mmplug.core.errors import ConfigError, ConfigIssue
from mmplug.core.options import ImageProcessorOptions, pydantic_issues

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
#: PIL resampling codes as written in HF configs.
PIL_RESAMPLE = {2: "bilinear", 3: "bicubic"}
#: HF keys that describe the file rather than the preprocessing; read and deliberately unused.
HF_METADATA_KEYS = frozenset({"image_processor_type", "processor_class", "video_processor_type",
                              "feature_extractor_type", "_processor_class"})


class ClipImageOptions(ImageProcessorOptions):
    """CLIP preprocessing: resize shortest edge, center crop, rescale, normalise.

    ``fast_frames``: frame stacks (T,H,W,3) go through batched torch ops (uint8 antialiased
    resize); they match the PIL reference path to max |diff| <= 0.03 and mean |diff| <= 0.003
    (one uint8 rounding step is 0.015 after normalisation). Single images always take the
    reference path (max |diff| <= 1e-5 against transformers' ``VideoLlavaImageProcessor``).
    """

    do_resize: bool = True
    size: int = Field(default=224, gt=0, description="Shortest edge after resizing.")
    resample: Literal["bicubic", "bilinear"] = "bicubic"
    do_center_crop: bool = True
    crop_size: int = Field(default=224, gt=0, description="Side of the square center crop.")
    do_rescale: bool = True
    rescale_factor: float = Field(default=1 / 255, gt=0)
    do_normalize: bool = True
    image_mean: tuple[float, float, float] = CLIP_MEAN
    image_std: tuple[float, float, float] = CLIP_STD
    processor_name: ClassVar[str] = "clip"

    fast_frames: bool = Field(default=True, description="Batched torch path for frame stacks (see tolerance).")
    decode_oversample: float | None = Field(
        default=None, ge=1.0, description="Fast path only: decode_size() lets video decoders scale frames down "
                                          "to this many times the resize target (e.g. 2.0). Off by default: "
                                          "decoder-side scaling changes pixels beyond the fast-path tolerance.")

    def output_side(self) -> tuple[int, str] | None:
        return (self.crop_size, "crop_size") if self.do_center_crop else None

    @field_validator("image_std")
    @classmethod
    def _positive_std(cls, value: tuple[float, float, float]) -> tuple[float, float, float]:
        if any(v <= 0 for v in value):
            raise ValueError(f"every image_std value must be > 0, got {list(value)}")
        return value


def _size_value(value: Any, key: str, issues: list[ConfigIssue], *, square: bool) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, dict):
        if not square and set(value) == {"shortest_edge"}:
            return value["shortest_edge"]
        if set(value) == {"height", "width"} and value["height"] == value["width"]:
            return value["height"]
    wanted = "{'height': n, 'width': n}" if square else "{'shortest_edge': n}"
    issues.append(ConfigIssue(key, f"unsupported value {value!r}; the clip processor takes {wanted} or an int"))
    return None


def clip_options_to_hf(options: ClipImageOptions) -> dict[str, Any]:
    """The HF (video) preprocessor config keys of ``options``: the inverse of
    :func:`clip_options_from_hf` (file-type keys such as ``image_processor_type`` not included)."""
    o = options
    resample = {name: code for code, name in PIL_RESAMPLE.items()}[o.resample]
    return {
        "crop_size": {"height": o.crop_size, "width": o.crop_size}, "do_center_crop": o.do_center_crop,
        "do_convert_rgb": True, "do_normalize": o.do_normalize, "do_rescale": o.do_rescale,
        "do_resize": o.do_resize, "image_mean": list(o.image_mean), "image_std": list(o.image_std),
        "resample": resample, "rescale_factor": o.rescale_factor, "size": {"shortest_edge": o.size},
    }


def clip_options_from_hf(config: dict[str, Any], *, source: str = "preprocessor_config.json",
                         model: type[ClipImageOptions] = ClipImageOptions, square_size: bool = False,
                         **overrides: Any) -> ClipImageOptions:
    """Options from a Hugging Face (video) preprocessor config dict.

    Every key is either mapped, or a known metadata key (``HF_METADATA_KEYS``), or
    reported: unknown or unsupported keys/values raise one ConfigError naming them.
    ``overrides`` are options of our own (e.g. ``fast_frames=False``). ``model`` is the options
    class to fill (a subclass for processors that share these keys); ``square_size``: ``size`` is
    ``{'height': n, 'width': n}`` (a square resize) rather than ``{'shortest_edge': n}``.
    """
    issues: list[ConfigIssue] = []
    options: dict[str, Any] = {}
    direct = ("do_resize", "do_center_crop", "do_rescale", "rescale_factor", "do_normalize", "image_mean",
              "image_std")
    for key, value in config.items():
        if key in HF_METADATA_KEYS:
            continue
        if key in direct:
            options[key] = value
        elif key in ("size", "crop_size"):
            size = _size_value(value, key, issues, square=key == "crop_size" or square_size)
            if size is not None:
                options[key] = size
        elif key == "resample":
            if value in PIL_RESAMPLE:
                options["resample"] = PIL_RESAMPLE[value]
            else:
                issues.append(ConfigIssue(key, f"PIL resample code {value!r} is not supported; "
                                               f"supported: {PIL_RESAMPLE}"))
        elif key == "do_convert_rgb":  # null (SigLIP's saved default): RGB input is unchanged either way
            if value not in (True, None):
                issues.append(ConfigIssue(key, "only true is supported: images are always converted to RGB"))
        else:
            issues.append(ConfigIssue(key, f"unknown to the {model.processor_name} image processor; remove it, or "
                                           "use an image "
                                           "processor plugin that implements it"))
    if not issues:
        try:
            return model.model_validate({**options, **overrides})
        except ValidationError as exc:
            issues.extend(pydantic_issues(exc, ""))
    raise ConfigError(issues, source)
