"""Learning-rate schedule: linear warm-up, then cosine decay to a floor."""
from __future__ import annotations

import math


def warmup_cosine(step: int, *, total_steps: int, warmup_steps: int, min_ratio: float) -> float:
    """Multiplier of the peak learning rate for optimizer step ``step`` (0-based).

    Rises linearly over ``warmup_steps`` (step 0 gets 1/warmup), reaches 1 at the end of
    warm-up, then follows a half cosine down to ``min_ratio`` at ``total_steps - 1``.
    """
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    span = max(total_steps - 1 - warmup_steps, 1)
    progress = min((step - warmup_steps) / span, 1.0)
    return min_ratio + (1.0 - min_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))
