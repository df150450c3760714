"""The loop's state survives a checkpoint exactly: a run stopped inside a stage that reads its own
batch size (its own data order, gradient accumulation) and resumed from the checkpoint ends with
the same weights, bit for bit, and the same metrics as the uninterrupted run."""
from __future__ import annotations

import torch

from mmplug.core.training import load_train_config, train
from mmplug.core.training.metrics import read_metrics
from mmplug.core.training.state import list_checkpoints, read_state


def _config(tiny_data, output, make_train_config, second_stage_steps: int):
    return load_train_config(make_train_config(tiny_data, output, save_every=2, grad_accum_steps=2, stages=[
        {"name": "a", "steps": 3, "lr": 3e-3, "warmup_steps": 1, "train": ["projector"]},
        {"name": "b", "steps": second_stage_steps, "lr": 1e-3, "batch_size": 3, "warmup_steps": 1}]))


def _without_timings(records):
    return [{k: v for k, v in r.items() if k not in ("samples_per_s", "elapsed_s")} for r in records]


def test_resume_inside_a_stage_with_its_own_data_is_bit_identical(tiny_data, tmp_path, make_train_config):
    full = train(_config(tiny_data, tmp_path / "full", make_train_config, 4))
    train(_config(tiny_data, tmp_path / "run", make_train_config, 2))  # stops after step 5
    saved = read_state(list_checkpoints(tmp_path / "run")[-1])
    assert saved.position.step == 4 and saved.checkpoint.name == "checkpoint-000004"  # inside stage b
    resumed = train(_config(tiny_data, tmp_path / "run", make_train_config, 4), resume=True)
    assert resumed.steps == full.steps == 7
    expected, got = full.pipeline.model.state_dict(), resumed.pipeline.model.state_dict()
    assert expected.keys() == got.keys() and all(torch.equal(expected[n], got[n]) for n in expected)
    curve = _without_timings(read_metrics(tmp_path / "run" / "metrics.jsonl"))
    assert [r["step"] for r in curve] == list(range(1, 8))
    assert curve == _without_timings(read_metrics(tmp_path / "full" / "metrics.jsonl"))
