"""The ``pyav`` video decoder: exact frames, fast sparse reads.

Frames are bit-for-bit those of a plain sequential decode (decode from the
start, take the i-th frame out, ``to_ndarray(format="rgb24")``), found faster:

- the packet index maps each frame index to its pts and its keyframe, so the
  decoder seeks forward to the keyframe before a far-away wanted frame;
- packets of non-reference frames nobody asked for are not decoded at all;
- FFmpeg decodes with frame and slice threads;
- only wanted frames are converted to RGB, optionally scaled in the same pass.

If a file's packets do not match what the decoder outputs (rare muxers), the
read is redone as a plain sequential decode, so the frames stay exact.
"""
from __future__ import annotations

import contextlib
import logging
import threading
from collections import OrderedDict
from typing import Any, Iterator, Sequence

import numpy as np

from mmplug.core.interfaces.video import DecodedFrames, FrameSampler, VideoDecoder, VideoInfo
from mmplug.core.media.geometry import coded_size, normalise_rotation, rotate
from mmplug.core.media.guard import media_errors
from mmplug.core.media.limits import media_limits
from mmplug.core.media.sniff import ANIMATED, OTHER, STILL, sniff
from mmplug.core.media.source import Source, as_source
from mmplug.plugins.video.pyav_feed import Feeder, IndexMismatch, Pending
from mmplug.plugins.video.pyav_index import (
    PacketIndex,
    has_sample_table,
    index_from_packets,
    index_from_sample_table,
)
from mmplug.plugins.video.pyav_probe import (
    AV_FAILURES,
    BACKEND,
    configure_threads,
    describe,
    open_video,
    probe_video,
    with_frame,
    with_times,
)
from mmplug.plugins.video.still import probe_still, read_still

log = logging.getLogger(__name__)
#: A read size inside the decoder: (height, width) for display, None, or a function of the first
#: decoded frame giving either (so that a size rule sees the rotation).
ReadSize = Any


class PyAVDecoder(VideoDecoder):
    """Decodes with PyAV (FFmpeg). Sources: a path, bytes or a binary file object; still
    images are one-frame videos, GIFs are videos. Every failure raises MediaError."""

    backend = BACKEND

    def __init__(self, threads: str | int = "auto", seek: str = "auto", skip_unwanted: bool = True,
                 count: str = "fast", interpolation: str = "area", cache_size: int = 16):
        self.threads = threads
        self.seek = seek
        self.skip_unwanted = skip_unwanted
        self.count = count
        self.interpolation = interpolation
        self.cache_size = cache_size
        self._cache: OrderedDict[tuple, PacketIndex] = OrderedDict()
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ public API
    def probe(self, source: Any) -> VideoInfo:
        """Frame count (and how it was found), fps, duration, display size, rotation, codec, audio."""
        src = as_source(source, self.backend)
        if sniff(src.head()) == STILL:
            return probe_still(src, self.backend)
        return probe_video(src, self.count, lambda: self.index(src), self.backend)

    def read(self, source: Any, indices: Sequence[int], *, size: tuple[int, int] | None = None) -> DecodedFrames:
        """uint8 frames (T,H,W,3) RGB at ``indices`` (any order, repeats allowed), rotation
        applied; ``size=(height, width)`` scales inside the colour conversion."""
        src = as_source(source, self.backend)
        wanted = self._check_indices(src, indices, size)
        kind = sniff(src.head())
        if kind == STILL:
            return read_still(src, wanted, size, self.backend, self.interpolation)
        return self._read_frames(src, self.index(src), wanted, size, kind)

    def read_sampled(self, source: Any, sampler: Any, *, size: Any = None) -> tuple[VideoInfo, DecodedFrames]:
        """``probe`` + ``sampler.indices`` + ``read`` with the file opened once: same results,
        less overhead for short clips. Returns (info, frames). Content-aware samplers (which
        override ``select``) take the interface's general path."""
        if type(sampler).select is not FrameSampler.select:
            return super().read_sampled(source, sampler, size=size)
        src = as_source(source, self.backend)
        kind = sniff(src.head())
        if kind != OTHER or self.seek == "never":
            info = self.probe(src)
            return info, self.read(src, sampler.indices(info), size=size(info) if callable(size) else size)
        with open_video(src, self.backend) as (container, stream):
            index = self._cached(src.key)
            if index is None:
                with media_errors(src, self.backend, "reading the packets", AV_FAILURES):
                    table = has_sample_table(stream)
                    index = (index_from_sample_table if table else index_from_packets)(container, stream)
                index = index if index is not None else self.index(src)  # the table did not check out
                self._store(src.key, index)
            info = with_times(describe(src, container, stream, self.count, lambda: index, self.backend), index)
            wanted = self._check_indices(src, sampler.indices(info), None if callable(size) else size)
            if callable(size):  # the rotation (hence the display size) is known once a frame is decoded
                size = self._size_after_rotation(src, size, info)
            seen: dict = {}
            frames = self._read_frames(src, index, wanted, size, kind, (container, stream), seen)
        return with_frame(info, seen["frame"]), frames

    def _size_after_rotation(self, src: Source, rule: Any, info: VideoInfo) -> Any:
        """``rule(info)`` evaluated on the display geometry of the first decoded frame, then kept:
        a function of a decoded frame giving the read size (height, width) or None."""
        resolved: dict = {}

        def size_of(frame) -> tuple[int, int] | None:
            if "size" not in resolved:
                resolved["size"] = self._check_size(src, rule(with_frame(info, frame)))
            return resolved["size"]

        return size_of

    def _read_frames(self, src: Source, index: PacketIndex, wanted: np.ndarray, size: ReadSize,
                     kind: str, opened: tuple | None = None, seen: dict | None = None) -> DecodedFrames:
        """Frames at ``wanted`` through the index (or sequentially when it cannot be trusted)."""
        beyond = wanted[wanted >= index.num_frames]
        if beyond.size:
            raise src.error(self.backend, _out_of_range(int(beyond.max()), index))
        targets = np.unique(wanted)
        frames = None
        if index.exact and kind != ANIMATED:
            try:
                frames = self._read_indexed(src, index, targets, size, opened, seen)
            except IndexMismatch as exc:
                log.info("%s: %s; decoding sequentially instead", src.name, exc)
        if frames is None:
            frames = self._read_sequential(src, targets, size, seen)
        return DecodedFrames(frames=np.stack([frames[int(i)][0] for i in wanted]),
                             timestamps=np.asarray([frames[int(i)][1] for i in wanted], dtype=np.float64),
                             indices=wanted)

    def index(self, source: Any) -> PacketIndex:
        """The packet index of ``source`` (cached per file while it is unchanged)."""
        src = as_source(source, self.backend)
        key = src.key
        cached = self._cached(key)
        if cached is not None:
            return cached
        with open_video(src, self.backend) as (container, stream), \
                media_errors(src, self.backend, "reading the packets", AV_FAILURES):
            if has_sample_table(stream):
                index = index_from_sample_table(container, stream)
            else:
                index = index_from_packets(container, stream)
        if index is None:  # the sample table did not check out: count the packets
            with open_video(src, self.backend) as (container, stream), \
                    media_errors(src, self.backend, "reading the packets", AV_FAILURES):
                index = index_from_packets(container, stream)
        self._store(key, index)
        return index

    def _cached(self, key: tuple | None) -> PacketIndex | None:
        if key is None:
            return None
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
            return self._cache.get(key)

    def _store(self, key: tuple | None, index: PacketIndex) -> None:
        if key is None or self.cache_size == 0:
            return
        with self._lock:
            self._cache[key] = index
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)

    # ------------------------------------------------------------------ reading
    def _check_indices(self, src: Source, indices: Sequence[int], size: tuple[int, int] | None) -> np.ndarray:
        wanted = np.asarray(indices).reshape(-1)
        if wanted.size == 0:
            raise src.error(self.backend, "no frame indices given; pass at least one (a sampler chooses them)")
        if not np.issubdtype(wanted.dtype, np.integer):
            raise src.error(self.backend, f"frame indices must be integers, got {wanted.dtype}")
        if (wanted < 0).any():
            raise src.error(self.backend, f"frame index {int(wanted.min())} is negative")
        self._check_size(src, size)
        media_limits().check_frames(wanted.size, src.name, self.backend)
        return wanted.astype(np.int64)

    def _check_size(self, src: Source, size: tuple[int, int] | None) -> tuple[int, int] | None:
        if size is not None and (len(size) != 2 or min(size) < 1):
            raise src.error(self.backend, f"size must be (height, width) with both >= 1, got {size!r}")
        return size

    def _read_indexed(self, src: Source, index: PacketIndex, targets: np.ndarray, size: ReadSize,
                      opened: tuple | None = None, seen: dict | None = None
                      ) -> dict[int, tuple[np.ndarray, float]]:
        """Decode only what the wanted frames need, seeking forward between them.

        ``unfed`` holds wanted frames whose packet has not reached the decoder yet, ``todo``
        those not out of it yet. Once every wanted packet is in, the decoder is drained
        instead of fed further (no frame after the last wanted one is decoded).
        """
        todo, unfed = Pending(targets), Pending(targets)
        wanted_pts = {int(index.pts[t]) for t in targets}
        out: dict[int, tuple[np.ndarray, float]] = {}

        def take(frames) -> None:
            for frame in frames:
                at = index.index_of(frame.pts)
                if at is None:
                    raise IndexMismatch(f"decoded a frame with pts {frame.pts} that no packet has")
                if todo.done(at):
                    if frame.time_base is None:  # frames drained without a packet carry no time base
                        frame.time_base = stream.time_base
                    out[at] = (self._convert(frame, size, seen), _seconds(frame, index, at))

        with _opened_or_new(opened, src, self.backend) as (container, stream), \
                media_errors(src, self.backend, "decoding", AV_FAILURES):
            configure_threads(stream, self.threads)
            feeder = Feeder(stream, index, wanted_pts, take, self.skip_unwanted)
            packets = None
            while unfed:
                key = index.keyframe_before(unfed.first())
                rewind = packets is None and opened is not None  # a used container: seek to start over
                if rewind or self._should_seek(key, feeder.fed, at_start=packets is None):
                    if packets is not None:
                        feeder.drain()
                    container.seek(int(index.pts[key]), stream=stream, backward=True)
                    packets = container.demux(stream)
                    feeder.restart(unfed.first())
                elif packets is None:
                    packets = container.demux(stream)
                if not feeder.feed(packets, unfed, self._should_seek):
                    break  # end of file
            feeder.drain()
        if todo:
            raise IndexMismatch(f"frame {todo.first()} never came out of the decoder")
        return out

    def _should_seek(self, key: int, fed: int, at_start: bool = False) -> bool:
        """Seek to keyframe ``key`` when that skips packets (``seek="auto"``)."""
        if self.seek == "never":
            return False
        if self.seek == "always":
            return True
        return key > fed + 1 and not (at_start and key == 0)

    def _read_sequential(self, src: Source, targets: np.ndarray, size: ReadSize,
                         seen: dict | None = None) -> dict[int, tuple[np.ndarray, float]]:
        """The reference recipe: decode from the start, keep the i-th frames that are wanted."""
        wanted = {int(t) for t in targets}
        last = int(targets.max())
        out: dict[int, tuple[np.ndarray, float]] = {}
        count = 0
        with open_video(src, self.backend) as (container, stream), \
                media_errors(src, self.backend, "decoding", AV_FAILURES):
            configure_threads(stream, self.threads)
            for count, frame in enumerate(container.decode(stream), start=1):
                i = count - 1
                if i in wanted:
                    time = frame.time if frame.time is not None else float("nan")
                    out[i] = (self._convert(frame, size, seen), time)
                if i >= last:
                    break
        missing = sorted(wanted - set(out))
        if missing:
            raise src.error(self.backend, f"frame {missing[0]} cannot be decoded: the video ends after {count} "
                                          "frames (the file may be truncated or damaged)")
        return out

    def _convert(self, frame, size: ReadSize, seen: dict | None = None) -> np.ndarray:
        """RGB uint8 (H,W,3) of a decoded frame, scaled to the display ``size`` (height, width) and
        turned for display; ``size`` may be a function of the frame giving that size (or None).
        ``seen["frame"]`` keeps the first frame converted (for its rotation and size)."""
        if seen is not None:
            seen.setdefault("frame", frame)
        if callable(size):
            size = size(frame)
        rotation = normalise_rotation(frame.rotation)
        if size is None:
            rgb = frame.to_ndarray(format="rgb24")
        else:
            height, width = coded_size(size, rotation)
            rgb = frame.reformat(width=width, height=height, format="rgb24",
                                 interpolation=self.interpolation.upper()).to_ndarray()
        return np.ascontiguousarray(rotate(rgb, rotation))


@contextlib.contextmanager
def _opened_or_new(opened: tuple | None, src: Source, backend: str) -> Iterator[tuple]:
    """The caller's open (container, stream), or a freshly opened one closed afterwards."""
    if opened is not None:
        yield opened
        return
    with open_video(src, backend) as fresh:
        yield fresh


def _out_of_range(frame: int, index: PacketIndex) -> str:
    if index.declared > index.num_frames:
        return (f"frame {frame} cannot be read: the header lists {index.declared} frames but the file holds "
                f"only {index.num_frames} (0..{index.num_frames - 1}); it is truncated, re-download or re-encode it")
    return f"frame index {frame} is out of range: the video has {index.num_frames} frames (0..{index.num_frames - 1})"


def _seconds(frame, index: PacketIndex, at: int) -> float:
    if frame.time is not None:
        return float(frame.time)
    return float(index.pts[at] * index.time_base)


def build_pyav(options: Any, context: Any = None) -> PyAVDecoder:
    """Factory of the ``pyav`` video decoder."""
    return PyAVDecoder(threads=options.threads, seek=options.seek, skip_unwanted=options.skip_unwanted,
                       count=options.count, interpolation=options.interpolation, cache_size=options.cache_size)
