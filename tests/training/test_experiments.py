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


def test_recipe_for_shares_steps_and_sets_threads(tmp_path):
    experiments = _experiments()
    recipe = experiments.recipe_for(None, None, tmp_path)
    shortened = experiments.recipe_for(600, 1, tmp_path)
    full_steps = [stage["steps"] for stage in recipe["stages"]]
    short_steps = [stage["steps"] for stage in shortened["stages"]]
    assert sum(short_steps) == 600 and short_steps != full_steps
    assert short_steps[0] / short_steps[1] == pytest.approx(full_steps[0] / full_steps[1], rel=0.01)
    assert all(stage["warmup_steps"] <= stage["steps"] // 10 for stage in shortened["stages"])
    assert shortened["threads"] == 1 and recipe["threads"] == experiments.yaml.safe_load(
        (SHAPES_DIR / "train.yaml").read_text())["threads"]
    assert (shortened["save_every"], shortened["save_final"]) == (0, False)
    load_train_config(shortened)  # still a valid training config


@pytest.mark.parametrize("override", ["vision_encoder.name=siglip", "language_model.name=qwen2"])
def test_new_backbone_variants_train(override, tiny_data, tmp_path, make_train_config, make_pipeline):
    """Variants (d) and (e): the one-line swap resolves, builds the named part and trains (loss falls)."""
    assert override in _experiments().VARIANTS.values()
    key, _, name = override.partition("=")
    pipeline = make_pipeline(**{key: name})
    result = train(load_train_config(make_train_config(tiny_data, tmp_path / "run", pipeline=pipeline,
                                                       stages=[{"steps": 6, "lr": 3e-3, "warmup_steps": 1}])))
    section = key.split(".")[0]
    assert result.pipeline.resolved.parts[section].spec.name == name
    losses = [json.loads(line)["loss"] for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
              if '"loss"' in line]
    assert result.steps == 6 and losses[-1] < losses[0]
