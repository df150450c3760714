"""Seeded random initialisation that leaves the caller's random state as it was."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator


@contextmanager
def seeded(seed: int | None, device: Any) -> Iterator[None]:
    """Inside, torch's CPU generator and the generator of ``device`` start from ``seed``, so
    the same seed builds the same random weights; on leaving, their states are restored.
    Does nothing for ``seed=None`` (the global random state is used as is) or the meta device."""
    import torch

    where = torch.device(device)
    if seed is None or where.type == "meta":
        yield
        return
    cuda = [where.index if where.index is not None else torch.cuda.current_device()] if where.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda):
        torch.default_generator.manual_seed(seed)
        for index in cuda:
            with torch.cuda.device(index):
                torch.cuda.manual_seed(seed)
        if where.type not in ("cpu", "cuda"):
            torch.manual_seed(seed)  # other accelerators: seeds every device's generator
        yield
