"""The learning-rate schedule and the training config's validation."""
from __future__ import annotations

import math

import pytest

from mmplug.core.errors import ConfigError
from mmplug.core.training import load_train_config
from mmplug.core.training.schedule import warmup_cosine


def test_warmup_rises_linearly_to_the_peak():
    values = [warmup_cosine(s, total_steps=100, warmup_steps=10, min_ratio=0.1) for s in range(10)]
    assert values == pytest.approx([(s + 1) / 10 for s in range(10)])
    assert warmup_cosine(10, total_steps=100, warmup_steps=10, min_ratio=0.1) == pytest.approx(1.0)


def test_cosine_decays_to_the_floor_monotonically():
    values = [warmup_cosine(s, total_steps=100, warmup_steps=10, min_ratio=0.1) for s in range(10, 100)]
    assert all(a >= b for a, b in zip(values, values[1:]))
    assert values[-1] == pytest.approx(0.1)
    middle = 10 + (99 - 10) / 2  # half way through the decay the cosine term is 0.5
    assert warmup_cosine(int(middle), total_steps=100, warmup_steps=10, min_ratio=0.1) == pytest.approx(
        0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * (int(middle) - 10) / 89)))


def _base(**changes):
    data = {"pipeline": "tiny-random", "train_manifest": "m.jsonl", "output_dir": "out",
            "stages": [{"steps": 10, "lr": 1e-3}]}
    data.update(changes)
    return data


def test_stage_lookup_spans_stages():
    config = load_train_config(_base(stages=[{"name": "a", "steps": 3, "lr": 1e-3},
                                             {"name": "b", "steps": 2, "lr": 1e-4, "train": ["projector"]}]))
    assert config.total_steps == 5
    assert [config.stage_at(s) for s in range(5)] == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1)]


@pytest.mark.parametrize("changes, where", [
    ({"stages": [{"steps": 5, "lr": 1e-3, "warmup_steps": 5}]}, "warmup_steps"),
    ({"stages": [{"steps": 5, "lr": 1e-3, "train": ["tokenizer"]}]}, "stages.0.train"),
    ({"stages": []}, "stages"),
    ({"batch_sise": 4}, "batch_sise"),
    ({"stages": [{"steps": 5, "lr": 1e-3, "train": ["projector"], "lr_scale": {"vision_encoder": 0.1}}]},
     "does not train"),
    ({"stages": [{"steps": 5, "lr": 1e-3, "lr_scale": {"vision_encoder": 0.0}}]}, "lr_scale must be > 0"),
    ({"stages": [{"steps": 5, "lr": 1e-3, "lr_scale": {"tower": 0.5}}]}, "stages.0.lr_scale"),
])
def test_bad_configs_name_the_key(changes, where):
    with pytest.raises(ConfigError) as error:
        load_train_config(_base(**changes))
    assert where in str(error.value)


def test_overrides_reach_into_a_pipeline_file(tmp_path):
    pipeline = tmp_path / "pipe.yaml"
    pipeline.write_text("language_model:\n  name: llama\n  hidden_size: 8\n", encoding="utf-8")
    config = load_train_config(_base(pipeline=str(pipeline)), ["pipeline.language_model.name=mistral", "seed=3"])
    assert config.pipeline["language_model"] == {"name": "mistral", "hidden_size": 8}
    assert config.seed == 3
