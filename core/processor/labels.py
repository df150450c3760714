"""Training labels from chat turns: learn only the assistant text.

The chat template reports the character spans of assistant text; the tokenizer
reports each token's character span. A token is learned when it *ends* inside an
assistant span (so ``"▁Hello"`` whose leading space belongs to the prompt is learned,
while a prompt token that merely starts with a space at a span's end is not).
Everything else -- prompt, media placeholders, padding -- is -100.
"""
from __future__ import annotations

from typing import Sequence

from mmplug.core.processor.batching import IGNORE_INDEX


def learned_mask(offsets: Sequence[tuple[int, int]], spans: Sequence[tuple[int, int]]) -> list[bool]:
    """For each token (start, end): True when it is non-empty and ends inside a span."""
    mask = []
    for start, end in offsets:
        mask.append(end > start and any(low < end <= high for low, high in spans))
    return mask


def labels_for(ids: Sequence[int], offsets: Sequence[tuple[int, int]], spans: Sequence[tuple[int, int]],
               never_learned: frozenset[int] = frozenset()) -> list[int]:
    """Token ids where learned, ``IGNORE_INDEX`` elsewhere and on every id in ``never_learned``."""
    return [token if keep and token not in never_learned else IGNORE_INDEX
            for token, keep in zip(ids, learned_mask(offsets, spans))]
