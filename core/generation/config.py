"""Generation settings, validated like every other option in mmplug."""
from __future__ import annotations

from pydantic import Field, model_validator

from mmplug.core.options import PluginOptions


class GenerationConfig(PluginOptions):
    """How to pick tokens and when to stop.

    Greedy unless ``do_sample`` (or a ``temperature`` other than 1 with ``top_k``/``top_p``
    set) asks for sampling; sampling is reproducible with ``seed``.
    """

    max_new_tokens: int = Field(default=64, ge=1)
    min_new_tokens: int = Field(default=0, ge=0)
    do_sample: bool = False
    temperature: float = Field(default=1.0, gt=0)
    top_k: int = Field(default=0, ge=0, description="0 = no top-k filter")
    top_p: float = Field(default=1.0, gt=0, le=1)
    repetition_penalty: float = Field(default=1.0, gt=0)
    seed: int | None = None
    stop: list[str] = Field(default_factory=list, description="stop strings (not included in the text)")
    eos_token_id: int | list[int] | None = Field(default=None, description="None: the tokenizer's EOS")

    @model_validator(mode="after")
    def _check(self) -> "GenerationConfig":
        if self.min_new_tokens > self.max_new_tokens:
            raise ValueError(f"min_new_tokens ({self.min_new_tokens}) exceeds max_new_tokens ({self.max_new_tokens})")
        return self

    def eos_ids(self, default: int | None) -> list[int]:
        if self.eos_token_id is None:
            return [default] if default is not None else []
        return [self.eos_token_id] if isinstance(self.eos_token_id, int) else list(self.eos_token_id)
