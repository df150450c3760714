"""Token-by-token detokenization that never emits a broken UTF-8 character.

Works with any :class:`~mmplug.core.interfaces.text.Tokenizer`: each step decodes a
short window of recent ids and emits only the new text, and holds text back while
it ends in U+FFFD (a byte-fallback character whose remaining bytes are still to come).
Decoding a window that starts one token back keeps tokenizer-specific
leading-space rules consistent, so the chunks join to the full decode.
"""
from __future__ import annotations

from typing import Iterable, Iterator

from mmplug.core.interfaces.text import Tokenizer

REPLACEMENT = "\ufffd"


class StreamingDetokenizer:
    """``push(id) -> new text`` (possibly empty); ``flush()`` returns what is held back."""

    def __init__(self, tokenizer: Tokenizer, *, skip_special_tokens: bool = True):
        self.tokenizer = tokenizer
        self.skip_special_tokens = skip_special_tokens
        self.ids: list[int] = []
        self._prefix = 0  # window start: one emitted token of context
        self._read = 0  # ids up to here have been emitted

    def _decode(self, ids: list[int]) -> str:
        return self.tokenizer.decode(ids, skip_special_tokens=self.skip_special_tokens)

    def push(self, token_id: int) -> str:
        """Add one id; return the text it completes ("" while a character is incomplete)."""
        self.ids.append(int(token_id))
        emitted = self._decode(self.ids[self._prefix:self._read])
        current = self._decode(self.ids[self._prefix:])
        if len(current) <= len(emitted) or current.endswith(REPLACEMENT):
            return ""
        self._prefix, self._read = self._read, len(self.ids)
        return current[len(emitted):]

    def flush(self) -> str:
        """The text still held back (may contain U+FFFD if the ids end mid-character)."""
        emitted = self._decode(self.ids[self._prefix:self._read])
        current = self._decode(self.ids[self._prefix:])
        self._prefix = self._read = len(self.ids)
        return current[len(emitted):]

    def stream(self, ids: Iterable[int]) -> Iterator[str]:
        """Yield the non-empty chunks for ``ids``, then what ``flush`` returns."""
        for token_id in ids:
            chunk = self.push(token_id)
            if chunk:
                yield chunk
        tail = self.flush()
        if tail:
            yield tail
