"""Mask arithmetic shared by the attention backends (one place, one convention).

Boolean masks: True = the query may attend to the key. Causal masks align the
diagonal to the end of the keys: query i of Sq sits at key position Skv - Sq + i.
"""
from __future__ import annotations

import torch


def repeat_kv(x: torch.Tensor, groups: int) -> torch.Tensor:
    """(B,Hkv,S,Dh) -> (B,Hkv*groups,S,Dh), each kv head repeated for its query heads."""
    if groups == 1:
        return x
    b, h, s, d = x.shape
    return x[:, :, None].expand(b, h, groups, s, d).reshape(b, h * groups, s, d)


def structure_mask(sq: int, skv: int, *, causal: bool, sliding_window: int | None,
                   device: torch.device) -> torch.Tensor | None:
    """(Sq,Skv) bool mask of the causal / sliding-window pattern, or None if everything is visible."""
    if not causal and sliding_window is None:
        return None
    if sq == 1 and (sliding_window is None or sliding_window >= skv):
        return None  # one query at the end of the keys (decoding) sees every key
    query_pos = torch.arange(skv - sq, skv, device=device)[:, None]
    key_pos = torch.arange(skv, device=device)[None, :]
    allowed = torch.ones(sq, skv, dtype=torch.bool, device=device)
    if causal:
        allowed &= key_pos <= query_pos
    if sliding_window is not None:
        allowed &= key_pos > query_pos - sliding_window
    return allowed


def combined_mask(q: torch.Tensor, k: torch.Tensor, *, causal: bool, mask: torch.Tensor | None,
                  sliding_window: int | None) -> torch.Tensor | None:
    """The full bool mask (B|1,1,Sq,Skv) for ``q`` (B,H,Sq,Dh) and ``k`` (B,Hkv,Skv,Dh), or None."""
    allowed = structure_mask(q.shape[2], k.shape[2], causal=causal, sliding_window=sliding_window,
                             device=q.device)
    if mask is None:
        return None if allowed is None else allowed[None, None]
    mask = mask.to(device=q.device, dtype=torch.bool)
    return mask if allowed is None else mask & allowed


def key_padding(mask: torch.Tensor) -> torch.Tensor | None:
    """(B,Skv) key validity if ``mask`` (B,1,Sq,Skv) is the same for every query, else None."""
    first = mask[:, 0, :1, :]
    if mask.stride(2) == 0 or bool((mask[:, 0] == first).all()):
        return first[:, 0, :]
    return None
