"""Training metrics as JSON lines (one object per logged step), resumable."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class MetricsLog:
    """Append-only ``metrics.jsonl``; on resume, lines past the resumed step are dropped so the
    curve continues exactly where the checkpoint left it."""

    def __init__(self, path: Path, *, resume_step: int | None = None):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        kept = [r for r in read_metrics(self.path) if resume_step is not None and r.get("step", 0) <= resume_step]
        self.path.write_text("".join(json.dumps(r) + "\n" for r in kept), encoding="utf-8")

    def write(self, record: dict[str, Any]) -> None:
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")


def read_metrics(path: str | Path) -> list[dict[str, Any]]:
    """Every complete record of a metrics file (a torn last line from a kill is skipped)."""
    path = Path(path)
    if not path.is_file():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue
    return records
