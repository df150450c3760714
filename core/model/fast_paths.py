"""The CPU fast paths behind one switch, and when each of them applies.

Four shortcuts bypass a general kernel where it is slow on CPU; each gives the same numbers as
the plain route it replaces (tests/model/test_decode_kernels.py, test_rms_norm.py,
test_activation_layer.py, test_fast_paths.py). Measurements: docs/performance.md.

- row-split linear (``mmplug.core.model.linear.RowSplitLinear``): few-row CPU inference inputs,
  where measured faster (:func:`row_split_applies`);
- single-query attention (the built-in scaled-dot-product backend): one float32 CPU query per
  head that sees every key (:func:`single_query_attention_applies`);
- one-call RMSNorm (the built-in decoder's ``RMSNorm``): float32 CPU input and weight
  (:func:`one_call_rms_norm_applies`);
- in-place activations (``mmplug.core.model.activation_layer.Activation``): temporaries autograd
  does not record, on every device (:func:`in_place_applies`).

Each kernel asks its predicate here instead of checking for itself. The switch turns all of
them off at once, and every part then takes its plain reference route:

- ``MMPLUG_FAST_PATHS=0`` in the environment (``1`` or unset: on; read on the first check);
- ``with fast_paths(False): ...`` in code (tests, benchmarks), process-wide, restored on exit.
"""
from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import torch

from mmplug.core.errors import ConfigError, ConfigIssue

#: the environment variable of the switch
ENV = "MMPLUG_FAST_PATHS"

#: inputs of a linear layer with at most this many rows (batch x sequence) may take the row split
FEW_ROWS = 8

_enabled: bool | None = None  # None: not decided yet, read from the environment on the first check


def setting_from_environment(environ: Mapping[str, str] = os.environ) -> bool:
    """The switch as :data:`ENV` sets it: ``0`` off, ``1`` or unset on; ConfigError otherwise."""
    value = environ.get(ENV, "").strip()
    if value in ("", "1"):
        return True
    if value == "0":
        return False
    raise ConfigError([ConfigIssue(ENV, f"is {value!r}; set it to 0 (CPU fast paths off) or 1 (on), or unset it")])


def fast_paths_enabled() -> bool:
    """Whether the fast paths may be taken at all (see the module docstring)."""
    global _enabled
    if _enabled is None:
        _enabled = setting_from_environment()
    return _enabled


@contextmanager
def fast_paths(enabled: bool) -> Iterator[None]:
    """Turn every fast path on or off inside the ``with`` block (for the whole process)."""
    global _enabled
    before = _enabled
    _enabled = bool(enabled)
    try:
        yield
    finally:
        _enabled = before


def records_gradient(x: torch.Tensor) -> bool:
    """True when autograd would record an operation on ``x`` (so it must not be overwritten)."""
    return torch.is_grad_enabled() and x.requires_grad


def row_split_applies(x: torch.Tensor, weight: torch.Tensor) -> bool:
    """x (..., K) against weight (N, K): a CPU input of at most :data:`FEW_ROWS` rows, no gradient
    recorded, a contiguous weight. (The layer also needs a block count that divides N and a
    measurement saying the split is faster at this thread count, see ``linear.split_pays_off``.)"""
    return (fast_paths_enabled() and x.device.type == "cpu" and x.numel() <= FEW_ROWS * weight.shape[1]
            and not torch.is_grad_enabled() and weight.is_contiguous())


def single_query_attention_applies(q: torch.Tensor, k: torch.Tensor, mask: torch.Tensor | None,
                                   sliding_window: int | None) -> bool:
    """q (B,H,Sq,Dh), k (B,Hkv,Skv,Dh): one float32 CPU query per head, no mask, and a window (if
    any) that covers every cached key."""
    return (fast_paths_enabled() and q.shape[2] == 1 and mask is None and q.device.type == "cpu"
            and q.dtype == torch.float32 and (sliding_window is None or sliding_window >= k.shape[2]))


def one_call_rms_norm_applies(x: torch.Tensor, weight: torch.Tensor) -> bool:
    """A CPU input and weight both in float32, where the one-call norm is bit-identical (tested)."""
    return fast_paths_enabled() and x.device.type == "cpu" and x.dtype == weight.dtype == torch.float32


def in_place_applies(x: torch.Tensor, times: torch.Tensor | None = None) -> bool:
    """An activation may overwrite ``x`` (and multiply by ``times`` there): autograd records neither."""
    return fast_paths_enabled() and not records_gradient(x) and (times is None or not records_gradient(times))
