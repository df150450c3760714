"""The activation module that parts build by name (:func:`mmplug.core.model.activations.build_activation`).

Besides the usual out-of-place ``forward``, it can write its result into the input's own memory
(``act(x, in_place=True)``) when no gradient is recorded. Parts use that on the temporaries
between two linear layers: on CPU a fresh tensor of that size is new memory from the OS and pays
first-touch page faults. When it applies, and its switch: :mod:`mmplug.core.model.fast_paths`;
measurements: docs/performance.md.
"""
from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from torch import nn

from mmplug.core.model.fast_paths import in_place_applies


def _quick_gelu(x: torch.Tensor) -> torch.Tensor:
    return x * torch.sigmoid(1.702 * x)


def _quick_gelu_(x: torch.Tensor) -> torch.Tensor:
    return x.mul_(torch.sigmoid(1.702 * x))


_GELU_TANH = (functools.partial(F.gelu, approximate="tanh"), functools.partial(torch.ops.aten.gelu_, approximate="tanh"))
_SILU = (F.silu, functools.partial(F.silu, inplace=True))

#: name -> (out-of-place function, in-place function); the two give bit-identical results.
FUNCTIONS = {
    "gelu": (F.gelu, torch.ops.aten.gelu_),
    "gelu_pytorch_tanh": _GELU_TANH,
    "gelu_new": _GELU_TANH,
    "quick_gelu": (_quick_gelu, _quick_gelu_),
    "silu": _SILU,
    "swish": _SILU,
    "relu": (F.relu, torch.relu_),
}


class Activation(nn.Module):
    """An elementwise activation named in :data:`FUNCTIONS`: any shape in, the same shape out.

    ``act(x)`` is out of place. ``act(x, in_place=True)`` writes the result into ``x`` (and returns
    it) unless autograd records ``x`` or the fast paths are off, then it is out of place: only for
    a temporary that nothing else reads afterwards (forward hooks then see the input already
    overwritten, as with ``nn.ReLU(inplace=True)``). ``times=other`` multiplies the result by ``other`` (a gated MLP's
    product), in the same memory.
    """

    def __init__(self, name: str):
        super().__init__()
        self.name = name

    def forward(self, x: torch.Tensor, *, times: torch.Tensor | None = None, in_place: bool = False) -> torch.Tensor:
        out_of_place, in_place_function = FUNCTIONS[self.name]
        if not in_place or not in_place_applies(x, times):
            return out_of_place(x) if times is None else out_of_place(x) * times
        result = in_place_function(x)
        return result if times is None else result.mul_(times)

    def extra_repr(self) -> str:
        return self.name
