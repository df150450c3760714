"""The weight layout of LLaVA-OneVision checkpoints (transformers 4.x save_pretrained, as the
llava-hf ``*-ov-hf`` repositories), as a prefix table. Torch-free."""
from __future__ import annotations

from typing import Any

from mmplug.plugins.checkpoints.prefix import DECODER, LM_HEAD, PROJECTOR, VISION, PrefixFormat
from mmplug.plugins.llava_onevision.translation import MODEL_TYPE, ONEVISION


def llava_onevision(options: Any, context: Any) -> PrefixFormat:
    return PrefixFormat("llava_onevision", "LLaVA-OneVision-hf / transformers 4.x save_pretrained", [
        ("language_model.lm_head.", LM_HEAD), ("language_model.model.", DECODER),
        ("vision_tower.vision_model.", VISION), ("image_newline", PROJECTOR + "image_newline"),
        ("multi_modal_projector.", PROJECTOR)],  # the newline first: it lives under projector. here
        required=("image_newline",), model_types=(MODEL_TYPE,), translation=ONEVISION)
