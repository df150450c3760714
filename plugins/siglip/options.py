"""Options of the ``siglip`` vision encoder and image processor (torch-free)."""
from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, PositiveFloat, PositiveInt, model_validator

from mmplug.core.checkpoint.hf_mapping import SubConfigMapping
from mmplug.core.model.activations import ActivationName
from mmplug.core.options import VisionEncoderOptions, VisionFacts
from mmplug.plugins.image.options import ClipImageOptions, clip_options_from_hf, clip_options_to_hf

#: transformers' SiglipVisionConfig (4.56.2) defaults, in HF key names. ``vision_use_head``
#: is not a declared key of that config: SiglipVisionModel reads it when present (default true).
SIGLIP_VISION = SubConfigMapping("siglip_vision_model", {
    "hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12, "num_attention_heads": 12,
    "num_channels": 3, "image_size": 224, "patch_size": 16, "hidden_act": "gelu_pytorch_tanh",
    "layer_norm_eps": 1e-6, "vision_use_head": None,
}, renamed={"num_hidden_layers": "num_layers", "num_attention_heads": "num_heads", "vision_use_head": "use_head"},
    unused=frozenset({"tie_word_embeddings"}))  # every PretrainedConfig carries it; a tower ties nothing

SIGLIP_MEAN = SIGLIP_STD = (0.5, 0.5, 0.5)


class SiglipOptions(VisionEncoderOptions):
    """A SigLIP ViT tower (e.g. so400m-patch14-384: hidden 1152, 27 layers, 16 heads, 384 px, patch 14,
    27x27 = 729 patches: the convolution drops the remainder of 384 / 14)."""

    hidden_size: PositiveInt
    intermediate_size: PositiveInt
    num_layers: PositiveInt
    num_heads: PositiveInt
    image_size: PositiveInt
    patch_size: PositiveInt
    num_channels: PositiveInt = 3
    layer_norm_eps: PositiveFloat = 1e-6
    hidden_act: ActivationName = "gelu_pytorch_tanh"
    use_head: bool = Field(default=True, description="The attention-pooling head (pooled output only).")

    @model_validator(mode="after")
    def _geometry(self) -> "SiglipOptions":
        if self.hidden_size % self.num_heads:
            raise ValueError(f"num_heads {self.num_heads} must divide hidden_size {self.hidden_size}")
        if self.patch_size > self.image_size:
            raise ValueError(f"patch_size {self.patch_size} is larger than image_size {self.image_size}")
        return self

    @property
    def grid_side(self) -> int:
        return self.image_size // self.patch_size

    @property
    def patches_per_image(self) -> int:
        return self.grid_side ** 2

    def facts(self) -> VisionFacts:
        return VisionFacts(hidden_size=self.hidden_size, num_layers=self.num_layers, num_heads=self.num_heads,
                           patches_per_image=self.patches_per_image, has_cls_token=False,
                           image_size=self.image_size, grid=(self.grid_side,) * 2)


class SiglipImageOptions(ClipImageOptions):
    """SigLIP preprocessing: resize to ``size`` x ``size`` (aspect ratio not kept, no crop),
    rescale, normalise (mean = std = 0.5). ``fast_frames`` as for ``clip``."""

    processor_name: ClassVar[str] = "siglip"

    size: int = Field(default=224, gt=0, description="Side of the square the image is resized to.")
    do_center_crop: Literal[False] = False
    image_mean: tuple[float, float, float] = SIGLIP_MEAN
    image_std: tuple[float, float, float] = SIGLIP_STD
    decode_oversample: None = None

    def output_side(self) -> tuple[int, str] | None:
        return (self.size, "size") if self.do_resize else None


def siglip_options_from_hf(config: dict[str, Any], *, source: str = "preprocessor_config.json",
                           **overrides: Any) -> SiglipImageOptions:
    """Options from a SiglipImageProcessor ``preprocessor_config.json`` dict; unknown keys are errors."""
    return clip_options_from_hf(config, source=source, model=SiglipImageOptions, square_size=True, **overrides)


def siglip_options_to_hf(options: SiglipImageOptions) -> dict[str, Any]:
    """The SiglipImageProcessor keys of ``options`` (the inverse of :func:`siglip_options_from_hf`)."""
    hf = {k: v for k, v in clip_options_to_hf(options).items() if k not in ("crop_size", "do_center_crop")}
    return {**hf, "size": {"height": options.size, "width": options.size}}
