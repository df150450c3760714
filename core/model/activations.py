"""The activation functions parts may name in their options (a small, closed table).

The names are torch-free so option models can validate them; :func:`build_activation`
imports torch only when a part is built.
"""
from __future__ import annotations

import difflib
from typing import Annotated, Any

from pydantic import AfterValidator

#: name -> what it computes (shown in error messages and docs).
ACTIVATIONS: dict[str, str] = {
    "gelu": "exact GELU, x * Phi(x)",
    "gelu_pytorch_tanh": "GELU, tanh approximation",
    "gelu_new": "GELU, tanh approximation (alias)",
    "quick_gelu": "x * sigmoid(1.702 x) (CLIP)",
    "silu": "x * sigmoid(x)",
    "swish": "x * sigmoid(x) (alias of silu)",
    "relu": "max(x, 0)",
}


def check_activation(name: str) -> str:
    """``name`` if it is in the table; otherwise ValueError with the close matches."""
    if name in ACTIVATIONS:
        return name
    close = difflib.get_close_matches(str(name), list(ACTIVATIONS), n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(sorted(ACTIVATIONS))}"
    raise ValueError(f"unknown activation {name!r}{hint}")


#: The option type of every activation setting: a name from :data:`ACTIVATIONS`, checked
#: with :func:`check_activation` (close matches in the error).
ActivationName = Annotated[str, AfterValidator(check_activation)]


def build_activation(name: str) -> Any:
    """A ``torch.nn.Module`` computing the named activation (elementwise, any shape); see
    :class:`mmplug.core.model.activation_layer.Activation` for its in-place variants."""
    from mmplug.core.model.activation_layer import Activation

    return Activation(check_activation(name))
