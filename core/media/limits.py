"""Media limits: how large a file, an image and a video read may be, checked before allocating.

One setting for the whole process, with three numbers (defaults in :class:`MediaLimits`):

- ``max_bytes``: size of one media file (a path, bytes or a file object);
- ``max_pixels``: width x height of one image or video frame, as stored (before any resize);
- ``max_frames``: frames returned by one video read.

Set them from Python with :func:`set_media_limits` (or :func:`media_limits_set` for a block),
or from the environment: ``MMPLUG_MAX_MEDIA_BYTES``, ``MMPLUG_MAX_PIXELS``, ``MMPLUG_MAX_FRAMES``.
A value set from Python wins over the environment. Every refusal is a :class:`MediaError`
naming the file and the limit. Pure Python: importing this module is cheap.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
from dataclasses import dataclass
from typing import Any, Iterator

from mmplug.core.errors import ConfigError, ConfigIssue, MediaError

#: Environment variable -> MediaLimits field.
ENVIRONMENT = {"MMPLUG_MAX_MEDIA_BYTES": "max_bytes", "MMPLUG_MAX_PIXELS": "max_pixels",
               "MMPLUG_MAX_FRAMES": "max_frames"}


@dataclass(frozen=True)
class MediaLimits:
    """Upper bounds on untrusted media; each a positive integer.

    The defaults take a 64-megapixel image (8192 x 8192: every camera and 8K frame), 2048
    frames in one read, and a 4 GiB file. A 1-bit PNG of 30000 x 30000 pixels is 109 KB on
    disk and 2.7 GB once decoded to RGB: ``max_pixels`` refuses it before it is decoded.
    """

    max_bytes: int = 4 * 1024 ** 3
    max_pixels: int = 8192 * 8192
    max_frames: int = 2048

    def __post_init__(self) -> None:
        issues = [ConfigIssue(f.name, f"must be a positive integer, got {getattr(self, f.name)!r}")
                  for f in dataclasses.fields(self) if not _positive_int(getattr(self, f.name))]
        if issues:
            raise ConfigError(issues, "media limits")

    # ------------------------------------------------------------------ the checks
    def check_bytes(self, size: int, source: Any, backend: str) -> None:
        """MediaError when a file of ``size`` bytes is larger than ``max_bytes``."""
        if size > self.max_bytes:
            raise MediaError(source, backend, f"the file is {size:,} bytes, more than the media limit of "
                                              f"{self.max_bytes:,} bytes per file; {_raise_hint('max_bytes', size)}")

    def check_pixels(self, width: int, height: int, source: Any, backend: str, what: str = "image") -> None:
        """MediaError when a ``width x height`` image (or video frame) exceeds ``max_pixels``."""
        pixels = int(width) * int(height)
        if pixels > self.max_pixels:
            raise MediaError(source, backend, f"the {what} is {width}x{height} = {pixels:,} pixels, more than the "
                                              f"media limit of {self.max_pixels:,} pixels; it was refused before "
                                              f"decoding (a decompression bomb?); {_raise_hint('max_pixels', pixels)}")

    def check_frames(self, count: int, source: Any, backend: str) -> None:
        """MediaError when one read asks for more than ``max_frames`` frames."""
        if count > self.max_frames:
            raise MediaError(source, backend, f"{count:,} frames asked for in one read, more than the media limit of "
                                              f"{self.max_frames:,} frames; sample fewer frames (e.g. the 'uniform' "
                                              f"or 'fps' sampler), or {_raise_hint('max_frames', count)}")


_set_from_python: MediaLimits | None = None


def media_limits() -> MediaLimits:
    """The limits in force: those set with :func:`set_media_limits`, else the environment's, else the defaults."""
    if _set_from_python is not None:
        return _set_from_python
    values, issues = {}, []
    for variable, name in ENVIRONMENT.items():
        text = os.environ.get(variable)
        if text is None or not text.strip():
            continue
        try:
            values[name] = int(text.strip().replace("_", ""))
        except ValueError:
            issues.append(ConfigIssue(variable, f"must be a positive integer, got {text!r}"))
            continue
        if values[name] < 1:
            issues.append(ConfigIssue(variable, f"must be a positive integer, got {text!r}"))
    if issues:
        raise ConfigError(issues, "the environment")
    return MediaLimits(**values)


def set_media_limits(limits: MediaLimits | None = None, **changes: int) -> MediaLimits | None:
    """Set the process-wide limits (``limits``, or the current ones with ``changes``); returns what
    was set before (None: the environment/defaults). ``set_media_limits(None)`` goes back to those."""
    global _set_from_python
    before = _set_from_python
    if limits is None and changes:
        limits = dataclasses.replace(media_limits(), **changes)
    elif limits is not None and changes:
        limits = dataclasses.replace(limits, **changes)
    _set_from_python = limits
    return before


@contextlib.contextmanager
def media_limits_set(limits: MediaLimits | None = None, **changes: int) -> Iterator[MediaLimits]:
    """``with media_limits_set(max_pixels=10**8): ...``: other limits inside the block (process-wide)."""
    before = set_media_limits(limits, **changes)
    try:
        yield media_limits()
    finally:
        set_media_limits(before)


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _raise_hint(name: str, needed: int) -> str:
    variable = next(v for v, f in ENVIRONMENT.items() if f == name)
    return (f"if the file is trusted, raise the limit: {variable}={needed} in the environment, or "
            f"mmplug.core.media.set_media_limits({name}={needed})")
