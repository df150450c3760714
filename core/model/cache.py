"""KV cache for incremental decoding.

Per decoder layer it holds keys and values (B, Hkv, T, Dh) of every token seen so
far (rotary positions already applied). Decoders call :meth:`KVCache.update` once
per layer and step; :attr:`length` is the number of cached tokens.
"""
from __future__ import annotations

import torch


class KVCache:
    """A growing (dynamic) key/value cache, updated in place by the decoder."""

    def __init__(self) -> None:
        self.keys: list[torch.Tensor] = []
        self.values: list[torch.Tensor] = []

    @property
    def length(self) -> int:
        """Tokens cached so far (0 before the first forward)."""
        return self.keys[0].shape[2] if self.keys else 0

    def update(self, layer: int, key: torch.Tensor, value: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Append ``key``/``value`` (B,Hkv,S,Dh) to ``layer``; return all keys/values (B,Hkv,T+S,Dh)."""
        if layer == len(self.keys):
            self.keys.append(key)
            self.values.append(value)
        elif layer < len(self.keys):
            self.keys[layer] = torch.cat([self.keys[layer], key], dim=2)
            self.values[layer] = torch.cat([self.values[layer], value], dim=2)
        else:
            raise IndexError(f"KV cache: layer {layer} updated before layer {len(self.keys)}")
        return self.keys[layer], self.values[layer]

    def reorder(self, index: torch.Tensor) -> None:
        """Keep/reorder batch rows (e.g. for beam search): ``index`` (B',) long."""
        self.keys = [k.index_select(0, index) for k in self.keys]
        self.values = [v.index_select(0, index) for v in self.values]
