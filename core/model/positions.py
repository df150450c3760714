"""Position ids from an attention mask: the one convention of mmplug (that of transformers'
``generate``). Real tokens count 0, 1, 2, ... from each row's first real token, so left padding
does not shift them; padding positions get 1 (their value is never attended to)."""
from __future__ import annotations

import torch


def position_ids_from_mask(attention_mask: torch.Tensor, length: int | None = None) -> torch.Tensor:
    """Position ids (B, length) of the last ``length`` tokens (None: all T) of an
    ``attention_mask`` (B, T) of 0/1."""
    positions = attention_mask.long().cumsum(-1) - 1
    positions = positions.masked_fill(attention_mask == 0, 1)
    return positions if length is None else positions[:, -length:]
