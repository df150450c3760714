"""Exact-match evaluation through the pipeline."""
from __future__ import annotations


def test_evaluate_counts_per_task_and_can_be_called_again(tiny_data, make_pipeline):
    from mmplug.core.pipeline import Pipeline
    from mmplug.core.training import evaluate, read_manifest

    pipe = Pipeline.from_config(make_pipeline())
    samples = read_manifest(tiny_data / "test.jsonl")
    report = evaluate(pipe, samples, batch_size=3)
    assert dict(report.total) == {"shape": 1, "colour": 1, "direction": 1, "count": 1}
    assert [s.line for s, _ in report.predictions] == [1, 2, 3, 4]
    for sample, said in report.predictions:  # a random model: whatever it says is scored as said
        assert report.correct[sample.meta["task"]] == int(said == sample.answer())
    from mmplug.core.training import evaluate as again  # the function, not a shadowing submodule

    assert callable(again) and again(pipe, samples[:1]).total == {"shape": 1}
