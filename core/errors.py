"""The error types mmplug raises. Every message says what went wrong and what to do.

All errors derive from :class:`MmplugError`, so ``except MmplugError`` catches
anything the framework reports on purpose (as opposed to a bug).
"""
from __future__ import annotations

from dataclasses import dataclass


class MmplugError(Exception):
    """Base class of every error mmplug raises on purpose."""


class UnknownPartError(MmplugError, KeyError):
    """A config or call named a part that no installed plugin provides."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class DuplicatePartError(MmplugError):
    """Two plugins registered the same (kind, name)."""


class PluginLoadError(MmplugError):
    """A plugin failed to import or register, and one of its parts was asked for."""


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in a pipeline config, located by its dotted path."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ConfigError(MmplugError, ValueError):
    """A pipeline config is invalid. ``issues`` lists every problem found at once."""

    def __init__(self, issues: list[ConfigIssue], source: str | None = None):
        self.issues = list(issues)
        self.source = source
        where = f" in {source}" if source else ""
        lines = [f"{len(self.issues)} problem(s){where}:"] + [f"  {issue}" for issue in self.issues]
        super().__init__("\n".join(lines))


class MediaError(MmplugError):
    """A video or image could not be read. Names the source, the backend and the cause."""

    def __init__(self, source: object, backend: str, cause: str):
        self.source = source
        self.backend = backend
        self.cause = cause
        super().__init__(f"{describe_source(source)} [{backend}]: {cause}")


class CheckpointError(MmplugError):
    """Weights could not be loaded or saved (missing/unused keys, wrong shapes, bad files)."""


class ProcessorError(MmplugError, ValueError):
    """Text and media given to the processor do not fit together (e.g. placeholder counts)."""


class BackendUnavailableError(MmplugError):
    """An attention backend (or other optional component) cannot run here."""


def describe_source(source: object) -> str:
    """A short human name for a media source: a path, or the kind of in-memory object."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return f"<{len(source)} bytes>"
    name = getattr(source, "name", None)
    if isinstance(name, str):
        return name
    return str(source)
