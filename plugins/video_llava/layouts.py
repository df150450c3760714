"""The weight layouts of Video-LLaVA checkpoints, as prefix tables (see
:class:`~mmplug.plugins.checkpoints.prefix.PrefixFormat`); all share the family's config.json
translation. Torch-free."""
from __future__ import annotations

from typing import Any

from mmplug.plugins.checkpoints.prefix import DECODER, LM_HEAD, PROJECTOR, VIDEO, VISION, PrefixFormat
from mmplug.plugins.video_llava.translation import MODEL_TYPE, VIDEO_LLAVA

FAMILY = {"model_types": (MODEL_TYPE,), "translation": VIDEO_LLAVA}


def published(options: Any, context: Any) -> PrefixFormat:
    """Layout 1: LanguageBind/Video-LLaVA-7B-hf and transformers 4.4x-4.5x ``save_pretrained``."""
    return PrefixFormat("published", "Video-LLaVA-7B-hf / transformers 4.x save_pretrained", [
        ("language_model.lm_head.", LM_HEAD), ("language_model.model.", DECODER),
        ("image_tower.vision_model.", VISION), ("video_tower.vision_model.", VIDEO),
        ("multi_modal_projector.", PROJECTOR)], **FAMILY)


def v5(options: Any, context: Any) -> PrefixFormat:
    """Layout 2: transformers 5.x ``save_pretrained``: towers without the ``vision_model.`` level."""
    return PrefixFormat("v5", "transformers 5.x save_pretrained (towers without vision_model.)", [
        ("language_model.lm_head.", LM_HEAD), ("language_model.model.", DECODER),
        ("image_tower.", VISION), ("video_tower.", VIDEO), ("multi_modal_projector.", PROJECTOR)],
        aliases=[("lm_head.", LM_HEAD), ("language_model.", DECODER)],
        forbidden=("image_tower.vision_model.", "video_tower.vision_model."), **FAMILY)


def v5_prefixed(options: Any, context: Any) -> PrefixFormat:
    """Layout 3: layout 2 under a leading ``model.``, with a top-level ``lm_head``."""
    return PrefixFormat("v5_prefixed", "transformers 5.x, model.-prefixed (model.language_model.*, lm_head)", [
        ("lm_head.", LM_HEAD), ("model.language_model.", DECODER), ("model.image_tower.", VISION),
        ("model.video_tower.", VIDEO), ("model.multi_modal_projector.", PROJECTOR)],
        forbidden=("model.image_tower.vision_model.", "model.video_tower.vision_model."), **FAMILY)


def state_dict(options: Any, context: Any) -> PrefixFormat:
    """The in-memory state dict of transformers >= 4.52 (``model.state_dict()`` saved as is)."""
    return PrefixFormat("state_dict", "transformers >= 4.52 in-memory state_dict names", [
        ("lm_head.", LM_HEAD), ("model.language_model.", DECODER),
        ("model.image_tower.vision_model.", VISION), ("model.video_tower.vision_model.", VIDEO),
        ("model.multi_modal_projector.", PROJECTOR)], **FAMILY)
