"""Image processors: images or frames in, normalised float pixels out."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    import torch


class ImageProcessor(ABC):
    """Turns images into model input.

    Accepts PIL images, numpy arrays (H,W,C) / (T,H,W,3) and torch uint8 tensors.
    """

    #: (height, width) of the pixels produced.
    output_size: tuple[int, int] = (224, 224)

    @abstractmethod
    def __call__(self, images: Sequence[Any] | Any) -> "torch.Tensor":
        """Float32 pixels (N,3,H,W), one row per image (or per frame of a stack)."""

    def decode_size(self, height: int, width: int) -> tuple[int, int] | None:
        """The (height, width) a decoder may scale frames of this size to without changing
        the result materially (lets decoders avoid full-resolution RGB); None: no hint."""
        return None
