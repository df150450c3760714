"""Options of the ``clip`` vision encoder (torch-free)."""
from __future__ import annotations

from pydantic import Field, PositiveFloat, PositiveInt, model_validator

from mmplug.core.checkpoint.hf_mapping import SubConfigMapping
from mmplug.core.model.activations import ActivationName
from mmplug.core.options import VisionEncoderOptions, VisionFacts

#: transformers' CLIPVisionConfig (4.56.2): its defaults, in HF key names. ``vocab_size`` (of
#: the text half of a CLIP config) shapes no weight of the tower.
CLIP_VISION = SubConfigMapping("clip_vision_model", {
    "hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12, "num_attention_heads": 12,
    "num_channels": 3, "image_size": 224, "patch_size": 32, "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5,
}, unused=frozenset({"vocab_size"}))


class ClipOptions(VisionEncoderOptions):
    """A CLIP ViT vision tower (e.g. ViT-L/14: hidden 1024, 24 layers, 16 heads, 224 px, patch 14)."""

    hidden_size: PositiveInt
    intermediate_size: PositiveInt
    num_layers: PositiveInt
    num_heads: PositiveInt
    image_size: PositiveInt
    patch_size: PositiveInt
    num_channels: PositiveInt = 3
    layer_norm_eps: PositiveFloat = 1e-5
    hidden_act: ActivationName = Field(default="quick_gelu",
                                       description="MLP activation (see mmplug.core.model.activations).")

    @model_validator(mode="after")
    def _geometry(self) -> "ClipOptions":
        if self.hidden_size % self.num_heads:
            raise ValueError(f"num_heads {self.num_heads} must divide hidden_size {self.hidden_size}")
        if self.image_size % self.patch_size:
            raise ValueError(f"patch_size {self.patch_size} must divide image_size {self.image_size}")
        return self

    @property
    def patches_per_image(self) -> int:
        return (self.image_size // self.patch_size) ** 2

    def facts(self) -> VisionFacts:
        return VisionFacts(hidden_size=self.hidden_size, num_layers=self.num_layers, num_heads=self.num_heads,
                           patches_per_image=self.patches_per_image, has_cls_token=True,
                           image_size=self.image_size, grid=(self.image_size // self.patch_size,) * 2)
