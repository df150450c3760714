"""Readable lists of tensor names for error messages, and glob allowances.

``group_keys`` folds layer indices: ``language_model.layers.{0-31}.mlp.up_proj.weight`` and
groups the result under its top-level prefix, so 300 missing keys read as a few lines.
"""
from __future__ import annotations

import fnmatch
import re
from collections import defaultdict
from typing import Iterable

_INDEX = re.compile(r"\.(\d+)\.")


def _ranges(numbers: list[int]) -> str:
    numbers = sorted(set(numbers))
    parts, start = [], numbers[0]
    for prev, cur in zip(numbers, numbers[1:] + [None]):
        if cur != prev + 1 if cur is not None else True:
            parts.append(str(start) if start == prev else f"{start}-{prev}")
            start = cur
    return ",".join(parts)


def fold_indices(keys: Iterable[str]) -> list[str]:
    """Keys with one numeric component folded: ``a.{0-3}.b``; other keys unchanged."""
    groups: dict[str, list[int]] = defaultdict(list)
    plain = []
    for key in keys:
        match = _INDEX.search(key)
        if match is None:
            plain.append(key)
            continue
        pattern = key[:match.start()] + ".{}." + key[match.end():]
        groups[pattern].append(int(match.group(1)))
    folded = [pattern.replace("{}", "{" + _ranges(numbers) + "}") if len(numbers) > 1
              else pattern.replace("{}", str(numbers[0])) for pattern, numbers in groups.items()]
    return sorted(folded + plain)


def group_keys(keys: Iterable[str], *, limit: int = 12) -> str:
    """Multi-line text: one line per top-level prefix with its count and folded names."""
    by_prefix: dict[str, list[str]] = defaultdict(list)
    for key in keys:
        by_prefix[key.split(".", 1)[0]].append(key)
    lines = []
    for prefix, members in sorted(by_prefix.items()):
        folded = fold_indices(members)
        shown = ", ".join(folded[:limit]) + (f", ... ({len(folded) - limit} more)" if len(folded) > limit else "")
        lines.append(f"  {prefix}.* ({len(members)}): {shown}")
    return "\n".join(lines)


def allowed(names: Iterable[str], patterns: Iterable[str]) -> bool:
    """Whether any of ``names`` (e.g. a model key and its checkpoint key) matches a glob."""
    patterns = list(patterns)
    return any(fnmatch.fnmatchcase(name, pattern) for name in names for pattern in patterns)
