"""Gradient checkpointing for stacks of layers (recompute activations in backward)."""
from __future__ import annotations

from typing import Any, Callable

import torch
from torch.utils.checkpoint import checkpoint


def run_layer(layer: Callable[..., Any], *args: Any, checkpointing: bool) -> Any:
    """``layer(*args)``, through activation checkpointing when ``checkpointing`` and grad is on."""
    if checkpointing and torch.is_grad_enabled():
        return checkpoint(layer, *args, use_reentrant=False)
    return layer(*args)
