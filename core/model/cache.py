"""KV cache for incremental decoding.

Per decoder layer it holds keys and values (B, Hkv, T, Dh) of every token seen so
far (rotary positions already applied). Decoders call :meth:`KVCache.update` once
per layer and step; :attr:`length` is the number of cached tokens.

Storage is preallocated and grows by doubling, so a decoding step writes one slot
instead of copying the whole cache (``capacity`` sizes the first allocation).
"""
from __future__ import annotations

import torch


class KVCache:
    """Keys/values per layer in growable buffers, updated in place by the decoder."""

    def __init__(self, capacity: int = 0) -> None:
        self.capacity_hint = capacity
        self._keys: list[torch.Tensor] = []
        self._values: list[torch.Tensor] = []
        self._lengths: list[int] = []

    @property
    def length(self) -> int:
        """Tokens cached so far (0 before the first forward)."""
        return self._lengths[0] if self._lengths else 0

    def layer(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The cached keys and values (B,Hkv,T,Dh) of layer ``index`` (views, not copies)."""
        end = self._lengths[index]
        return self._keys[index][:, :, :end], self._values[index][:, :, :end]

    def update(self, layer: int, key: torch.Tensor, value: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Append ``key``/``value`` (B,Hkv,S,Dh) to ``layer``; return all keys/values (B,Hkv,T+S,Dh)."""
        if layer == len(self._keys):
            self._keys.append(self._allocate(key, max(self.capacity_hint, key.shape[2])))
            self._values.append(self._allocate(value, max(self.capacity_hint, value.shape[2])))
            self._lengths.append(0)
        elif layer > len(self._keys):
            raise IndexError(f"KV cache: layer {layer} updated before layer {len(self._keys)}")
        start, end = self._lengths[layer], self._lengths[layer] + key.shape[2]
        if end > self._keys[layer].shape[2]:
            self._keys[layer] = self._grow(self._keys[layer], start, end)
            self._values[layer] = self._grow(self._values[layer], start, end)
        self._keys[layer][:, :, start:end] = key
        self._values[layer][:, :, start:end] = value
        self._lengths[layer] = end
        return self.layer(layer)

    @staticmethod
    def _allocate(like: torch.Tensor, capacity: int) -> torch.Tensor:
        b, h, _, d = like.shape
        return like.new_empty(b, h, capacity, d)

    def _grow(self, buffer: torch.Tensor, used: int, needed: int) -> torch.Tensor:
        bigger = self._allocate(buffer, max(needed, 2 * buffer.shape[2]))
        bigger[:, :, :used] = buffer[:, :, :used]
        return bigger
