"""``flash_attention_2``: the flash-attn package's kernels (CUDA, fp16/bf16).

flash-attn is imported only when attention runs, never at import time. Masks must be
key-padding masks (the same for every query, as a decoder's padding mask is): padded
tokens are removed and the variable-length kernel runs; padded query rows output zeros.
Sliding windows map to flash-attn's ``window_size=(w - 1, 0)``.
"""
from __future__ import annotations

import importlib.util
from typing import Any

from mmplug.core.errors import BackendUnavailableError
from mmplug.core.interfaces.attention import AttentionBackend, AttentionRequest, Availability

INSTALL_HINT = 'install it with: pip install "mmplug[gpu]"'
HALF_DTYPES = ("float16", "bfloat16")


class FlashAttention2(AttentionBackend):
    """FlashAttention-2 through ``flash_attn_func`` / ``flash_attn_varlen_func``."""

    name = "flash_attention_2"

    def availability(self, request: AttentionRequest) -> Availability:
        try:
            if importlib.util.find_spec("flash_attn") is None:
                return Availability(False, f"the flash-attn package is not installed; {INSTALL_HINT}")
        except (ImportError, ValueError) as exc:
            return Availability(False, f"the flash-attn package cannot be found ({exc}); {INSTALL_HINT}")
        if request.sliding_window is not None and _version() < (2, 3):
            found = ".".join(map(str, _version()))
            return Availability(False, f"sliding windows need flash-attn >= 2.3 (found {found}); upgrade it")
        if not str(request.device).startswith("cuda"):
            return Availability(False, f"it needs a CUDA device, the runtime device is {request.device!r}")
        if request.dtype not in HALF_DTYPES:
            return Availability(False, f"it needs float16 or bfloat16, the runtime dtype is {request.dtype!r}")
        try:
            import torch

            if not torch.cuda.is_available():
                return Availability(False, "no CUDA GPU is visible to torch here")
        except Exception as exc:  # noqa: BLE001 - availability never raises
            return Availability(False, f"torch cannot query CUDA: {exc}")
        return Availability(True)

    def __call__(self, q: Any, k: Any, v: Any, *, causal: bool, mask: Any = None,
                 sliding_window: int | None = None, scale: float | None = None) -> Any:
        """q (B,H,Sq,Dh), k/v (B,Hkv,Skv,Dh), mask bool key-padding (B,1,Sq,Skv) -> (B,H,Sq,Dh)."""
        flash = _flash_module()
        window = (sliding_window - 1, 0) if sliding_window is not None else (-1, -1)
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))  # flash-attn wants (B,S,H,Dh)
        if mask is None:
            out = flash.flash_attn_func(q, k, v, softmax_scale=scale, causal=causal, window_size=window)
            return out.transpose(1, 2)
        return _varlen(flash, q, k, v, mask, causal=causal, window=window, scale=scale).transpose(1, 2)


def _version() -> tuple[int, ...]:
    """The installed flash-attn version as a tuple ((0,) if unknown)."""
    from importlib import metadata

    try:
        text = metadata.version("flash-attn")
    except metadata.PackageNotFoundError:
        return (0,)
    return tuple(int(part) for part in text.split("+")[0].split(".")[:2] if part.isdigit())


def _flash_module() -> Any:
    try:
        import flash_attn
    except ImportError as exc:
        raise BackendUnavailableError(f"attention backend 'flash_attention_2': cannot import flash_attn ({exc}); "
                                      f"{INSTALL_HINT}, or use 'sdpa'") from exc
    return flash_attn


def _varlen(flash: Any, q: Any, k: Any, v: Any, mask: Any, *, causal: bool, window: tuple[int, int],
            scale: float | None) -> Any:
    """Unpad by the key-padding ``mask``, run the varlen kernel, pad back. q (B,Sq,H,Dh) -> (B,Sq,H,Dh)."""
    import torch
    import torch.nn.functional as F

    from mmplug.plugins.attention.masks import key_padding

    keys_valid = key_padding(mask)
    if keys_valid is None:
        raise BackendUnavailableError(
            "attention backend 'flash_attention_2' only takes key-padding masks (the same for every query); "
            "this part passed a general mask; use 'sdpa' or 'eager' for it")
    batch, sq, heads, dim = q.shape
    queries_valid = keys_valid[:, -sq:]

    def unpad(x: Any, valid: Any) -> tuple[Any, Any, Any, int]:
        lengths = valid.sum(dim=1, dtype=torch.int32)
        index = valid.flatten().nonzero().flatten()
        cu = F.pad(torch.cumsum(lengths, dim=0, dtype=torch.int32), (1, 0))
        return x.reshape(-1, *x.shape[2:])[index], index, cu, int(lengths.max())

    q_un, q_index, cu_q, max_q = unpad(q, queries_valid)
    k_un, _, cu_k, max_k = unpad(k, keys_valid)
    v_un = v.reshape(-1, *v.shape[2:])[keys_valid.flatten().nonzero().flatten()]
    out_un = flash.flash_attn_varlen_func(q_un, k_un, v_un, cu_q, cu_k, max_q, max_k, softmax_scale=scale,
                                          causal=causal, window_size=window)
    out = q.new_zeros(batch * sq, heads, dim)
    out[q_index] = out_un
    return out.view(batch, sq, heads, dim)


def build_flash_attention_2(options: Any, context: Any) -> FlashAttention2:
    """Factory of the ``flash_attention_2`` backend (no options)."""
    return FlashAttention2()
