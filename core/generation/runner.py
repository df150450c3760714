"""Pipeline-level generation: requests -> processor -> decode loop -> text, with timings."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

import torch

from mmplug.core.generation.config import GenerationConfig
from mmplug.core.generation.engine import GenerationResult, decode_steps, run_to_end
from mmplug.core.generation.requests import Request, build_requests, encode_requests


@dataclass
class GenerationOutput:
    """One answer. ``timings``: decode_s (media), preprocess_s, vision_s (towers + projector),
    prefill_s (language model over the prompt), per_token_s (list), total_s."""

    text: str
    token_ids: list[int]
    finish_reason: str
    prompt: str
    timings: dict[str, Any] = field(default_factory=dict)


class StopStrings:
    """Finds the first stop string in generated text; ``safe_length`` says how much of a
    partial text can be shown without possibly showing the start of a stop string."""

    def __init__(self, stops: Sequence[str]):
        self.stops = [s for s in stops if s]

    def cut(self, text: str) -> int | None:
        hits = [text.find(s) for s in self.stops if s in text]
        return min(hits) if hits else None

    def safe_length(self, text: str) -> int:
        held = 0
        for stop in self.stops:
            for size in range(min(len(stop) - 1, len(text)), 0, -1):
                if text.endswith(stop[:size]):
                    held = max(held, size)
                    break
        return len(text) - held


def prepare(pipeline: Any, prompts: Sequence[str], images: Any, videos: Any, template: bool,
            timings: dict[str, Any]) -> tuple[list[Request], Any]:
    requests = build_requests(pipeline, prompts, images, videos, template=template, timings=timings)
    inputs = encode_requests(pipeline, requests, timings)
    dtype = next(pipeline.model.parameters()).dtype
    for key in ("pixel_values_images", "pixel_values_videos"):
        value = inputs.get(key)
        if isinstance(value, torch.Tensor):
            inputs[key] = value.to(dtype)
        elif isinstance(value, list):  # videos of different lengths
            inputs[key] = [v.to(dtype) for v in value]
    return requests, inputs


def _loop(pipeline: Any, inputs: Any, config: GenerationConfig, stops: StopStrings):
    tokenizer = pipeline.processor.tokenizer

    def stop_check(row: int, tokens: list[int]) -> bool:
        return stops.cut(tokenizer.decode(tokens, skip_special_tokens=True)) is not None

    eos = config.eos_ids(tokenizer.eos_token_id)
    return decode_steps(pipeline.model, inputs, config, eos_ids=eos, pad_id=pipeline.processor.pad_token_id,
                        stop_check=stop_check if stops.stops else None)


def _outputs(pipeline: Any, requests: list[Request], result: GenerationResult, stops: StopStrings,
             timings: dict[str, Any], start: float) -> list[GenerationOutput]:
    timings = {**timings, **result.timings, "total_s": time.perf_counter() - start}
    outputs = []
    for request, tokens, reason in zip(requests, result.token_ids, result.finish_reasons):
        text = pipeline.processor.decode(tokens, skip_special_tokens=True)
        cut = stops.cut(text)
        outputs.append(GenerationOutput(text if cut is None else text[:cut], tokens, reason, request.prompt,
                                        dict(timings)))
    return outputs


def generate(pipeline: Any, prompts: Sequence[str], images: Any, videos: Any, config: GenerationConfig, *,
             template: bool = True) -> list[GenerationOutput]:
    """One output per prompt (a left-padded batch)."""
    start = time.perf_counter()
    timings: dict[str, Any] = {}
    requests, inputs = prepare(pipeline, prompts, images, videos, template, timings)
    stops = StopStrings(config.stop)
    result = run_to_end(_loop(pipeline, inputs, config, stops))
    return _outputs(pipeline, requests, result, stops, timings, start)


def stream(pipeline: Any, prompt: str, images: Any, videos: Any, config: GenerationConfig, *,
           template: bool = True) -> Iterator[str]:
    """Text pieces of one answer as they are generated (never a broken character, never the
    beginning of a stop string that might still complete)."""
    timings: dict[str, Any] = {}
    _, inputs = prepare(pipeline, [prompt], images, videos, template, timings)
    stops = StopStrings(config.stop)
    detokenizer = pipeline.processor.stream_decoder(skip_special_tokens=True)
    eos = set(config.eos_ids(pipeline.processor.tokenizer.eos_token_id))
    text, shown = "", 0
    for tokens, _ in _loop(pipeline, inputs, config, stops):
        token = int(tokens[0])
        if token in eos:
            break
        text += detokenizer.push(token)
        cut = stops.cut(text)
        if cut is not None:
            if cut > shown:
                yield text[shown:cut]
            return
        visible = stops.safe_length(text)
        if visible > shown:
            yield text[shown:visible]
            shown = visible
    text += detokenizer.flush()
    cut = stops.cut(text)
    end = len(text) if cut is None else cut
    if end > shown:
        yield text[shown:end]
