"""examples/shapes/experiments.py takes its baseline row from a finished training run."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from mmplug.core.training import load_train_config, train

SHAPES_DIR = Path(__file__).resolve().parents[2] / "examples" / "shapes"


def _experiments():
    spec = importlib.util.spec_from_file_location("shapes_experiments", SHAPES_DIR / "experiments.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_baseline_row_comes_from_a_finished_run(tiny_data, tmp_path, make_train_config, capsys):
    run = tmp_path / "run"
    train(load_train_config(make_train_config(tiny_data, run, save_final=True,
                                              stages=[{"steps": 3, "lr": 1e-3}])))
    experiments = _experiments()
    experiments.main(["--baseline-run", str(run), "--report-only", "--out", str(tmp_path / "exp"),
                      "--test", str(tiny_data / "test.jsonl")])
    table = capsys.readouterr().out
    row = next(line for line in table.splitlines() if line.startswith("| baseline"))
    assert "| 3 |" in row  # the run's own step count, read from its metrics
    saved = json.loads((tmp_path / "exp" / "results.json").read_text())
    baseline = saved[next(iter(experiments.VARIANTS))]
    assert baseline["steps"] == 3 and set(baseline["accuracy"]) >= {"all"}
    assert len(saved) == 1  # --report-only trained none of the variants


def test_an_unfinished_run_is_refused(tmp_path):
    with pytest.raises(SystemExit, match="not a finished training run"):
        _experiments().finished_run(tmp_path, "unused.jsonl")
