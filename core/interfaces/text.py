"""Tokenizers and chat templates."""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Sequence


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

    # Optional, used when present:
    #   encode_batch(texts, *, add_special_tokens=True) -> list[list[int]]   (faster batches)
    #   encode_with_offsets(text, *, add_special_tokens=True) -> (ids, [(start, end), ...])  (training labels)
    #   special_tokens_map -> {"bos_token": "<s>", ...}                       (chat template variables)


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

    # Optional, used for training labels when present:
    #   render_with_spans(messages, *, add_generation_prompt=False, **variables)
    #       -> (prompt, [(start, end), ...] character spans of assistant text to learn)
