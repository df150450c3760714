"""Projectors: vision features -> language-model embeddings."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


class Projector(ABC):
    """(N,L,in_features) -> (N,L',out_features), with L' = ``output_length(L)``.

    ``in_features`` = vision hidden size x number of feature layers and
    ``out_features`` = text hidden size; the builder wires both.
    """

    in_features: int
    out_features: int

    def output_length(self, length: int) -> int:
        """Tokens out for ``length`` tokens in (identity unless the projector pools)."""
        return length

    @abstractmethod
    def forward(self, features: "torch.Tensor") -> "torch.Tensor":
        """Projected features (N, output_length(L), out_features)."""

    def project_frames(self, features: "torch.Tensor") -> "torch.Tensor":
        """Video frames (F,L,in_features) -> (F, frame_output_length(L), out_features); the
        default projects them as images. A projector that pools frames (e.g. 2x2) overrides it
        together with :meth:`ProjectorOptions.frame_output_length`."""
        return self(features)

    def arrange_video(self, frames: "torch.Tensor") -> "torch.Tensor":
        """One video's projected frames (T,L',out_features) -> its token sequence
        (T*L' + video_extra_tokens, out_features); the default keeps the frames in order. A
        projector that appends tokens per video (e.g. a newline) overrides it together with
        :meth:`ProjectorOptions.video_extra_tokens`."""
        return frames.flatten(0, 1)
