"""Attention backends: one math contract, several kernels."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class Availability:
    """Whether something can run here; ``reason`` says why not (and what to do)."""

    ok: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.ok


@dataclass(frozen=True)
class AttentionRequest:
    """What a part needs from a backend, known before any weight is loaded."""

    device: str = "cpu"
    dtype: str = "float32"
    causal: bool = True
    sliding_window: int | None = None


class AttentionBackend(ABC):
    """Computes softmax(q k^T * scale + mask) v.

    Shapes: q (B,H,Sq,Dh); k, v (B,Hkv,Skv,Dh) with H % Hkv == 0 (grouped-query:
    the backend repeats k/v heads itself); ``mask`` bool (B,1,Sq,Skv), True = may
    attend, or None. ``causal`` aligns the causal diagonal to the *end* of the keys
    (query i sits at key position Skv - Sq + i). ``sliding_window`` w lets a query
    see only the last w keys up to itself. Returns (B,H,Sq,Dh).
    """

    name: str = ""

    @abstractmethod
    def availability(self, request: AttentionRequest) -> Availability:
        """Whether this backend can serve ``request`` here; never raises."""

    @abstractmethod
    def __call__(
        self,
        q: "torch.Tensor",
        k: "torch.Tensor",
        v: "torch.Tensor",
        *,
        causal: bool,
        mask: "torch.Tensor | None" = None,
        sliding_window: int | None = None,
        scale: float | None = None,
    ) -> "torch.Tensor":
        """Attention output (B,H,Sq,Dh)."""
