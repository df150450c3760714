"""Placeholder runs: where media features replace token embeddings, with count checks."""
from __future__ import annotations

import torch

from mmplug.core.errors import ProcessorError


def merge_features(embeds: torch.Tensor, slots: torch.Tensor, features: torch.Tensor, *, kind: str,
                   token: str) -> torch.Tensor:
    """Write ``features`` (N,L,D), item after item, into the placeholder ``slots`` (B,S) bool of
    ``embeds`` (B,S,D) in reading order. Each item needs L placeholder tokens; a sample whose count
    is not a whole number of items, or a batch whose items do not add up, raises ProcessorError."""
    per_item, items = features.shape[1], features.shape[0]
    counts = slots.sum(dim=1).tolist()
    for sample, count in enumerate(counts):
        if count % per_item:
            raise ProcessorError(
                f"sample {sample}: found {count} {token} tokens, expected a multiple of {per_item} "
                f"(each {kind} expands to {per_item} tokens); expand placeholders with the pipeline's processor")
    expected = sum(counts) // per_item
    if expected != items:
        per_sample = ", ".join(f"sample {i}: {c // per_item}" for i, c in enumerate(counts))
        raise ProcessorError(
            f"the text holds placeholders for {expected} {kind}(s) ({per_sample}; {per_item} {token} tokens "
            f"each, {sum(counts)} found) but {items} {kind}(s) were given; pass one {kind} per placeholder run")
    return embeds.masked_scatter(slots[..., None], features.to(embeds.dtype))


def merge_runs(embeds: torch.Tensor, slots: torch.Tensor, runs: list[torch.Tensor], *, kind: str,
               token: str) -> torch.Tensor:
    """Write ``runs`` (a list of (L_i,D), one per item, lengths may differ) into the placeholder
    ``slots`` (B,S) bool of ``embeds`` (B,S,D) in reading order; the placeholder count must equal
    the runs' total length, else ProcessorError."""
    total, found = sum(len(run) for run in runs), int(slots.sum())
    if found != total:
        lengths = ", ".join(str(len(run)) for run in runs)
        raise ProcessorError(f"the text holds {found} {token} tokens but the {len(runs)} {kind}(s) given expand to "
                             f"{total} ({lengths}); expand placeholders with the pipeline's processor")
    return embeds.masked_scatter(slots[..., None], torch.cat(runs).to(embeds.dtype))
