"""A minimal progress bar on stderr, shown only when stderr is a terminal."""
from __future__ import annotations

import os
import sys
import time
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")


def progress_enabled(stream=None) -> bool:
    """On for terminals unless ``MMPLUG_PROGRESS=0``; ``MMPLUG_PROGRESS=1`` forces it on."""
    setting = os.environ.get("MMPLUG_PROGRESS", "").strip()
    if setting in ("0", "1"):
        return setting == "1"
    stream = stream or sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)())


def progress(items: Iterable[T], *, total: int | None = None, description: str = "", stream=None) -> Iterator[T]:
    """Yield ``items`` unchanged, drawing ``description [####    ] 3/8 1.2s`` as they pass."""
    stream = stream or sys.stderr
    if not progress_enabled(stream):
        yield from items
        return
    total = total if total is not None else (len(items) if hasattr(items, "__len__") else None)
    start = time.perf_counter()
    done = 0

    def draw(final: bool = False) -> None:
        elapsed = time.perf_counter() - start
        if total:
            filled = int(24 * done / total)
            bar = f"[{'#' * filled}{' ' * (24 - filled)}] {done}/{total}"
        else:
            bar = f"{done}"
        stream.write(f"\r{description} {bar} {elapsed:.1f}s" + ("\n" if final else ""))
        stream.flush()

    draw()
    for item in items:
        yield item
        done += 1
        draw()
    draw(final=True)
