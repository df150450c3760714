"""Frame samplers: which frame indices of a video to read.

Every sampler returns int64 indices (K,) inside ``[0, info.num_frames)`` and
states its ``short_video_policy``: with "repeat", a video shorter than K frames
gives repeated indices; with "error", it raises :class:`MediaError`. No sampler
ever invents a frame (no blank padding).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from mmplug.core.errors import MediaError
from mmplug.core.interfaces.video import FrameSampler, VideoInfo


class _Sampler(FrameSampler):
    """Common checks: a video with no frames, and the short-video policy."""

    name = "sampler"

    def __init__(self, short_video: str = "repeat"):
        self.short_video_policy = short_video

    def indices(self, info: VideoInfo) -> np.ndarray:
        """Frame indices (K,) int64 for ``info``."""
        if info.num_frames < 1:
            raise self._error(info, "the video has no frames to sample")
        wanted = self.wanted(info)
        if info.num_frames < wanted and self.short_video_policy == "error":
            raise self._error(info, f"the video has {info.num_frames} frames, fewer than the {wanted} asked "
                                    "for; set short_video='repeat' to repeat frames, or ask for fewer")
        chosen = np.asarray(self.choose(info, wanted), dtype=np.int64)
        return np.clip(chosen, 0, info.num_frames - 1)

    def wanted(self, info: VideoInfo) -> int:
        """How many frames this sampler takes from ``info``."""
        raise NotImplementedError

    def choose(self, info: VideoInfo, count: int) -> Any:
        """``count`` frame indices of ``info`` (may repeat when the video is short)."""
        raise NotImplementedError

    def _error(self, info: VideoInfo, cause: str) -> MediaError:
        return MediaError(info.source or "<video>", f"sampler {self.name}", cause)

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({fields})"


class UniformSampler(_Sampler):
    """``np.arange(0, n, n / k).astype(int)``: the rule of the transformers docs for
    Video-LLaVA-7B-hf. Starts at frame 0; steps of n/k (repeats when n < k)."""

    name = "uniform"

    def __init__(self, num_frames: int = 8, short_video: str = "repeat"):
        super().__init__(short_video)
        self.num_frames = num_frames

    def wanted(self, info: VideoInfo) -> int:
        return self.num_frames

    def choose(self, info: VideoInfo, count: int) -> np.ndarray:
        n = info.num_frames
        # float rounding can make arange one step longer than k; the rule means k frames
        return np.arange(0, n, n / count).astype(int)[:count]


class LinspaceSampler(UniformSampler):
    """``np.linspace(0, n - 1, k)`` truncated to int: the original Video-LLaVA rule
    (first and last frame included)."""

    name = "linspace"

    def choose(self, info: VideoInfo, count: int) -> np.ndarray:
        return np.linspace(0, info.num_frames - 1, count).astype(int)


class SegmentSampler(UniformSampler):
    """One frame from each of k equal segments: random within the segment (seeded,
    for training) or the segment's middle (``jitter=False``)."""

    name = "segment"

    def __init__(self, num_frames: int = 8, seed: int | None = None, jitter: bool = True,
                 short_video: str = "repeat"):
        super().__init__(num_frames, short_video)
        self.seed = seed
        self.jitter = jitter
        self._rng = np.random.default_rng(seed)

    def choose(self, info: VideoInfo, count: int) -> np.ndarray:
        edges = np.linspace(0, info.num_frames, count + 1)
        starts = np.floor(edges[:-1]).astype(np.int64)
        ends = np.maximum(np.floor(edges[1:]).astype(np.int64), starts + 1)  # short video: a 1-frame segment
        if not self.jitter:
            return np.floor((edges[:-1] + edges[1:]) / 2).astype(np.int64)
        return self._rng.integers(starts, ends)


class FpsSampler(_Sampler):
    """``fps`` frames per second of video, between ``min_frames`` and ``max_frames``.

    Promised times are j / fps seconds from the first frame (when ``max_frames`` caps the
    count they spread evenly over the whole video instead); each is served by the frame whose
    presentation time is nearest (the earlier one on a tie). Frame times come from
    ``VideoInfo.frame_times``, so a variable-frame-rate video is sampled by time, not by index;
    without them the video must be constant-rate (frame i at i / video fps).
    """

    name = "fps"

    def __init__(self, fps: float = 1.0, max_frames: int = 32, min_frames: int = 1, short_video: str = "repeat"):
        super().__init__(short_video)
        self.fps = fps
        self.max_frames = max_frames
        self.min_frames = min_frames

    def _duration(self, info: VideoInfo) -> float:
        if info.duration > 0:
            return info.duration
        return info.num_frames / info.fps if info.fps > 0 else 0.0

    def wanted(self, info: VideoInfo) -> int:
        count = int(np.floor(self._duration(info) * self.fps + 1e-9))
        return int(np.clip(count, self.min_frames, self.max_frames))

    def times(self, info: VideoInfo, count: int) -> np.ndarray:
        """The ``count`` promised times (K,) in seconds from the first frame."""
        duration = self._duration(info)
        if count < duration * self.fps:  # capped: cover the whole video
            return np.arange(count) * (duration / count)
        return np.arange(count) / self.fps

    def choose(self, info: VideoInfo, count: int) -> np.ndarray:
        return nearest_frames(self._frame_times(info), self.times(info, count))

    def _frame_times(self, info: VideoInfo) -> np.ndarray:
        if info.frame_times is not None and len(info.frame_times):
            return np.asarray(info.frame_times[: info.num_frames], dtype=np.float64)
        if info.variable_fps:
            raise self._error(info, "the video has a variable frame rate but its decoder gave no frame times "
                                    "(VideoInfo.frame_times), so frames cannot be chosen by time; use the pyav "
                                    "decoder, or a count-based sampler ('uniform')")
        duration = self._duration(info)
        video_fps = info.fps if info.fps > 0 else info.num_frames / max(duration, 1e-9)
        return np.arange(info.num_frames) / video_fps


#: Seconds within which two times count as equal (a tie goes to the earlier frame).
_TIE = 1e-6


def nearest_frames(frame_times: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Index (K,) of the frame nearest to each time; ``frame_times`` (N,) sorted, ties go earlier."""
    after = np.searchsorted(frame_times, times + _TIE, side="right")  # first frame clearly after t
    before = np.clip(after - 1, 0, len(frame_times) - 1)
    later = np.clip(after, 0, len(frame_times) - 1)
    closer_later = (frame_times[later] - times) < (times - frame_times[before]) - _TIE
    return np.where(closer_later, later, before).astype(np.int64)


class AllSampler(_Sampler):
    """Every frame, in order. ``max_frames`` refuses longer videos instead of cutting them."""

    name = "all"

    def __init__(self, max_frames: int | None = None):
        super().__init__("repeat")
        self.max_frames = max_frames

    def wanted(self, info: VideoInfo) -> int:
        if self.max_frames is not None and info.num_frames > self.max_frames:
            raise self._error(info, f"the video has {info.num_frames} frames, more than max_frames="
                                    f"{self.max_frames}; raise max_frames or use the 'uniform' or 'fps' sampler")
        return info.num_frames

    def choose(self, info: VideoInfo, count: int) -> np.ndarray:
        return np.arange(count)


# --------------------------------------------------------------------------- factories
def build_uniform(options: Any, context: Any = None) -> UniformSampler:
    return UniformSampler(options.num_frames, options.short_video)


def build_linspace(options: Any, context: Any = None) -> LinspaceSampler:
    return LinspaceSampler(options.num_frames, options.short_video)


def build_segment(options: Any, context: Any = None) -> SegmentSampler:
    return SegmentSampler(options.num_frames, options.seed, options.jitter, options.short_video)


def build_fps(options: Any, context: Any = None) -> FpsSampler:
    return FpsSampler(options.fps, options.max_frames, options.min_frames, options.short_video)


def build_all(options: Any, context: Any = None) -> AllSampler:
    return AllSampler(options.max_frames)
