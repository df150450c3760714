"""The plugin kinds mmplug knows. A part is identified by (kind, name)."""
from __future__ import annotations

from enum import Enum


class Kind(str, Enum):
    """Every kind of part a pipeline is made of (see docs/concepts.md, "Parts and kinds")."""

    VIDEO_DECODER = "video_decoder"
    FRAME_SAMPLER = "frame_sampler"
    IMAGE_PROCESSOR = "image_processor"
    TOKENIZER = "tokenizer"
    CHAT_TEMPLATE = "chat_template"
    VISION_ENCODER = "vision_encoder"
    PROJECTOR = "projector"
    LANGUAGE_MODEL = "language_model"
    ATTENTION = "attention"
    CHECKPOINT_FORMAT = "checkpoint_format"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def parse(cls, value: "Kind | str") -> "Kind":
        if isinstance(value, Kind):
            return value
        try:
            return cls(value)
        except ValueError:
            known = ", ".join(k.value for k in cls)
            raise ValueError(f"unknown plugin kind {value!r}; known kinds: {known}") from None
