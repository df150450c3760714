"""``sdpa``: torch.nn.functional.scaled_dot_product_attention (the default backend).

Uses the kernel's own causal flag when the pattern is plain causal over equal
lengths, an explicit bool mask otherwise. Rows with no visible key output zeros.

Decoding on CPU (one float32 query per head that sees every cached key) skips the kernel:
the query heads of each key/value group are stacked into one small matrix and attention is
two batched matrix products (``kernels.single_query_attention``; the softmax runs over the
contiguous key axis), without copying the shared keys and values. When it applies, and its
switch: :mod:`mmplug.core.model.fast_paths`; measurements: docs/performance.md. The math is in
:mod:`mmplug.plugins.attention.kernels`, imported when attention first runs.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mmplug.core.interfaces.attention import AttentionBackend, AttentionRequest, Availability

if TYPE_CHECKING:
    import torch


class SdpaAttention(AttentionBackend):
    """PyTorch's fused scaled-dot-product attention; runs on every device and dtype (torch >= 2.1,
    which mmplug requires, always has it)."""

    name = "sdpa"

    def availability(self, request: AttentionRequest) -> Availability:
        return Availability(True)

    def __call__(self, q: "torch.Tensor", k: "torch.Tensor", v: "torch.Tensor", *, causal: bool,
                 mask: "torch.Tensor | None" = None, sliding_window: int | None = None,
                 scale: float | None = None) -> "torch.Tensor":
        """q (B,H,Sq,Dh), k/v (B,Hkv,Skv,Dh), mask bool (B,1,Sq,Skv) -> (B,H,Sq,Dh)."""
        from mmplug.plugins.attention.kernels import sdpa_attention

        return sdpa_attention(q, k, v, causal=causal, mask=mask, sliding_window=sliding_window, scale=scale)


def build_sdpa(options: Any, context: Any) -> SdpaAttention:
    """Factory of the ``sdpa`` backend (no options)."""
    return SdpaAttention()
