"""Options of the video decoders and frame samplers (pydantic only: cheap to import)."""
from __future__ import annotations

from typing import Literal, Optional, Union

from pydantic import Field, field_validator

from mmplug.core.options import PluginOptions

ShortVideo = Literal["repeat", "error"]
Interpolation = Literal["area", "bilinear", "bicubic", "lanczos", "point", "fast_bilinear"]


def _threads(value: Union[str, int]) -> Union[str, int]:
    if value == "auto":
        return value
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"threads must be 'auto' or an integer >= 1, got {value!r}")
    return value


class PyAVOptions(PluginOptions):
    """``pyav`` decoder.

    - ``threads``: FFmpeg decoding threads; "auto": one thread for frames below 1280x720
      (threading costs more than it saves there), else frame + slice threads, one per core.
    - ``seek``: "auto" seeks to the keyframe before a wanted frame when that skips
      frames, "never" decodes from the start, "always" seeks before every wanted frame.
    - ``skip_unwanted``: do not decode non-reference frames nobody asked for
      (no other frame depends on them, so the frames returned are unchanged).
    - ``count``: "fast" finds a missing frame count from metadata, then duration x fps,
      then by counting packets; "exact" skips the duration estimate.
    - ``interpolation``: scaler used when ``read(..., size=...)`` resizes.
    - ``cache_size``: packet indexes kept per decoder (probe then read opens a file once).
    """

    threads: Union[Literal["auto"], int] = "auto"
    seek: Literal["auto", "never", "always"] = "auto"
    skip_unwanted: bool = True
    count: Literal["fast", "exact"] = "fast"
    interpolation: Interpolation = "area"
    cache_size: int = Field(16, ge=0)

    _check_threads = field_validator("threads")(_threads)


class DecordOptions(PluginOptions):
    """``decord`` decoder (optional extra). ``threads``: decoding threads ("auto" lets decord choose);
    ``other_media``: what to do with files decord cannot read correctly (still images, GIFs,
    rotated videos): read them with PyAV ("pyav") or raise ("error")."""

    threads: Union[Literal["auto"], int] = "auto"
    other_media: Literal["pyav", "error"] = "pyav"

    _check_threads = field_validator("threads")(_threads)


class SamplerOptions(PluginOptions):
    """Shared by the samplers: ``short_video`` says what happens when a video has fewer
    frames than asked for ("repeat" frames, or "error"). Nothing ever pads with blank frames."""

    short_video: ShortVideo = "repeat"


class CountOptions(SamplerOptions):
    """``uniform`` and ``linspace``: ``num_frames`` frames spread over the whole video."""

    num_frames: int = Field(8, ge=1, le=100_000)


class SegmentOptions(CountOptions):
    """``segment``: one frame from each of ``num_frames`` equal segments.

    ``seed`` makes the random choice reproducible (None: a fresh random seed);
    ``jitter=False`` takes each segment's middle frame instead (evaluation).
    """

    seed: Optional[int] = None
    jitter: bool = True


class FpsOptions(SamplerOptions):
    """``fps``: ``fps`` frames per second of video, at most ``max_frames`` (spread evenly
    over the whole video when the cap applies), at least ``min_frames``."""

    fps: float = Field(1.0, gt=0)
    max_frames: int = Field(32, ge=1)
    min_frames: int = Field(1, ge=1)

    @field_validator("min_frames")
    @classmethod
    def _min_below_max(cls, value: int, info) -> int:
        cap = info.data.get("max_frames")
        if cap is not None and value > cap:
            raise ValueError(f"min_frames ({value}) must not exceed max_frames ({cap})")
        return value


class AllOptions(PluginOptions):
    """``all``: every frame. ``max_frames``: refuse longer videos (None: no limit)."""

    max_frames: Optional[int] = Field(None, ge=1)
