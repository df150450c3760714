"""Media placeholders: count them per sample, check them against the media given, expand them.

A prompt holds one ``<image>`` id per image and one ``<video>`` id per video; the
model needs one id per vision token. Each image placeholder becomes
``tokens_per_image`` ids; each video placeholder becomes ``frames x tokens_per_frame``
ids, counted per video.
"""
from __future__ import annotations

from typing import Sequence

from mmplug.core.errors import ProcessorError


def count(ids: Sequence[int], token_id: int) -> int:
    return sum(1 for i in ids if i == token_id)


def assign_media(per_sample: list[int], given: int, kind: str, token: str) -> list[range]:
    """For a flat media list in prompt order: which media indices belong to each sample.

    ``per_sample`` holds the placeholder counts; a mismatch with ``given`` raises a
    ProcessorError naming the sample where the media run out (or the counts of all).
    """
    total = sum(per_sample)
    if total == given:
        ranges, start = [], 0
        for n in per_sample:
            ranges.append(range(start, start + n))
            start += n
        return ranges
    if total > given:
        running = 0
        for sample, n in enumerate(per_sample):
            running += n
            if running > given:
                raise ProcessorError(
                    f"sample {sample}: expected {n - (running - given)} {token} placeholder(s) (the {kind}s left "
                    f"for it), found {n}; {given} {kind}(s) were given for {total} placeholders in the batch. "
                    f"Pass one {kind} per {token}, in prompt order")
    if len(per_sample) == 1:
        raise ProcessorError(f"sample 0: expected {given} {token} placeholder(s) for the {given} {kind}(s) given, "
                             f"found {total}. Add {token} where each {kind} belongs, or pass fewer {kind}s")
    counts = ", ".join(f"sample {i}: {n}" for i, n in enumerate(per_sample))
    raise ProcessorError(
        f"{given} {kind}(s) given but the batch holds only {total} {token} placeholder(s) ({counts}); "
        f"the last {given - total} {kind}(s) have no placeholder. Add {token} to the sample each {kind} "
        f"belongs to, or pass fewer {kind}s (or one list of {kind}s per sample)")


def check_sample(sample: int, found: int, expected: int, kind: str, token: str) -> None:
    """Per-sample media lists: the sample's placeholder count must equal its media count."""
    if found != expected:
        raise ProcessorError(f"sample {sample}: expected {expected} {token} placeholder(s) for its {expected} "
                             f"{kind}(s), found {found}")


def expand(ids: Sequence[int], lengths: dict[int, list[int]]) -> list[int]:
    """Replace the k-th occurrence of each placeholder id by ``lengths[id][k]`` copies of it."""
    out: list[int] = []
    seen = {token_id: 0 for token_id in lengths}
    for token_id in ids:
        if token_id in lengths:
            out.extend([token_id] * lengths[token_id][seen[token_id]])
            seen[token_id] += 1
        else:
            out.append(token_id)
    return out


def expand_labels(ids: Sequence[int], labels: Sequence[int], lengths: dict[int, list[int]],
                  ignore_index: int) -> list[int]:
    """Labels aligned with :func:`expand`; every media position is ``ignore_index``."""
    out: list[int] = []
    seen = {token_id: 0 for token_id in lengths}
    for token_id, label in zip(ids, labels):
        if token_id in lengths:
            out.extend([ignore_index] * lengths[token_id][seen[token_id]])
            seen[token_id] += 1
        else:
            out.append(label)
    return out
