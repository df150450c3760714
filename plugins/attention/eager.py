"""``eager``: attention as plain tensor math (the numerical reference).

Rows whose mask hides every key output zeros (as the other backends do).
"""
from __future__ import annotations

from typing import Any

import torch

from mmplug.core.interfaces.attention import AttentionBackend, AttentionRequest, Availability
from mmplug.plugins.attention.masks import combined_mask, repeat_kv


class EagerAttention(AttentionBackend):
    """softmax(q k^T * scale + mask) v with explicit tensors; runs anywhere."""

    name = "eager"

    def availability(self, request: AttentionRequest) -> Availability:
        return Availability(True)

    def __call__(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *, causal: bool,
                 mask: torch.Tensor | None = None, sliding_window: int | None = None,
                 scale: float | None = None) -> torch.Tensor:
        """q (B,H,Sq,Dh), k/v (B,Hkv,Skv,Dh), mask bool (B,1,Sq,Skv) -> (B,H,Sq,Dh)."""
        groups = q.shape[1] // k.shape[1]
        k, v = repeat_kv(k, groups), repeat_kv(v, groups)
        scale = q.shape[-1] ** -0.5 if scale is None else scale
        scores = torch.matmul(q, k.transpose(2, 3)) * scale
        allowed = combined_mask(q, k, causal=causal, mask=mask, sliding_window=sliding_window)
        if allowed is not None:
            scores = scores.masked_fill(~allowed, torch.finfo(scores.dtype).min)
        weights = torch.softmax(scores, dim=-1, dtype=torch.float32).to(q.dtype)
        if allowed is not None:
            weights = weights * allowed.any(dim=-1, keepdim=True)
        return torch.matmul(weights, v)


def build_eager(options: Any, context: Any) -> EagerAttention:
    """Factory of the ``eager`` backend (no options)."""
    return EagerAttention()
