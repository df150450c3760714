"""Kill a training run (a subprocess) after a checkpoint, resume it, and check that the step and
the loss curve continue exactly as in an uninterrupted run (everything is seeded)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from mmplug.core.training.metrics import read_metrics
from mmplug.core.training.state import list_checkpoints

STEPS = 40


def _config(tiny_data, output, make_train_config):
    config = make_train_config(tiny_data, output, save_every=4, keep_checkpoints=3,
                               stages=[{"name": "a", "steps": 16, "lr": 3e-3, "warmup_steps": 2},
                                       {"name": "b", "steps": STEPS - 16, "lr": 1e-3, "train": ["projector",
                                                                                              "language_model"]}])
    path = output.parent / f"{output.name}.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def _train(config_path, *extra):
    command = [sys.executable, "-m", "mmplug.core.cli.main", "train", str(config_path), *extra]
    if not _has_train_command():
        command = [sys.executable, "-c", "import sys; from mmplug.core.cli import train; import argparse; "
                   "p = argparse.ArgumentParser(); s = p.add_subparsers(); train.register(s); "
                   "a = p.parse_args(sys.argv[1:]); sys.exit(a.handler(a))", "train", str(config_path), *extra]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env={**os.environ, "MMPLUG_PROGRESS": "0"})


def _has_train_command() -> bool:
    from mmplug.core.cli.main import COMMANDS

    return "train" in COMMANDS


def test_kill_and_resume_continues_the_loss_curve(tiny_data, tmp_path, make_train_config):
    reference = _train(_config(tiny_data, tmp_path / "reference", make_train_config))
    output = tmp_path / "interrupted"
    interrupted = _train(_config(tiny_data, output, make_train_config))
    deadline = time.monotonic() + 120
    while not list_checkpoints(output) and interrupted.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    interrupted.send_signal(signal.SIGKILL)
    interrupted.wait()
    assert interrupted.returncode == -signal.SIGKILL, interrupted.stdout.read().decode()
    killed_at = max(r["step"] for r in read_metrics(output / "metrics.jsonl"))
    assert killed_at < STEPS, "the run finished before it could be killed"
    saved = int(list_checkpoints(output)[-1].name.split("-")[1])
    assert saved >= 4
    assert reference.wait(timeout=300) == 0, reference.stdout.read().decode()

    resumed = _train(output.parent / "interrupted.json", "--resume")
    assert resumed.wait(timeout=300) == 0, resumed.stdout.read().decode()
    expected = read_metrics(tmp_path / "reference" / "metrics.jsonl")
    curve = read_metrics(output / "metrics.jsonl")
    assert [r["step"] for r in curve] == list(range(1, STEPS + 1))  # no step twice, none missing
    assert [r["stage"] for r in curve] == [r["stage"] for r in expected]
    assert [r["loss"] for r in curve] == pytest.approx([r["loss"] for r in expected], rel=1e-4, abs=1e-5)
    assert [r["lr"] for r in curve] == pytest.approx([r["lr"] for r in expected])
    assert curve[saved]["loss"] != curve[0]["loss"]  # the resumed part did not restart training
