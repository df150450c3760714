"""Build one mmplug part alone (options validated, an attention backend bound) and copy a
transformers module's weights into it: the helpers of the per-part parity tests."""
from __future__ import annotations

from typing import Any

import torch

from mmplug.core.context import BuildContext
from mmplug.registry import Kind, discover

from .reference import randomize


def build_part_alone(kind: Kind, name: str, options: dict[str, Any], attention: str = "eager") -> Any:
    """The ``kind``/``name`` part built from ``options`` with the ``attention`` backend (fp32, eval)."""
    registry = discover()
    backend = registry.build(Kind.ATTENTION, attention, {})
    return registry.build(kind, name, options, BuildContext(section=kind.value, attention=backend)).eval()


def copy_weights(reference: torch.nn.Module, ours: torch.nn.Module, rules: list[tuple[str, str]],
                 seed: int = 0) -> None:
    """Randomise ``reference`` and load its state (keys renamed by the first matching
    (reference prefix, our prefix) rule) into ``ours``, strictly."""
    randomize(reference, seed)
    state = {}
    for key, value in reference.state_dict().items():
        for old, new in rules:
            if key.startswith(old):
                key = new + key[len(old):]
                break
        state[key] = value
    ours.load_state_dict(state, strict=True)
