"""Media sources: a path, raw bytes or a binary file object, checked once and reopened at will.

Decoders often need to open a source more than once (probe, then read). A
:class:`Source` validates the input up front (missing path, directory, empty
file, text-mode file object ...) and hands out fresh readable handles.
"""
from __future__ import annotations

import io
import os
from dataclasses import dataclass
from typing import IO, Any

from mmplug.core.errors import MediaError, describe_source
from mmplug.core.media.limits import media_limits

#: Bytes read from the start of a source to recognise its format.
HEAD_SIZE = 32


@dataclass(frozen=True)
class Source:
    """A validated media source.

    Exactly one of ``path``, ``data`` or ``stream`` is set. ``name`` is what
    error messages show; ``key`` identifies the content for caches (None when
    it cannot be known cheaply, e.g. for in-memory data).
    """

    original: Any
    name: str
    path: str | None = None
    data: bytes | None = None
    stream: IO[bytes] | None = None
    start: int = 0
    key: tuple | None = None

    def open(self) -> IO[bytes]:
        """A binary handle positioned at the start of the media (caller closes it for paths)."""
        if self.path is not None:
            return open(self.path, "rb")
        if self.data is not None:
            return io.BytesIO(self.data)
        assert self.stream is not None
        self.stream.seek(self.start)
        return _Unclosable(self.stream, self.start)

    def head(self, size: int = HEAD_SIZE) -> bytes:
        """The first ``size`` bytes (fewer for tiny sources)."""
        if self.data is not None:
            return self.data[:size]
        with self.open() as handle:
            return handle.read(size)

    def error(self, backend: str, cause: str) -> MediaError:
        """A :class:`MediaError` about this source."""
        return MediaError(self.name, backend, cause)


def as_source(source: Any, backend: str) -> Source:
    """Check ``source`` and wrap it; every problem raises :class:`MediaError` naming ``backend``.

    Its size is checked against the ``max_bytes`` media limit (:mod:`mmplug.core.media.limits`)."""
    if isinstance(source, Source):
        return source
    if isinstance(source, (str, os.PathLike)):
        return _path_source(source, backend)
    if isinstance(source, (bytes, bytearray, memoryview)):
        if not len(source):
            raise MediaError(source, backend, "the data is empty (0 bytes); pass the bytes of a video or image file")
        media_limits().check_bytes(len(source), source, backend)
        return Source(original=source, name=describe_source(source), data=bytes(source))
    if hasattr(source, "read"):
        return _stream_source(source, backend)
    raise MediaError(source, backend, f"cannot read a {type(source).__name__}; pass a path, bytes "
                                      "or a binary file object opened with 'rb'")


def _path_source(source: str | os.PathLike, backend: str) -> Source:
    path = os.fspath(source)
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not os.path.exists(path):
        where = "" if os.path.isabs(path) else f" (relative to {os.getcwd()})"
        raise MediaError(path, backend, f"no such file{where}; check the path")
    if os.path.isdir(path):
        raise MediaError(path, backend, "is a directory, not a video or image file; pass a file inside it")
    try:
        stat = os.stat(path)
        with open(path, "rb"):
            pass
    except OSError as exc:
        raise MediaError(path, backend, f"cannot open the file: {exc.strerror or exc}; check its permissions") from exc
    if stat.st_size == 0:
        raise MediaError(path, backend, "the file is empty (0 bytes); it was probably not written completely")
    media_limits().check_bytes(stat.st_size, path, backend)
    real = os.path.realpath(path)
    return Source(original=source, name=path, path=path, key=(real, stat.st_size, stat.st_mtime_ns))


def _stream_source(stream: Any, backend: str) -> Source:
    name = describe_source(stream)
    if isinstance(stream, io.TextIOBase) or "b" not in getattr(stream, "mode", "b"):
        raise MediaError(name, backend, "the file object is in text mode; open it with mode 'rb'")
    seekable = getattr(stream, "seekable", lambda: False)
    if not seekable():
        # a pipe or socket: it can be read once only, so keep its bytes (one more than allowed, to tell)
        limit = media_limits().max_bytes
        data = _read_at_most(stream, limit + 1)
        if not data:
            raise MediaError(name, backend, "the stream is empty (0 bytes)")
        if len(data) > limit:
            raise MediaError(name, backend, f"the stream holds more than the media limit of {limit:,} bytes per "
                                            "file; raise max_bytes (MMPLUG_MAX_MEDIA_BYTES) if it is trusted")
        return Source(original=stream, name=name, data=bytes(data))
    start = stream.tell()
    end = stream.seek(0, io.SEEK_END)
    stream.seek(start)
    if end <= start:
        raise MediaError(name, backend, f"nothing left to read in the file object (position {start} of {end} bytes); "
                                        "seek it to the start of the media first")
    media_limits().check_bytes(end - start, name, backend)
    return Source(original=stream, name=name, stream=stream, start=start)


def _read_at_most(stream: Any, size: int) -> bytes:
    """Up to ``size`` bytes of ``stream`` (raw streams may return less per read: loop to EOF)."""
    chunks, total = [], 0
    while total < size:
        chunk = stream.read(min(size - total, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


class _Unclosable(io.RawIOBase):
    """A view of a caller's file object from ``start`` on, left open when we are done with it."""

    def __init__(self, inner: IO[bytes], start: int):
        super().__init__()
        self._inner = inner
        self._start = start

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._inner.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def read(self, size: int = -1) -> bytes:
        return self._inner.read(size)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            offset += self._start
        return self._inner.seek(offset, whence) - self._start

    def tell(self) -> int:
        return self._inner.tell() - self._start
