"""Read many videos at once; one bad file never costs the others.

``read_videos`` probes each source, asks the sampler which frames to take and
reads them. Each item's result is either its :class:`DecodedFrames` or the
:class:`MediaError` that explains why it could not be read, in input order.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Sequence, Union

from mmplug.core.errors import MediaError
from mmplug.core.interfaces.video import DecodedFrames, FrameSampler, MediaSource, SizeRule, VideoDecoder

#: One item of a batch: the frames, or the reason they could not be read.
VideoResult = Union[DecodedFrames, MediaError]


def read_video(source: MediaSource, decoder: VideoDecoder, sampler: FrameSampler, *, size: SizeRule = None
               ) -> DecodedFrames:
    """Probe ``source``, sample frame indices, read them: uint8 (T,H,W,3). Raises MediaError."""
    return decoder.read_sampled(source, sampler, size=size)[1]


def read_videos(
    sources: Sequence[MediaSource],
    decoder: VideoDecoder,
    sampler: FrameSampler,
    *,
    size: tuple[int, int] | None = None,
    workers: int = 1,
) -> list[VideoResult]:
    """``read_video`` for each source, results in input order.

    A source that fails yields its :class:`MediaError` in its slot; any other
    exception is a bug and propagates. ``workers > 1`` reads on that many
    threads (decoders release the GIL while decoding).
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")

    def one(source: Any) -> VideoResult:
        try:
            return read_video(source, decoder, sampler, size=size)
        except MediaError as exc:
            return exc

    if workers == 1 or len(sources) <= 1:
        return [one(source) for source in sources]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, sources))


def failures(results: Sequence[VideoResult]) -> list[tuple[int, MediaError]]:
    """(position, error) of every item of a batch that could not be read."""
    return [(i, r) for i, r in enumerate(results) if isinstance(r, MediaError)]
