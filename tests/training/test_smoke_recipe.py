"""The few-step smoke run of docs/training.md works as written: its commands, run in a scratch
folder that sees the repository's examples/, train both stages and leave loadable weights."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def smoke_commands() -> str:
    text = (REPO / "docs" / "training.md").read_text(encoding="utf-8")
    section = text.split("## A few-step smoke run", 1)[1]
    return re.search(r"```bash\n(.*?)```", section, re.S).group(1)


def test_the_documented_smoke_run(tmp_path):
    script = smoke_commands()
    assert "--set stages.0.steps=6" in script and "--set stages.1.steps=6" in script
    script = re.sub(r"^mmplug ", f"{sys.executable} -m mmplug.core.cli.main ", script, flags=re.M)
    script = re.sub(r"^python ", f"{sys.executable} ", script, flags=re.M)
    (tmp_path / "examples").symlink_to(REPO / "examples")
    done = subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "MMPLUG_PROGRESS": "0"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "trained 12 steps" in done.stdout
    run = tmp_path / "build" / "smoke" / "run"
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint-000009", "checkpoint-000012", "final", "metrics.jsonl"]
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 12
    assert (run / "final" / "model.safetensors").is_file()
