"""Rotary position embeddings with the usual frequency scalings.

``rope_type``: "default", "linear" (positions / factor), "dynamic" (NTK base growth
once a sequence passes ``max_position_embeddings``), "llama3" (wavelength-banded
scaling) and "yarn" (ramped interpolation plus an attention factor). Frequencies are
computed in float32 on the fly (no buffers, so casting the model never degrades them).
"""
from __future__ import annotations

import math
from typing import Any

import torch

from mmplug.plugins.language.options import LlamaOptions


def _base_frequencies(dim: int, theta: float, device: Any) -> torch.Tensor:
    """(dim/2,) float32 inverse frequencies theta^(-2i/dim)."""
    exponents = torch.arange(0, dim, 2, dtype=torch.int64, device=device).float() / dim
    return 1.0 / (theta ** exponents)


def _llama3(inv_freq: torch.Tensor, s: dict[str, Any]) -> torch.Tensor:
    factor, low, high = s["factor"], s["low_freq_factor"], s["high_freq_factor"]
    old_context = s["original_max_position_embeddings"]
    wavelen = 2 * math.pi / inv_freq
    scaled = torch.where(wavelen > old_context / low, inv_freq / factor, inv_freq)
    smooth = (old_context / wavelen - low) / (high - low)
    smoothed = (1 - smooth) * scaled / factor + smooth * scaled
    medium = (wavelen >= old_context / high) & (wavelen <= old_context / low)
    return torch.where(medium, smoothed, scaled)


def _yarn(dim: int, theta: float, s: dict[str, Any], max_positions: int, device: Any) -> tuple[torch.Tensor, float]:
    factor = s["factor"]
    original = s.get("original_max_position_embeddings") or max_positions

    def mscale(scale: float, m: float = 1.0) -> float:
        return 1.0 if scale <= 1 else 0.1 * m * math.log(scale) + 1.0

    attention_factor = s.get("attention_factor")
    if attention_factor is None:
        if s.get("mscale") and s.get("mscale_all_dim"):
            attention_factor = mscale(factor, s["mscale"]) / mscale(factor, s["mscale_all_dim"])
        else:
            attention_factor = mscale(factor)

    def correction_dim(rotations: float) -> float:
        return dim * math.log(original / (rotations * 2 * math.pi)) / (2 * math.log(theta))

    low, high = correction_dim(s.get("beta_fast") or 32), correction_dim(s.get("beta_slow") or 1)
    if s.get("truncate", True):
        low, high = math.floor(low), math.ceil(high)
    low, high = max(low, 0), min(high, dim - 1)
    high = high + 0.001 if low == high else high
    ramp = ((torch.arange(dim // 2, dtype=torch.float32, device=device) - low) / (high - low)).clamp(0, 1)
    extrapolation = 1.0 / (theta ** (torch.arange(0, dim, 2, device=device).float() / dim))
    keep = 1 - ramp
    return extrapolation / factor * (1 - keep) + extrapolation * keep, float(attention_factor)


class RotaryEmbedding:
    """Position ids (B,S) -> cos, sin (B,S,head_dim) in the activations' dtype."""

    def __init__(self, options: LlamaOptions):
        self.dim = options.attention_head_dim
        self.theta = options.rope_theta
        self.max_positions = options.max_position_embeddings
        self.scaling = options.rope_scaling or {"rope_type": "default"}

    def frequencies(self, device: Any, seq_len: int | None = None) -> tuple[torch.Tensor, float]:
        """(head_dim/2,) float32 inverse frequencies and the cos/sin scale, for ``seq_len`` tokens."""
        kind, s = self.scaling["rope_type"], self.scaling
        if kind == "yarn":
            return _yarn(self.dim, self.theta, s, self.max_positions, device)
        theta = self.theta
        if kind == "dynamic" and seq_len is not None and seq_len > self.max_positions:
            theta = theta * ((s["factor"] * seq_len / self.max_positions) - (s["factor"] - 1)) ** (
                self.dim / (self.dim - 2))
        inv_freq = _base_frequencies(self.dim, theta, device)
        if kind == "linear":
            inv_freq = inv_freq / s["factor"]
        elif kind == "llama3":
            inv_freq = _llama3(inv_freq, s)
        return inv_freq, 1.0

    def __call__(self, position_ids: torch.Tensor, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        seq_len = int(position_ids.max()) + 1 if self.scaling["rope_type"] == "dynamic" else None
        inv_freq, scale = self.frequencies(position_ids.device, seq_len)
        angles = position_ids[..., None].float() * inv_freq  # (B,S,Dh/2)
        angles = torch.cat([angles, angles], dim=-1)
        return (angles.cos() * scale).to(dtype), (angles.sin() * scale).to(dtype)


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    """(..., Dh) -> (-x2, x1) with x = (x1, x2) split in halves."""
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat([-x2, x1], dim=-1)


def apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate x (B,H,S,Dh) by cos/sin (B,S,Dh)."""
    cos, sin = cos[:, None], sin[:, None]
    return x * cos + rotate_half(x) * sin
