"""``sdpa``: torch.nn.functional.scaled_dot_product_attention (the default backend).

Uses the kernel's own causal flag when the pattern is plain causal over equal
lengths, an explicit bool mask otherwise. Rows with no visible key output zeros.

Decoding on CPU (one float32 query per head that sees every cached key) skips the kernel:
the query heads of each key/value group are stacked into one small matrix and attention is
two batched matrix products (``single_query_attention``; the softmax runs over the contiguous
key axis), without copying the shared keys and values. When it applies, and its switch:
:mod:`mmplug.core.model.fast_paths`; measurements: docs/performance.md.
"""
from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from mmplug.core.interfaces.attention import AttentionBackend, AttentionRequest, Availability
from mmplug.core.model.fast_paths import single_query_attention_applies
from mmplug.plugins.attention.masks import combined_mask, repeat_kv

#: torch >= 2.5 shares kv heads inside the kernel (grouped-query attention).
KERNEL_GROUPS_HEADS = "enable_gqa" in (F.scaled_dot_product_attention.__doc__ or "")


class SdpaAttention(AttentionBackend):
    """PyTorch's fused scaled-dot-product attention; runs on every device and dtype."""

    name = "sdpa"

    def availability(self, request: AttentionRequest) -> Availability:
        if not hasattr(F, "scaled_dot_product_attention"):
            return Availability(False, "this torch has no scaled_dot_product_attention; upgrade torch to >= 2.1")
        return Availability(True)

    def __call__(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *, causal: bool,
                 mask: torch.Tensor | None = None, sliding_window: int | None = None,
                 scale: float | None = None) -> torch.Tensor:
        """q (B,H,Sq,Dh), k/v (B,Hkv,Skv,Dh), mask bool (B,1,Sq,Skv) -> (B,H,Sq,Dh)."""
        groups = q.shape[1] // k.shape[1]
        if single_query_attention_applies(q, k, mask, sliding_window):
            return single_query_attention(q, k, v, scale)
        grouped = {}
        if groups > 1 and KERNEL_GROUPS_HEADS:
            grouped = {"enable_gqa": True}  # the kernel shares kv heads: no repeated copy of the cache
        elif groups > 1:
            k, v = repeat_kv(k, groups), repeat_kv(v, groups)
        plain_causal = causal and mask is None and sliding_window is None and q.shape[2] == k.shape[2]
        allowed = None if plain_causal else combined_mask(q, k, causal=causal, mask=mask,
                                                          sliding_window=sliding_window)
        return F.scaled_dot_product_attention(q, k, v, attn_mask=allowed, is_causal=plain_causal, scale=scale,
                                              **grouped)


def single_query_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, scale: float | None) -> torch.Tensor:
    """One query per head attending to every key: q (B,H,1,Dh), k/v (B,Hkv,Skv,Dh) -> (B,H,1,Dh).

    The H/Hkv query heads sharing a key/value head form the rows of one (B,Hkv,H/Hkv,Dh) block.
    """
    b, h, _, d = q.shape
    hkv = k.shape[1]
    rows = q.reshape(b, hkv, h // hkv, d) * (d ** -0.5 if scale is None else scale)
    scores = torch.matmul(rows, k.transpose(-1, -2))  # (B,Hkv,H/Hkv,Skv): softmax over the contiguous axis
    return torch.matmul(torch.softmax(scores, dim=-1), v).reshape(b, h, 1, d)


def build_sdpa(options: Any, context: Any) -> SdpaAttention:
    """Factory of the ``sdpa`` backend (no options)."""
    return SdpaAttention()
