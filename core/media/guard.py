"""Turn a decoder library's exceptions into :class:`MediaError` with a helpful cause."""
from __future__ import annotations

import contextlib
from typing import Iterator

from mmplug.core.errors import MmplugError
from mmplug.core.media.sniff import TEXT, sniff
from mmplug.core.media.source import Source

#: Exception types that mean "this media cannot be read" in most decoding libraries.
MEDIA_FAILURES: tuple[type[BaseException], ...] = (OSError, ValueError, EOFError, RuntimeError, IndexError)


def explain(source: Source, message: str) -> str:
    """``message`` plus what the first bytes of ``source`` suggest about it."""
    try:
        kind = sniff(source.head())
    except OSError:
        return message
    if kind == TEXT:
        return f"{message} (the file holds text, not video: was it saved under the wrong name?)"
    if source.stream is not None and source.start > 0:
        return f"{message} (read from position {source.start} of the file object: seek it to the media's start)"
    return message


@contextlib.contextmanager
def media_errors(
    source: Source, backend: str, doing: str, kinds: tuple[type[BaseException], ...] = MEDIA_FAILURES
) -> Iterator[None]:
    """Re-raise ``kinds`` (and the library's own errors listed there) as MediaError naming ``doing``."""
    try:
        yield
    except MmplugError:
        raise
    except kinds as exc:
        cause = explain(source, f"{doing} failed: {type(exc).__name__}: {_message(exc)}")
        raise source.error(backend, cause) from exc


def _message(exc: BaseException) -> str:
    """The library's own words, without errno numbers and the (already named) file."""
    words = getattr(exc, "strerror", None)
    return words if isinstance(words, str) and words else str(exc)
