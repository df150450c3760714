"""Does a request fit the language model's context?

The context is what the language model declares (``TextFacts.max_positions``; None: no fixed
limit). A prompt longer than the context is an error, since the answer would come from
positions the model never saw; a prompt that fits but leaves fewer than ``max_new_tokens``
positions gets a warning with the numbers (generation usually ends before), as transformers does.
"""
from __future__ import annotations

import warnings
from typing import Any

from mmplug.core.errors import ProcessorError


def context_of(pipeline: Any) -> int | None:
    """The language model's declared context in tokens (None when it declares none)."""
    text = pipeline.resolved.text
    return text.max_positions if text is not None else None


def prompt_lengths(inputs: Any) -> list[int]:
    """Tokens of each row's prompt (B,), padding excluded; media placeholders count in full."""
    mask = inputs.get("attention_mask")
    if mask is None:
        return [int(inputs["input_ids"].shape[1])] * int(inputs["input_ids"].shape[0])
    return [int(n) for n in mask.sum(dim=-1).tolist()]


def media_tokens(inputs: Any, media_ids: tuple[int, ...]) -> list[int]:
    """Media placeholder tokens in each row (B,)."""
    ids = inputs["input_ids"]
    return [int(n) for n in sum((ids == i).sum(dim=-1) for i in media_ids).tolist()]


def check_context(inputs: Any, context: int | None, max_new_tokens: int, media_ids: tuple[int, ...]) -> dict[int, ProcessorError]:
    """Rows (of ``inputs``) whose prompt exceeds ``context``, each with its error; warns once
    when a prompt that fits leaves fewer than ``max_new_tokens`` positions."""
    if context is None:
        return {}
    lengths = prompt_lengths(inputs)
    media = media_tokens(inputs, media_ids)
    too_long = {row: ProcessorError(
        f"the prompt is {length} tokens ({media[row]} of them for images and video frames), more than the "
        f"language model's context of {context} tokens; shorten the text, or pass fewer images or frames "
        "(frame_sampler.num_frames)") for row, length in enumerate(lengths) if length > context}
    fitting = [length for row, length in enumerate(lengths) if row not in too_long]
    if fitting and max(fitting) + max_new_tokens > context:
        longest = max(fitting)
        warnings.warn(f"a prompt of {longest} tokens plus max_new_tokens={max_new_tokens} exceeds the language "
                      f"model's context of {context} tokens; tokens after position {context} are generated "
                      f"beyond it (lower max_new_tokens to at most {context - longest} to stay inside)",
                      UserWarning, stacklevel=2)
    return too_long
