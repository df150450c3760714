"""Key mapping between the reference Video-LLaVA layouts and this model's parameter names.

Each part already uses the reference module names inside itself, so mapping is prefix
renaming only. Two reference layouts exist:

- "published" (the LanguageBind/Video-LLaVA-7B-hf safetensors): ``language_model.model.*``,
  ``language_model.lm_head.weight``, ``image_tower.vision_model.*``, ``video_tower.vision_model.*``,
  ``multi_modal_projector.*``;
- "transformers" (the in-memory state dict of transformers >= 4.52): ``model.language_model.*``,
  ``lm_head.weight``, ``model.image_tower.vision_model.*``, ``model.video_tower.vision_model.*``,
  ``model.multi_modal_projector.*``.
"""
from __future__ import annotations

from typing import Any, Mapping

from mmplug.core.errors import CheckpointError

#: layout -> [(reference prefix, mmplug prefix)], most specific first.
PREFIXES: dict[str, list[tuple[str, str]]] = {
    "published": [
        ("language_model.lm_head.", "language_model.lm_head."),
        ("language_model.model.", "language_model."),
        ("image_tower.vision_model.", "vision_encoder."),
        ("video_tower.vision_model.", "video_encoder."),
        ("multi_modal_projector.", "projector."),
    ],
    "transformers": [
        ("lm_head.", "language_model.lm_head."),
        ("model.language_model.", "language_model."),
        ("model.image_tower.vision_model.", "vision_encoder."),
        ("model.video_tower.vision_model.", "video_encoder."),
        ("model.multi_modal_projector.", "projector."),
    ],
}


def detect_layout(keys: Any) -> str:
    """"published" or "transformers", from the tensor names; CheckpointError if neither fits."""
    keys = list(keys)
    scores = {layout: sum(any(k.startswith(ref) for ref, _ in prefixes) for k in keys)
              for layout, prefixes in PREFIXES.items()}
    best = max(scores, key=scores.get)
    if scores[best] == 0:
        raise CheckpointError(f"no tensor name looks like a Video-LLaVA checkpoint (e.g. {keys[:3]}); "
                              f"expected prefixes such as {PREFIXES['published'][1][0]!r}")
    return best


def to_model_key(key: str, layout: str = "published") -> str | None:
    """The mmplug parameter name of a reference key (None: not a model weight)."""
    for reference, ours in PREFIXES[layout]:
        if key.startswith(reference):
            return ours + key[len(reference):]
    return None


def from_model_key(key: str, layout: str = "published") -> str:
    """The reference key of an mmplug parameter name."""
    for reference, ours in PREFIXES[layout]:
        if key.startswith(ours) and not (ours == "language_model." and key.startswith("language_model.lm_head.")):
            return reference + key[len(ours):]
    raise CheckpointError(f"parameter {key!r} has no place in the Video-LLaVA {layout} layout")


def from_reference(state_dict: Mapping[str, Any], layout: str | None = None) -> dict[str, Any]:
    """Reference state dict -> mmplug state dict (keys renamed, tensors untouched).
    Keys that are not model weights (e.g. rotary buffers) are dropped; unknown keys raise."""
    layout = layout or detect_layout(state_dict)
    out, unknown = {}, []
    for key, value in state_dict.items():
        ours = to_model_key(key, layout)
        if ours is None:
            if not key.endswith(("rotary_emb.inv_freq", "embeddings.position_ids")):
                unknown.append(key)
            continue
        out[ours] = value
    if unknown:
        raise CheckpointError(f"{len(unknown)} tensor(s) have no place in the model, e.g. {unknown[:3]}; "
                              f"is this a Video-LLaVA checkpoint in the {layout} layout?")
    return out


def to_reference(state_dict: Mapping[str, Any], layout: str = "published") -> dict[str, Any]:
    """mmplug state dict -> reference state dict in ``layout``."""
    return {from_model_key(key, layout): value for key, value in state_dict.items()}
