"""Video decoders and frame samplers."""
from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Callable, ClassVar, Sequence, Union

from mmplug.core.interfaces.attention import Availability

if TYPE_CHECKING:
    import numpy as np

#: A path, raw bytes, or a binary file object opened for reading.
MediaSource = Union[str, "os.PathLike[str]", bytes, IO[bytes]]


@dataclass(frozen=True)
class VideoInfo:
    """What ``probe`` learns about a video without decoding it.

    ``width``/``height`` are the display size (after rotation). ``rotation`` follows
    FFmpeg's display-matrix convention: degrees counter-clockwise, one of -90, 0, 90, 180
    (-90 is a phone held upright). ``frame_count_source`` says how ``num_frames`` was
    found: "metadata", "duration", "counted" (packets counted, nothing decoded) or
    "image" (a still image is a one-frame video, with ``fps`` and ``duration`` 0).
    ``frame_times``: float64 (N,) presentation time of each frame in seconds, counted from
    the first frame, when the decoder knows them (always for variable-rate videos); None
    means frame ``i`` is at ``i / fps`` (constant rate).
    """

    num_frames: int
    fps: float
    duration: float
    width: int
    height: int
    rotation: int = 0
    codec: str = ""
    has_audio: bool = False
    variable_fps: bool = False
    frame_count_source: str = "metadata"
    source: str = ""
    frame_times: "np.ndarray | None" = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class DecodedFrames:
    """Frames read from a video: ``frames`` uint8 (T,H,W,3) RGB, rotation applied;
    ``timestamps`` float64 (T,) presentation times in seconds; ``indices`` int64 (T,)."""

    frames: "np.ndarray"
    timestamps: "np.ndarray"
    indices: "np.ndarray"


class VideoDecoder(ABC):
    """Reads frames. Every failure raises :class:`mmplug.core.errors.MediaError`."""

    @classmethod
    def availability(cls) -> Availability:
        """Whether this decoder can run here (e.g. its package is installed), and why not."""
        return Availability(True)

    @abstractmethod
    def probe(self, source: MediaSource) -> VideoInfo:
        """Frame count, fps, duration, size, rotation and codec of ``source``."""

    @abstractmethod
    def read(
        self, source: MediaSource, indices: Sequence[int], *, size: tuple[int, int] | None = None
    ) -> DecodedFrames:
        """The frames at ``indices`` (any order, repeats allowed), bit-exact with a plain
        sequential decode. ``size=(height, width)`` scales during colour conversion."""

    def read_sampled(self, source: MediaSource, sampler: "FrameSampler", *, size: "SizeRule" = None
                     ) -> "tuple[VideoInfo, DecodedFrames]":
        """probe + the sampler's choice (``select``, which may peek at frames) + read.

        ``size`` is a (height, width), None, or a function of the VideoInfo giving either.
        Decoders may override this to open the file once; results must be the same."""
        info = self.probe(source)

        def peek(indices: Sequence[int], peek_size: tuple[int, int] | None = None) -> "np.ndarray":
            return self.read(source, indices, size=peek_size).frames

        indices = sampler.select(info, peek)
        return info, self.read(source, indices, size=size(info) if callable(size) else size)


class FrameSampler(ABC):
    """Chooses which frames of a video to read.

    ``short_video_policy`` states what happens when a video has fewer frames than
    asked for: "repeat" (indices repeat) or "error". Samplers never pad with blank frames.
    """

    short_video_policy: ClassVar[str] = "repeat"

    @abstractmethod
    def indices(self, info: VideoInfo) -> "np.ndarray":
        """Frame indices (K,) int64, each in ``[0, info.num_frames)``."""

    def select(self, info: VideoInfo, peek: "FramePeek") -> "np.ndarray":
        """Frame indices (K,) for a sampler that looks at the content (e.g. scene changes):
        ``peek(indices, size)`` returns low-resolution frames (T,h,w,3) uint8 of the video.
        The default ignores the content and returns :meth:`indices`."""
        return self.indices(info)


#: ``peek(indices, size=(h, w)) -> uint8 (T,h,w,3)``: a cheap look at some frames of the video.
FramePeek = Callable[[Sequence[int], "tuple[int, int] | None"], "np.ndarray"]
#: A read size: (height, width), None (as decoded), or a function of the VideoInfo giving either.
SizeRule = Union["tuple[int, int]", None, Callable[[VideoInfo], "tuple[int, int] | None"]]
