"""The weight layouts of LLaVA-1.5 checkpoints (LlavaForConditionalGeneration), as prefix tables;
both share the family's config.json translation. Torch-free."""
from __future__ import annotations

from typing import Any

from mmplug.plugins.checkpoints.prefix import DECODER, LM_HEAD, PROJECTOR, VISION, PrefixFormat
from mmplug.plugins.llava.translation import LLAVA, MODEL_TYPE

FAMILY = {"model_types": (MODEL_TYPE,), "translation": LLAVA}


def llava(options: Any, context: Any) -> PrefixFormat:
    """llava-hf/llava-1.5-7b-hf and transformers 4.4x-4.5x ``save_pretrained``."""
    return PrefixFormat("llava", "llava-1.5-hf / transformers 4.x save_pretrained", [
        ("language_model.lm_head.", LM_HEAD), ("language_model.model.", DECODER),
        ("vision_tower.vision_model.", VISION), ("multi_modal_projector.", PROJECTOR)], **FAMILY)


def llava_state_dict(options: Any, context: Any) -> PrefixFormat:
    """The in-memory state dict of transformers >= 4.52 (``model.state_dict()`` saved as is)."""
    return PrefixFormat("llava_state_dict", "LLaVA, transformers >= 4.52 in-memory state_dict names", [
        ("lm_head.", LM_HEAD), ("model.language_model.", DECODER), ("model.vision_tower.vision_model.", VISION),
        ("model.multi_modal_projector.", PROJECTOR)], **FAMILY)
