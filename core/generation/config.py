"""Generation settings, validated like every other option in mmplug, before any work is done.

A bad setting raises :class:`GenerationOptionsError` (a ConfigError) in one line that names
the option as the caller spelt it (``temperature`` in Python, ``--temperature`` on the
command line) with a hint. Options that only apply when sampling are refused on greedy
decoding rather than silently ignored. Importing this module does not import torch.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from pydantic import Field, ValidationError, field_validator

from mmplug.core.errors import ConfigError, ConfigIssue
from mmplug.core.options import PluginOptions, unknown_key_message

#: What to do about each option's bad value; ``{name}`` is the option as the caller spells it.
HINTS = {
    "max_new_tokens": "it is the number of tokens to generate",
    "min_new_tokens": "0 lets the answer end at the first EOS",
    "temperature": "omit {name} for greedy decoding",
    "top_k": "0 keeps every token (no top-k filter)",
    "top_p": "1 keeps every token (no top-p filter)",
    "repetition_penalty": "1 means no penalty",
    "seed": "any integer from 0 to 2**64 - 1",
    "eos_token_id": "token ids are >= 0; omit {name} to stop at the tokenizer's EOS",
}
#: Options that only change sampling, with the value at which they do nothing.
SAMPLING_ONLY = {"temperature": 1.0, "top_k": 0, "top_p": 1.0}


@dataclass(frozen=True)
class Spelling:
    """How one surface names the options in messages: ``names`` maps a field to its spelling
    (the field itself by default); ``sampling`` says how to turn sampling on there."""

    names: Mapping[str, str] = field(default_factory=dict)
    sampling: str = "pass do_sample=True"

    def name(self, option: str) -> str:
        return self.names.get(option, option)

    def given(self, option: str, value: Any) -> str:
        name = self.name(option)
        return f"{name} {value}" if name.startswith("--") else f"{name}={value!r}"


PYTHON = Spelling()


class GenerationOptionsError(ConfigError):
    """Generation options are invalid. ``issues`` hold one entry per option (path: the option
    as the caller spelt it); the message is one line."""

    def __init__(self, issues: list[ConfigIssue]):
        super().__init__(issues, source="generation options")

    def __str__(self) -> str:
        return "generation options: " + "; ".join(str(issue) for issue in self.issues)


class GenerationConfig(PluginOptions):
    """How to pick tokens and when to stop.

    Greedy (the most likely token) unless ``do_sample``; ``temperature``, ``top_k`` and
    ``top_p`` shape sampling and are errors without it. Sampling is reproducible with ``seed``.
    Construction raises :class:`GenerationOptionsError` for anything invalid.
    """

    max_new_tokens: int = Field(default=64, ge=1)
    min_new_tokens: int = Field(default=0, ge=0)
    do_sample: bool = False
    temperature: float = Field(default=1.0, gt=0)
    top_k: int = Field(default=0, ge=0, description="0 = no top-k filter")
    top_p: float = Field(default=1.0, gt=0, le=1)
    repetition_penalty: float = Field(default=1.0, gt=0)
    seed: int | None = Field(default=None, ge=0, lt=2**64)
    stop: list[str] = Field(default_factory=list, description="stop strings (not included in the text)")
    eos_token_id: int | list[int] | None = Field(default=None, description="None: the tokenizer's EOS")

    def __init__(self, *, _spelling: Spelling = PYTHON, **options: Any):
        try:
            super().__init__(**options)
        except ValidationError as exc:
            raise GenerationOptionsError(option_issues(exc, _spelling)) from None
        check_combination(self, _spelling)

    @classmethod
    def from_options(cls, options: Mapping[str, Any], spelling: Spelling = PYTHON) -> "GenerationConfig":
        """Validate ``options``; errors name them as ``spelling`` does (e.g. command-line flags)."""
        return cls(_spelling=spelling, **options)

    @field_validator("stop", mode="before")
    @classmethod
    def _one_stop_string(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    def eos_ids(self, default: int | None) -> list[int]:
        if self.eos_token_id is None:
            return [default] if default is not None else []
        return [self.eos_token_id] if isinstance(self.eos_token_id, int) else list(self.eos_token_id)


def option_issues(error: ValidationError, spelling: Spelling) -> list[ConfigIssue]:
    """One issue per bad option (a union's alternatives merged), with the value and a hint."""
    messages: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for item in error.errors():
        option = str(item["loc"][0]) if item.get("loc") else ""
        if item.get("type") == "extra_forbidden":
            text = unknown_key_message(GenerationConfig, (option,), top_level=False)
        else:
            text = item.get("msg", "invalid").replace("Input should be", "must be").replace("Value error, ", "")
            values.setdefault(option, item.get("input"))
        if text not in messages.setdefault(option, []):
            messages[option].append(text)
    issues = []
    for option, texts in messages.items():
        got = f" (got {values[option]!r})" if option in values else ""
        hint = HINTS.get(option, "").format(name=spelling.name(option))
        issues.append(ConfigIssue(spelling.name(option), " or ".join(texts) + got + (f"; {hint}" if hint else "")))
    return issues


def check_combination(config: GenerationConfig, spelling: Spelling) -> None:
    """Checks across options: min <= max, sampling options only when sampling, eos ids >= 0."""
    issues = []
    if config.min_new_tokens > config.max_new_tokens:
        issues.append(ConfigIssue(spelling.name("min_new_tokens"), (
            f"{config.min_new_tokens} exceeds {spelling.given('max_new_tokens', config.max_new_tokens)}")))
    if not config.do_sample:
        for option, neutral in SAMPLING_ONLY.items():
            value = getattr(config, option)
            if value != neutral:
                issues.append(ConfigIssue(spelling.name(option), (
                    f"only applies when sampling (got {value!r}) and decoding is greedy; "
                    f"{spelling.sampling} to sample, or omit {spelling.name(option)}")))
    negative = [i for i in config.eos_ids(None) if i < 0]
    if negative:
        issues.append(ConfigIssue(spelling.name("eos_token_id"), (
            f"{negative[0]} is not a token id; " + HINTS["eos_token_id"].format(name=spelling.name("eos_token_id")))))
    if issues:
        raise GenerationOptionsError(issues)


def check_token_ids(config: GenerationConfig, vocab_size: int | None) -> None:
    """The EOS ids the config names must exist in the model's vocabulary of ``vocab_size``."""
    outside = [i for i in config.eos_ids(None) if vocab_size is not None and i >= vocab_size]
    if outside:
        raise GenerationOptionsError([ConfigIssue("eos_token_id", (
            f"{outside[0]} is outside the model's vocabulary (vocab_size {vocab_size}); "
            "omit eos_token_id to stop at the tokenizer's EOS"))])
