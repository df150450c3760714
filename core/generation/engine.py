"""The decode loop: one prefill over the prompt (media merged in), then one token at a time
with the KV cache, for a left-padded batch (B rows)."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Generator, Mapping

import torch

from mmplug.core.generation.config import GenerationConfig
from mmplug.core.generation.sampling import next_tokens
from mmplug.core.model.positions import position_ids_from_mask

#: Called with (row, new token ids of that row); True stops that row ("stop" reason).
StopCheck = Callable[[int, list[int]], bool]


@dataclass
class GenerationResult:
    """``token_ids[b]``: the new tokens of row b (EOS included when it ended the row);
    ``finish_reasons[b]``: "eos", "stop" or "length"; ``timings``: vision_s (towers + projector),
    prefill_s (the language model over the prompt) and per_token_s."""

    token_ids: list[list[int]]
    finish_reasons: list[str]
    timings: dict[str, Any] = field(default_factory=dict)


@torch.inference_mode()
def decode_steps(
    model: Any,
    inputs: Mapping[str, Any],
    config: GenerationConfig,
    *,
    eos_ids: list[int],
    pad_id: int,
    stop_check: StopCheck | None = None,
) -> Generator[tuple[torch.Tensor, torch.Tensor], None, GenerationResult]:
    """Yield ``(tokens (B,), finished (B,) bool)`` after every step; return the GenerationResult.

    ``inputs``: input_ids (B,S), attention_mask (B,S), optional pixel_values_images /
    pixel_values_videos. Rows that finished get ``pad_id``. Stopping the iteration early
    stops the computation.
    """
    input_ids = inputs["input_ids"]
    batch = input_ids.shape[0]
    mask = inputs.get("attention_mask")
    mask = torch.ones_like(input_ids) if mask is None else mask
    positions = position_ids_from_mask(mask)
    generator = torch.Generator(device=input_ids.device).manual_seed(config.seed) if config.seed is not None else None
    cache = model.new_cache(input_ids.shape[1] + config.max_new_tokens)

    start = time.perf_counter()
    embeds = model.embed_inputs(input_ids, pixel_values_images=inputs.get("pixel_values_images"),
                                pixel_values_videos=inputs.get("pixel_values_videos")).embeds
    vision_done = time.perf_counter()
    out = model(inputs_embeds=embeds, attention_mask=mask, position_ids=positions, cache=cache, logits_to_keep=1)
    timings: dict[str, Any] = {"vision_s": vision_done - start, "prefill_s": time.perf_counter() - vision_done,
                               "per_token_s": []}

    logits = out.logits[:, -1]
    seen = input_ids
    next_position = positions[:, -1:] + 1
    finished = torch.zeros(batch, dtype=torch.bool, device=input_ids.device)
    reasons: list[str | None] = [None] * batch
    generated: list[list[int]] = [[] for _ in range(batch)]
    eos = torch.tensor(eos_ids, dtype=torch.long, device=input_ids.device)

    for step in range(config.max_new_tokens):
        step_start = time.perf_counter()
        banned = eos_ids if step < config.min_new_tokens else None
        tokens = next_tokens(logits, config, seen=seen, banned=banned, generator=generator)
        tokens = torch.where(finished, torch.full_like(tokens, pad_id), tokens)
        _record(tokens, finished, reasons, generated, eos, stop_check)
        elapsed = time.perf_counter() - step_start
        yield tokens, finished.clone()
        if bool(finished.all()) or step == config.max_new_tokens - 1:
            timings["per_token_s"].append(elapsed)
            break
        step_start = time.perf_counter()
        seen = torch.cat([seen, tokens[:, None]], dim=1)
        mask = torch.cat([mask, torch.ones_like(mask[:, :1])], dim=1)
        out = model(tokens[:, None], attention_mask=mask, position_ids=next_position, cache=cache, logits_to_keep=1)
        next_position = next_position + 1
        logits = out.logits[:, -1]
        timings["per_token_s"].append(elapsed + time.perf_counter() - step_start)
    final = [reason or "length" for reason in reasons]
    return GenerationResult(generated, final, timings)


def generate_ids(
    model: Any,
    inputs: Mapping[str, Any],
    config: GenerationConfig,
    *,
    eos_ids: list[int],
    pad_id: int,
    stop_check: StopCheck | None = None,
) -> GenerationResult:
    """Generate up to ``config.max_new_tokens`` tokens for each row (see :func:`decode_steps`)."""
    return run_to_end(decode_steps(model, inputs, config, eos_ids=eos_ids, pad_id=pad_id, stop_check=stop_check))


def run_to_end(steps: Generator[Any, None, GenerationResult]) -> GenerationResult:
    """Drive :func:`decode_steps` to the end and return its GenerationResult."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return done.value


def _record(tokens: torch.Tensor, finished: torch.Tensor, reasons: list[str | None], generated: list[list[int]],
            eos: torch.Tensor, stop_check: StopCheck | None) -> None:
    """Append each live row's token and mark rows that hit EOS or a stop string (in place)."""
    hit_eos = torch.isin(tokens, eos) if eos.numel() else torch.zeros_like(finished)
    for row, token in enumerate(tokens.tolist()):
        if finished[row]:
            continue
        generated[row].append(token)
        if hit_eos[row]:
            reasons[row] = "eos"
        elif stop_check is not None and stop_check(row, generated[row]):
            reasons[row] = "stop"
        if reasons[row] is not None:
            finished[row] = True
