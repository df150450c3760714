"""The model shipped in models/shapes-tiny: loads like any checkpoint, answers held-out clips and
images through the real pipeline at the accuracy its card states, and runs the README command."""
from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MODEL = REPO / "models" / "shapes-tiny"
#: The issue's exact-match thresholds per question type.
THRESHOLDS = {"shape": 0.95, "colour": 0.95, "direction": 0.90, "count": 0.85}
PER_TASK = 50  # the whole held-out split of the model card: 150 clips, 50 images

pytestmark = pytest.mark.skipif(not (MODEL / "model.safetensors").is_file(),
                                reason=f"{MODEL} holds no weights; train them with examples/shapes/train.yaml")


@pytest.fixture(scope="module")
def pipe():
    import torch

    from mmplug.core.pipeline import Pipeline

    torch.set_num_threads(1)
    return Pipeline.from_pretrained(MODEL)


def test_weights_are_small_enough_to_ship():
    assert (MODEL / "model.safetensors").stat().st_size <= 25 * 10**6
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                 "chat_template.json", "preprocessor_config.json", "processor_config.json", "README.md"):
        assert (MODEL / name).is_file(), name


@pytest.fixture(scope="module")
def held_out_report(pipe, shapes, tmp_path_factory):
    from mmplug.core.training import evaluate, read_manifest

    # the held-out split the model card reports (seeds never used in training)
    manifest = shapes.write_split(tmp_path_factory.mktemp("heldout"), "test", clips=3 * PER_TASK, images=PER_TASK,
                                  first_seed=shapes.HELD_OUT_SEED, one_question=True)
    samples = read_manifest(manifest)
    assert all(s.meta["seed"] >= shapes.HELD_OUT_SEED for s in samples)
    report = evaluate(pipe, samples, batch_size=10)
    assert dict(report.total) == {task: PER_TASK for task in THRESHOLDS}
    return report


@pytest.mark.parametrize("task", list(THRESHOLDS))
def test_held_out_accuracy(held_out_report, task):
    wrong = [(s.meta["seed"], s.answer(), said) for s, said in held_out_report.predictions
             if s.meta["task"] == task and said != s.answer()]
    assert held_out_report.accuracy(task) >= THRESHOLDS[task], (held_out_report.as_dict(), wrong)


def test_held_out_answers_are_task_words(held_out_report, shapes):
    """Whatever their accuracy, answers are words of the asked kind (the model learned the format)."""
    vocab = {"shape": set(shapes.SHAPES), "colour": set(shapes.COLOURS), "direction": set(shapes.DIRECTIONS),
             "count": {"1", "2", "3"}}
    assert all(said in vocab[s.meta["task"]] for s, said in held_out_report.predictions)


@pytest.mark.parametrize("number", [1, 2])
def test_readme_command_answers_the_shipped_clip(shapes, number, capsys, monkeypatch):
    from mmplug.core.cli.main import main

    monkeypatch.chdir(REPO)
    monkeypatch.setenv("MMPLUG_PROGRESS", "0")
    clip = f"examples/media/shapes-{number}.mp4"
    assert main(["ask", "--model", "models/shapes-tiny", "--video", clip, "Which way does the shape move?"]) == 0
    truth = shapes.make_clip(shapes.DEMO_SEEDS[number - 1]).answers["direction"]
    assert capsys.readouterr().out.strip() == truth
