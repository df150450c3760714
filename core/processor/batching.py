"""Padding token sequences into a batch, and the processor's output mapping."""
from __future__ import annotations

from typing import Any, Sequence

from mmplug.core.errors import ProcessorError

IGNORE_INDEX = -100


class ProcessorOutput(dict):
    """What the processor returns: a dict with attribute access.

    Keys: ``input_ids`` (B,S) long, ``attention_mask`` (B,S) long, and when media were
    given ``pixel_values_images`` (N,3,H,W) float32 and ``pixel_values_videos``
    (V,T,3,H,W) float32 -- or, when the videos have different frame counts, a list of
    V tensors (T_i,3,H,W) in prompt order. Training batches add ``labels`` (B,S).
    """

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"processor output has no {name!r}; keys: {', '.join(self)}") from None

    def to(self, device: Any) -> "ProcessorOutput":
        """A copy with every tensor (also inside lists) moved to ``device``."""
        def move(value: Any) -> Any:
            if isinstance(value, list):
                return [move(v) for v in value]
            return value.to(device) if hasattr(value, "to") else value
        return ProcessorOutput({key: move(value) for key, value in self.items()})


def pad(rows: Sequence[Sequence[int]], value: int, side: str, length: int) -> list[list[int]]:
    """Each row padded with ``value`` on ``side`` ("left"/"right") to ``length``."""
    if side not in ("left", "right"):
        raise ProcessorError(f"padding_side must be 'left' or 'right', got {side!r}")
    out = []
    for row in rows:
        filler = [value] * (length - len(row))
        out.append(filler + list(row) if side == "left" else list(row) + filler)
    return out


def batch_sequences(ids: list[list[int]], labels: list[list[int]] | None, *, pad_id: int | None, padding: bool,
                    padding_side: str, return_tensors: str | None) -> dict[str, Any]:
    """``input_ids``/``attention_mask`` (and ``labels``) as (B,S) tensors or lists of lists.

    Without ``padding``, rows of different lengths can only be returned as lists
    (``return_tensors=None``); asking for tensors is an error naming the lengths.
    """
    lengths = [len(row) for row in ids]
    longest = max(lengths, default=0)
    if padding and len(set(lengths)) > 1:
        if pad_id is None:
            raise ProcessorError("cannot pad: neither multimodal.pad_token_id nor the tokenizer defines a pad "
                                 "token; set multimodal.pad_token_id")
        masks = pad([[1] * n for n in lengths], 0, padding_side, longest)
        ids = pad(ids, pad_id, padding_side, longest)
        labels = pad(labels, IGNORE_INDEX, padding_side, longest) if labels is not None else None
    else:
        masks = [[1] * n for n in lengths]
    data: dict[str, Any] = {"input_ids": ids, "attention_mask": masks}
    if labels is not None:
        data["labels"] = labels
    if return_tensors is None:
        return data
    if return_tensors != "pt":
        raise ProcessorError(f"return_tensors must be 'pt' or None, got {return_tensors!r}")
    if len(set(len(row) for row in ids)) > 1:
        raise ProcessorError(f"samples have different lengths {lengths} and padding is off; pass padding=True, "
                             "or return_tensors=None for lists")
    import torch

    return {key: torch.tensor(value, dtype=torch.long) for key, value in data.items()}
