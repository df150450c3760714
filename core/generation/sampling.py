"""Turning next-token logits (B,V) into token ids (B,): penalties, filters, greedy or sampling."""
from __future__ import annotations

import torch

from mmplug.core.generation.config import GenerationConfig


def apply_repetition_penalty(logits: torch.Tensor, seen: torch.Tensor, penalty: float) -> torch.Tensor:
    """Divide positive / multiply negative logits of already-seen tokens by ``penalty``.

    logits (B,V) float; seen (B,N) long ids (prompt and generated so far)."""
    if penalty == 1.0:
        return logits
    scores = logits.gather(1, seen)
    scores = torch.where(scores > 0, scores / penalty, scores * penalty)
    return logits.scatter(1, seen, scores)


def filter_top_k(logits: torch.Tensor, k: int) -> torch.Tensor:
    """Keep the k largest logits per row (others -> -inf); k=0 keeps all."""
    if k <= 0 or k >= logits.shape[-1]:
        return logits
    threshold = logits.topk(k, dim=-1).values[..., -1:]
    return logits.masked_fill(logits < threshold, float("-inf"))


def filter_top_p(logits: torch.Tensor, p: float) -> torch.Tensor:
    """Keep the smallest set of tokens whose probability mass reaches ``p`` (at least one)."""
    if p >= 1.0:
        return logits
    sorted_logits, order = logits.sort(dim=-1, descending=True)
    cumulative = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
    drop_sorted = cumulative - sorted_logits.softmax(dim=-1) >= p  # mass before this token already >= p
    drop = drop_sorted.scatter(-1, order, drop_sorted)
    return logits.masked_fill(drop, float("-inf"))


def next_tokens(
    logits: torch.Tensor,
    config: GenerationConfig,
    *,
    seen: torch.Tensor,
    banned: list[int] | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Token ids (B,) chosen from logits (B,V). ``banned`` ids (e.g. EOS before min_new_tokens)
    can never be chosen."""
    logits = apply_repetition_penalty(logits.float(), seen, config.repetition_penalty)
    if banned:
        logits[:, banned] = float("-inf")
    if not config.do_sample:
        return logits.argmax(dim=-1)
    logits = filter_top_p(filter_top_k(logits / config.temperature, config.top_k), config.top_p)
    probabilities = logits.softmax(dim=-1)
    return torch.multinomial(probabilities, 1, generator=generator).squeeze(1)
