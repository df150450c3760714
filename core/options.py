"""Option models of plugins, and the facts model parts declare before they are built.

Every plugin validates its own options with a pydantic model derived from
:class:`PluginOptions` (``extra="forbid"``). Model parts derive from the facts
bases below so the builder can wire and check dimensions without building anything.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from mmplug.core.errors import ConfigError, ConfigIssue


class PluginOptions(BaseModel):
    """Base of every plugin's options: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())


class NoOptions(PluginOptions):
    """For parts that take no options."""


@dataclass(frozen=True)
class VisionFacts:
    """A vision encoder's geometry: ``patches_per_image`` patch tokens laid out as ``grid``
    (rows, columns; None: not a grid), after one CLS token when ``has_cls_token``."""

    hidden_size: int
    num_layers: int
    num_heads: int
    patches_per_image: int
    has_cls_token: bool
    image_size: int
    grid: tuple[int, int] | None = None


@dataclass(frozen=True)
class TextFacts:
    hidden_size: int
    vocab_size: int
    num_layers: int
    num_heads: int
    num_kv_heads: int
    sliding_window: int | None = None
    max_positions: int | None = None  # the context in tokens a prompt must fit in; None: no fixed limit


class VisionEncoderOptions(PluginOptions):
    """Options of a vision encoder; ``facts()`` states its geometry."""

    def facts(self) -> VisionFacts:
        raise NotImplementedError(f"{type(self).__name__} must implement facts()")


class LanguageModelOptions(PluginOptions):
    """Options of a language model; ``facts()`` states its sizes."""

    def facts(self) -> TextFacts:
        raise NotImplementedError(f"{type(self).__name__} must implement facts()")


class ImageProcessorOptions(PluginOptions):
    """Options of an image processor; ``output_side()`` states the square it produces, so that
    a config whose pixels the vision tower cannot take is refused before anything runs."""

    def output_side(self) -> tuple[int, str] | None:
        """(side of the square pixels produced, the option that sets it), or None when the
        output size follows the input (or is not a fixed square)."""
        return None


class ProjectorOptions(PluginOptions):
    """Options of a projector. Input/output widths are wired by the builder; a config
    may state them anyway (``in_features``/``out_features``) and is checked against them."""

    in_features: int | None = None
    out_features: int | None = None

    def output_length(self, length: int, *, grid: tuple[int, int] | None = None, has_cls_token: bool = False) -> int:
        """Tokens out for ``length`` tokens in: ``grid`` (rows, columns) patches, after one CLS
        token when ``has_cls_token`` (the builder passes both from the vision encoder's facts)."""
        return length

    def frame_output_length(self, length: int, *, grid: tuple[int, int] | None = None,
                            has_cls_token: bool = False) -> int:
        """Tokens out per video frame for ``length`` tokens in (default: as an image); must agree
        with the projector's ``project_frames``."""
        return self.output_length(length, grid=grid, has_cls_token=has_cls_token)

    def video_extra_tokens(self) -> int:
        """Tokens the projector's ``arrange_video`` appends to each video after its frames (default 0)."""
        return 0


def pydantic_issues(error: ValidationError, prefix: str, model: type[BaseModel] | None = None) -> list[ConfigIssue]:
    """Turn a pydantic error into dotted-path issues under ``prefix``; unknown keys get
    close-match suggestions from ``model``'s fields."""
    issues = []
    for item in error.errors():
        loc = ".".join(str(part) for part in item.get("loc", ()))
        path = ".".join(part for part in (prefix, loc) if part)
        message = item.get("msg", "invalid")
        if item.get("type") == "extra_forbidden":
            message = unknown_key_message(model, tuple(item.get("loc", ())), top_level=not prefix)
        for noise in ("Value error, ", "Assertion failed, "):
            if message.startswith(noise):
                message = message[len(noise):]
        issues.append(ConfigIssue(path, message))
    return issues


def unknown_key_message(model: type[BaseModel] | None, loc: tuple, *, top_level: bool) -> str:
    """"unknown option; did you mean 'x'?" with the fields known at ``loc``."""
    what = "section" if top_level and len(loc) == 1 else "option"
    for part in loc[:-1]:
        field = model.model_fields.get(str(part)) if model else None
        annotation = getattr(field, "annotation", None)
        model = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    if model is None or not loc:
        return f"unknown {what}"
    close = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1, cutoff=0.6)
    return f"unknown {what}; did you mean {close[0]!r}?" if close else (
        f"unknown {what}; known: {', '.join(model.model_fields)}")


def validate_options(spec: Any, options: dict[str, Any] | BaseModel, *, path: str) -> BaseModel:
    """Validate ``options`` against ``spec``'s options model; raise ConfigError with paths."""
    model = spec.load_options() or NoOptions
    if isinstance(options, model):
        return options
    if isinstance(options, BaseModel):
        options = options.model_dump(exclude_unset=True)
    try:
        return model.model_validate(options)
    except ValidationError as exc:
        raise ConfigError(pydantic_issues(exc, path, model)) from None
