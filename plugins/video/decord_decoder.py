"""The ``decord`` video decoder (optional extra: ``pip install "mmplug[decord]"``).

decord reads ordinary videos with ``VideoReader.get_batch``. It cannot open still
images or GIFs, and it returns distorted frames for videos with a display
rotation; those go through PyAV/Pillow instead (``other_media="pyav"``, the
default) or raise MediaError (``other_media="error"``). Metadata that decord
does not expose (rotation, codec, audio) comes from PyAV, a core dependency.
"""
from __future__ import annotations

import dataclasses
import logging
from typing import Any, Sequence

import numpy as np

from mmplug.core.errors import BackendUnavailableError
from mmplug.core.interfaces.attention import Availability
from mmplug.core.interfaces.video import DecodedFrames, VideoDecoder, VideoInfo
from mmplug.core.media.guard import MEDIA_FAILURES, media_errors
from mmplug.core.media.limits import media_limits
from mmplug.core.media.sniff import ANIMATED, STILL, sniff
from mmplug.core.media.source import Source, as_source
from mmplug.plugins.video.pyav_decoder import PyAVDecoder

log = logging.getLogger(__name__)
INSTALL_HINT = 'decord is not installed; install it with: pip install "mmplug[decord]" (or use the pyav decoder)'


def _decord():
    try:
        import decord
    except ImportError as exc:
        raise BackendUnavailableError(f"video_decoder 'decord': {INSTALL_HINT} ({exc})") from exc
    return decord


class DecordDecoder(VideoDecoder):
    """decord ``get_batch`` reads; frames uint8 (T,H,W,3) RGB. Every failure raises MediaError."""

    backend = "decord"

    def __init__(self, threads: str | int = "auto", other_media: str = "pyav"):
        self._decord = _decord()
        self.threads = 0 if threads == "auto" else int(threads)
        self.other_media = other_media
        self._pyav = PyAVDecoder(threads=threads)
        self._pyav.backend = "decord+pyav"  # errors say PyAV read the file on decord's behalf
        self._failures = MEDIA_FAILURES + (self._decord.DECORDError,) if hasattr(
            self._decord, "DECORDError") else MEDIA_FAILURES

    @classmethod
    def availability(cls) -> Availability:
        try:
            _decord()
        except BackendUnavailableError:
            return Availability(False, INSTALL_HINT)
        return Availability(True)

    def probe(self, source: Any) -> VideoInfo:
        """PyAV's description of the video, with decord's frame count (its indices are decord's);
        PyAV's frame times are kept when both count the same frames."""
        src = as_source(source, self.backend)
        info = self._pyav.probe(src)
        if self._routed_elsewhere(src, info):
            return info
        reader = self._reader(src, None, info)
        count = len(reader)
        how = info.frame_count_source if count == info.num_frames else "counted"
        times = info.frame_times  # PyAV's frame times hold for decord's frames only if they are the same frames
        if times is not None and len(times) != count:
            times = None
        return dataclasses.replace(info, num_frames=count, frame_count_source=how, frame_times=times)

    def read(self, source: Any, indices: Sequence[int], *, size: tuple[int, int] | None = None) -> DecodedFrames:
        """Frames at ``indices`` (any order, repeats allowed); ``size=(height, width)`` scales in decord."""
        src = as_source(source, self.backend)
        info = self._pyav.probe(src)
        if self._routed_elsewhere(src, info):
            return self._pyav.read(src, indices, size=size)
        wanted = np.asarray(indices, dtype=np.int64).reshape(-1)
        media_limits().check_frames(wanted.size, src.name, self.backend)
        reader = self._reader(src, size, info)
        count = len(reader)
        bad = wanted[(wanted < 0) | (wanted >= count)]
        if wanted.size == 0 or bad.size:
            cause = (f"frame index {int(bad[0])} is out of range: the video has {count} frames (0..{count - 1})"
                     if bad.size else "no frame indices given; pass at least one")
            raise src.error(self.backend, cause)
        unique, inverse = np.unique(wanted, return_inverse=True)
        with media_errors(src, self.backend, "decoding", self._failures):
            frames = reader.get_batch(unique.tolist()).asnumpy()
            times = np.asarray(reader.get_frame_timestamp(unique.tolist()), dtype=np.float64)[:, 0]
        return DecodedFrames(frames=np.ascontiguousarray(frames[inverse]), timestamps=times[inverse],
                             indices=wanted)

    def _routed_elsewhere(self, src: Source, info: VideoInfo) -> bool:
        """True for media decord cannot read right (stills, GIFs, rotated videos)."""
        kind = sniff(src.head())
        reason = ("a still image" if kind == STILL else "a GIF" if kind == ANIMATED
                  else f"rotated by {info.rotation} degrees" if info.rotation else None)
        if reason is None:
            return False
        if self.other_media == "error":
            raise src.error(self.backend, f"decord cannot read this file correctly ({reason}); "
                                          "use the pyav decoder, or other_media='pyav'")
        log.info("%s is %s: read with PyAV instead of decord", src.name, reason)
        return True

    def _reader(self, src: Source, size: tuple[int, int] | None, info: VideoInfo):
        height, width = size if size is not None else (-1, -1)
        with media_errors(src, self.backend, "opening the file", self._failures):
            target = src.path if src.path is not None else src.open()
            return self._decord.VideoReader(target, ctx=self._decord.cpu(0), num_threads=self.threads,
                                            width=width, height=height)


def build_decord(options: Any, context: Any = None) -> DecordDecoder:
    """Factory of the ``decord`` decoder; BackendUnavailableError when decord is not installed."""
    return DecordDecoder(threads=options.threads, other_media=options.other_media)
