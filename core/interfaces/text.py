"""Tokenizers and chat templates."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Sequence

from mmplug.core.errors import ProcessorError


class Tokenizer(ABC):
    """Text <-> token ids, with special tokens."""

    vocab_size: int
    bos_token_id: int | None = None
    eos_token_id: int | None = None
    pad_token_id: int | None = None

    @abstractmethod
    def encode(self, text: str, *, add_special_tokens: bool = True) -> list[int]:
        """Token ids of ``text`` (BOS first when ``add_special_tokens`` and configured)."""

    @abstractmethod
    def decode(self, ids: Sequence[int], *, skip_special_tokens: bool = False) -> str:
        """Text of ``ids``."""

    @abstractmethod
    def token_to_id(self, token: str) -> int | None:
        """Id of a single token string, or None."""

    def encode_batch(self, texts: Sequence[str], *, add_special_tokens: bool = True) -> list[list[int]]:
        """Ids of each text; override when the library encodes batches faster than one by one."""
        return [self.encode(text, add_special_tokens=add_special_tokens) for text in texts]

    def encode_with_offsets(self, text: str, *, add_special_tokens: bool = True
                            ) -> tuple[list[int], list[tuple[int, int]]]:
        """Ids and each token's (start, end) character span in ``text`` (special tokens (0, 0)).
        Training labels need it; tokenizers that cannot locate tokens say so."""
        raise ProcessorError(f"{type(self).__name__} cannot give character offsets of its tokens, which training "
                             "labels need; use a tokenizer that implements encode_with_offsets()")

    @property
    def special_tokens_map(self) -> dict[str, str]:
        """``{"bos_token": "<s>", ...}``: the variables chat templates receive."""
        return {}


class ChatTemplate(ABC):
    """Chat messages -> one prompt string.

    Messages look like ``{"role": "user", "content": [{"type": "video"},
    {"type": "text", "text": "..."}]}``; ``content`` may also be a plain string.
    """

    @abstractmethod
    def render(self, messages: Sequence[dict[str, Any]], *, add_generation_prompt: bool = False,
               **variables: Any) -> str:
        """The prompt string, with one media placeholder per image/video entry. ``variables``
        (e.g. the tokenizer's ``bos_token``) are available to the template."""

    def render_with_spans(self, messages: Sequence[dict[str, Any]], *, add_generation_prompt: bool = False,
                          **variables: Any) -> tuple[str, list[tuple[int, int]]]:
        """The prompt and the (start, end) character spans of assistant text to learn. Training
        labels need it; templates that cannot mark assistant text say so."""
        raise ProcessorError(f"{type(self).__name__} cannot mark the assistant text it renders, which training "
                             "labels need; use a chat template that implements render_with_spans()")
