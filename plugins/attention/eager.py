"""``eager``: attention as plain tensor math (the numerical reference).

Rows whose mask hides every key output zeros (as the other backends do). The math is in
:mod:`mmplug.plugins.attention.kernels`, imported when attention first runs.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mmplug.core.interfaces.attention import AttentionBackend, AttentionRequest, Availability

if TYPE_CHECKING:
    import torch


class EagerAttention(AttentionBackend):
    """softmax(q k^T * scale + mask) v with explicit tensors; runs anywhere."""

    name = "eager"

    def availability(self, request: AttentionRequest) -> Availability:
        return Availability(True)

    def __call__(self, q: "torch.Tensor", k: "torch.Tensor", v: "torch.Tensor", *, causal: bool,
                 mask: "torch.Tensor | None" = None, sliding_window: int | None = None,
                 scale: float | None = None) -> "torch.Tensor":
        """q (B,H,Sq,Dh), k/v (B,Hkv,Skv,Dh), mask bool (B,1,Sq,Skv) -> (B,H,Sq,Dh)."""
        from mmplug.plugins.attention.kernels import eager_attention

        return eager_attention(q, k, v, causal=causal, mask=mask, sliding_window=sliding_window, scale=scale)


def build_eager(options: Any, context: Any) -> EagerAttention:
    """Factory of the ``eager`` backend (no options)."""
    return EagerAttention()
