"""Pipeline-level generation: requests -> processor -> decode loop -> text, with timings.

Before any model work, the options are checked against the model (EOS ids in the
vocabulary) and every prompt against its context; in a batch a failing sample is named by
its index, and with ``errors="return"`` it gets an output holding its error while the other
samples are answered.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

import torch

from mmplug.core.errors import MmplugError
from mmplug.core.generation.config import GenerationConfig, check_token_ids
from mmplug.core.generation.context import check_context, context_of
from mmplug.core.generation.engine import GenerationResult, decode_steps, run_to_end
from mmplug.core.generation.requests import Request, build_requests, encode_requests, in_sample


@dataclass
class GenerationOutput:
    """One answer. ``timings``: decode_s (media), preprocess_s, vision_s (towers + projector),
    prefill_s (language model over the prompt), per_token_s (list), total_s.

    A sample that failed (only with ``errors="return"``) has ``finish_reason="error"``, no
    text or tokens, and its ``error``."""

    text: str
    token_ids: list[int]
    finish_reason: str
    prompt: str
    timings: dict[str, Any] = field(default_factory=dict)
    error: MmplugError | None = None


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
            timings: dict[str, Any], config: GenerationConfig, errors: str = "raise") -> tuple[list[Request], Any, list[int]]:
    """Every sample's Request, the processor inputs of those that can run, and their indices.

    ``errors="raise"``: the first failing sample raises (named by its index in a batch);
    ``"return"``: a failing sample keeps its error in its Request and is left out."""
    text = pipeline.resolved.text
    check_token_ids(config, text.vocab_size if text is not None else None)
    requests = build_requests(pipeline, prompts, images, videos, template=template, timings=timings, errors=errors)
    rows = [i for i, request in enumerate(requests) if request.error is None]
    while rows:
        try:
            inputs = encode_requests(pipeline, [requests[i] for i in rows], timings)
        except MmplugError:
            if errors == "raise" or not _fail_alone(pipeline, requests, rows, timings):
                raise
        else:
            if not _fail_too_long(pipeline, requests, rows, inputs, config, errors):
                _cast_pixels(inputs, next(pipeline.model.parameters()).dtype)
                return requests, inputs, rows
        rows = [i for i in rows if requests[i].error is None]
    return requests, None, []


def _fail_alone(pipeline: Any, requests: list[Request], rows: list[int], timings: dict[str, Any]) -> bool:
    """After the batch of ``rows`` failed to encode: encode each sample alone and keep the error
    of each one that fails. False if none fails alone (the problem is the batch's)."""
    found = False
    for index in rows:
        try:
            encode_requests(pipeline, [requests[index]], dict(timings))
        except MmplugError as exc:
            requests[index].error = in_sample(exc, index) if len(requests) > 1 else exc
            found = True
    return found


def _fail_too_long(pipeline: Any, requests: list[Request], rows: list[int], inputs: Any, config: GenerationConfig,
                   errors: str) -> bool:
    """Give each sample whose prompt exceeds the model's context its error (raised with
    ``errors="raise"``). True if any did."""
    media_ids = (pipeline.processor.image_token_id, pipeline.processor.video_token_id)
    too_long = check_context(inputs, context_of(pipeline), config.max_new_tokens, media_ids)
    for row, error in too_long.items():
        index = rows[row]
        requests[index].error = in_sample(error, index) if len(requests) > 1 else error
        if errors == "raise":
            raise requests[index].error
    return bool(too_long)


def _cast_pixels(inputs: Any, dtype: Any) -> None:
    """Pixels in the model's dtype (in place); videos of different lengths come as a list."""
    for key in ("pixel_values_images", "pixel_values_videos"):
        value = inputs.get(key)
        if isinstance(value, torch.Tensor):
            inputs[key] = value.to(dtype)
        elif isinstance(value, list):
            inputs[key] = [v.to(dtype) for v in value]


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
             template: bool = True, errors: str = "raise") -> list[GenerationOutput]:
    """One output per prompt (a left-padded batch). ``errors="return"``: a failing sample gets an
    output with ``finish_reason="error"`` and its ``error``; the others are answered."""
    start = time.perf_counter()
    timings: dict[str, Any] = {}
    requests, inputs, rows = prepare(pipeline, prompts, images, videos, template, timings, config, errors)
    outputs = [GenerationOutput("", [], "error", request.prompt, {}, request.error) for request in requests]
    if rows:
        stops = StopStrings(config.stop)
        result = run_to_end(_loop(pipeline, inputs, config, stops))
        answered = _outputs(pipeline, [requests[i] for i in rows], result, stops, timings, start)
        for row, output in zip(rows, answered):
            outputs[row] = output
    return outputs


def stream(pipeline: Any, prompt: str, images: Any, videos: Any, config: GenerationConfig, *,
           template: bool = True) -> Iterator[str]:
    """Text pieces of one answer as they are generated (never a broken character, never the
    beginning of a stop string that might still complete)."""
    timings: dict[str, Any] = {}
    _, inputs, _ = prepare(pipeline, [prompt], images, videos, template, timings, config)
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
