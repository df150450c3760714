"""Opening media with PyAV and describing a video stream (``probe``).

The frame count comes from the container when it has one; otherwise from the
stream tags, then duration x fps (constant-rate videos only, ``count="fast"``),
then a pass over the packets that decodes nothing. ``VideoInfo.frame_count_source``
says which one was used.
"""
from __future__ import annotations

import contextlib
import dataclasses
from typing import Callable, Iterator

import av

from mmplug.core.interfaces.video import VideoInfo
from mmplug.core.media.geometry import display_size, normalise_rotation
from mmplug.core.media.guard import MEDIA_FAILURES, media_errors
from mmplug.core.media.limits import media_limits
from mmplug.core.media.source import Source
from mmplug.plugins.video.pyav_index import PacketIndex

BACKEND = "pyav"
#: Everything PyAV raises when a file cannot be read.
AV_FAILURES = MEDIA_FAILURES + (av.FFmpegError,)
#: Stream tags some muxers (mkvmerge, ffmpeg with statistics) write with the frame count.
_COUNT_TAGS = ("NUMBER_OF_FRAMES", "NUMBER_OF_FRAMES-eng", "nb_frames")


@contextlib.contextmanager
def open_video(source: Source, backend: str = BACKEND) -> Iterator[tuple]:
    """``(container, video_stream)`` of ``source``; raises MediaError if it has no video stream, or
    if its frames are larger than the ``max_pixels`` media limit (checked before decoding)."""
    handle = None
    with media_errors(source, backend, "opening the file", AV_FAILURES):
        if source.path is not None:
            # "file:" keeps FFmpeg from reading a name like "http:x.mp4" as a URL
            container = av.open("file:" + source.path, mode="r", metadata_errors="ignore")
        else:
            handle = source.open()
            container = av.open(handle, mode="r", metadata_errors="ignore")
    try:
        if not container.streams.video:
            kinds = ", ".join(f"{s.type} {s.codec_context.name if s.codec_context else '?'}"
                              for s in container.streams) or "none"
            raise source.error(backend, f"no video stream (streams: {kinds}); pass a video or image file")
        stream = container.streams.video[0]
        context = stream.codec_context
        media_limits().check_pixels(context.width, context.height, source.name, backend, "video frame")
        yield container, stream
    finally:
        container.close()
        if handle is not None:
            handle.close()  # our BytesIO, or a view that leaves the caller's file open


#: "auto" threads: frames smaller than this decode on one thread (frame threading costs
#: more CPU than it saves on them, and batch readers run many videos side by side).
AUTO_THREADS_MIN_PIXELS = 1280 * 720


def configure_threads(stream, threads: str | int) -> None:
    """FFmpeg decoding threads: a count, or "auto": one thread below 1280x720, else frame +
    slice threading with one thread per core."""
    context = stream.codec_context
    if threads == "auto" and context.width * context.height < AUTO_THREADS_MIN_PIXELS:
        threads = 1
    if threads == 1:
        context.thread_count = 1
        return
    context.thread_type = "AUTO"
    context.thread_count = 0 if threads == "auto" else int(threads)


def first_frame(source: Source, container, stream, backend: str = BACKEND):
    """Decode the first frame (for its rotation and true size); MediaError if none decodes."""
    stream.codec_context.thread_count = 1  # one frame: starting a thread pool costs more than it saves
    with media_errors(source, backend, "decoding the first frame", AV_FAILURES):
        for frame in container.decode(stream):
            return frame
    raise source.error(backend, "the video stream has no decodable frame (empty or truncated file?)")


def probe_video(
    source: Source, count: str, counted: Callable[[], PacketIndex], backend: str = BACKEND
) -> VideoInfo:
    """Describe the video of ``source``. ``counted()`` returns its packet index (for counting)."""
    with open_video(source, backend) as (container, stream):
        info = describe(source, container, stream, count, counted, backend)
        frame = first_frame(source, container, stream, backend)
    return with_frame(info, frame)


def describe(source: Source, container, stream, count: str, counted: Callable[[], PacketIndex],
             backend: str = BACKEND) -> VideoInfo:
    """What the header says (frame count resolved as the module explains; frame times when the
    packets were indexed, and always for a variable-rate video). Size and rotation are the
    coded ones until :func:`with_frame` sees a decoded frame."""
    with media_errors(source, backend, "reading the stream header", AV_FAILURES):
        fps = _rate(stream.average_rate) or _rate(stream.guessed_rate) or _rate(stream.base_rate)
        duration = _duration(container, stream)
        base = _rate(stream.base_rate)
        variable = bool(fps and base and abs(base - fps) > 0.01 * fps)
        has_audio = bool(container.streams.audio)
        codec = stream.codec_context.name
        width, height = stream.codec_context.width, stream.codec_context.height
        num_frames, how = _declared_count(stream)
    if num_frames is None and count == "fast" and not variable and duration > 0 and fps > 0:
        num_frames, how = int(round(duration * fps)), "duration"
    index = counted() if num_frames is None or variable else None
    if num_frames is None:
        num_frames, how = index.num_frames, "counted"
        variable = index.is_variable_rate()
        if duration <= 0 and index.num_frames:
            duration = index.num_frames / fps if fps else 0.0
    info = VideoInfo(num_frames=num_frames, fps=fps, duration=duration, width=width, height=height,
                     codec=codec, has_audio=has_audio, variable_fps=variable, frame_count_source=how,
                     source=source.name)
    return with_times(info, index) if index is not None else info


def with_times(info: VideoInfo, index: PacketIndex) -> VideoInfo:
    """``info`` with the frame times of its packet index (when the index can be trusted)."""
    return dataclasses.replace(info, frame_times=index.frame_times())


def with_frame(info: VideoInfo, frame) -> VideoInfo:
    """``info`` with the rotation and display size of a decoded frame."""
    rotation = normalise_rotation(frame.rotation)
    width, height = display_size(frame.width, frame.height, rotation)
    return dataclasses.replace(info, rotation=rotation, width=width, height=height)


def _rate(rate) -> float:
    return float(rate) if rate else 0.0


def _duration(container, stream) -> float:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    return 0.0


def _declared_count(stream) -> tuple[int | None, str]:
    if stream.frames and stream.frames > 0:
        return int(stream.frames), "metadata"
    for tag in _COUNT_TAGS:
        value = stream.metadata.get(tag)
        if value and str(value).strip().isdigit() and int(value) > 0:
            return int(value), "metadata"
    return None, ""
