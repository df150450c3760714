"""The tensor math of the ``eager`` and ``sdpa`` backends (imported when attention first runs,
so that resolving and validating a config needs no torch).

Shapes as in :class:`mmplug.core.interfaces.AttentionBackend`: q (B,H,Sq,Dh), k/v
(B,Hkv,Skv,Dh), mask bool (B,1,Sq,Skv) (True = may attend) -> (B,H,Sq,Dh).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from mmplug.core.model.fast_paths import single_query_attention_applies
from mmplug.plugins.attention.masks import combined_mask, repeat_kv

#: torch >= 2.5 shares kv heads inside the kernel (grouped-query attention).
KERNEL_GROUPS_HEADS = "enable_gqa" in (F.scaled_dot_product_attention.__doc__ or "")


def eager_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *, causal: bool,
                    mask: torch.Tensor | None, sliding_window: int | None, scale: float | None) -> torch.Tensor:
    """softmax(q k^T * scale + mask) v with explicit tensors; rows that see no key output zeros."""
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


def sdpa_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, *, causal: bool,
                   mask: torch.Tensor | None, sliding_window: int | None, scale: float | None) -> torch.Tensor:
    """torch's fused scaled_dot_product_attention (its own causal flag for plain causal
    attention over equal lengths, an explicit bool mask otherwise), or
    :func:`single_query_attention` where that fast path applies."""
    groups = q.shape[1] // k.shape[1]
    if single_query_attention_applies(q, k, mask, sliding_window):
        return single_query_attention(q, k, v, scale)
    grouped = {}
    if groups > 1 and KERNEL_GROUPS_HEADS:
        grouped = {"enable_gqa": True}  # the kernel shares kv heads: no repeated copy of the cache
    elif groups > 1:
        k, v = repeat_kv(k, groups), repeat_kv(v, groups)
    plain_causal = causal and mask is None and sliding_window is None and q.shape[2] == k.shape[2]
    allowed = None if plain_causal else combined_mask(q, k, causal=causal, mask=mask, sliding_window=sliding_window)
    return F.scaled_dot_product_attention(q, k, v, attn_mask=allowed, is_causal=plain_causal, scale=scale, **grouped)


def single_query_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, scale: float | None) -> torch.Tensor:
    """One query per head attending to every key: q (B,H,1,Dh), k/v (B,Hkv,Skv,Dh) -> (B,H,1,Dh).

    The H/Hkv query heads sharing a key/value head form the rows of one (B,Hkv,H/Hkv,Dh) block.
    """
    b, h, _, d = q.shape
    hkv = k.shape[1]
    rows = q.reshape(b, hkv, h // hkv, d) * (d ** -0.5 if scale is None else scale)
    scores = torch.matmul(rows, k.transpose(-1, -2))  # (B,Hkv,H/Hkv,Skv): softmax over the contiguous axis
    return torch.matmul(torch.softmax(scores, dim=-1), v).reshape(b, h, 1, d)
