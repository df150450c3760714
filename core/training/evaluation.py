"""Exact-match evaluation of a pipeline on manifest samples, through the real inference path
(files -> decoder -> sampler -> processor -> model -> greedy generate)."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Sequence

from mmplug.core.errors import ConfigError, ConfigIssue
from mmplug.core.progress import progress
from mmplug.core.training.manifest import Sample, message_text


def task_of(sample: Sample) -> str:
    """The sample's task: its manifest ``task`` key, or "all"."""
    return str(sample.meta.get("task", "all"))


@dataclass
class EvalReport:
    """Per-task counts (task = the manifest's ``task`` key, or "all") and every prediction."""

    correct: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    total: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    predictions: list[tuple[Sample, str]] = field(default_factory=list)

    def record(self, sample: Sample, predicted: str, expected: str) -> None:
        """Count one answer of ``sample`` under its task."""
        task = task_of(sample)
        self.total[task] += 1
        self.correct[task] += int(predicted == expected)
        self.predictions.append((sample, predicted))

    def accuracy(self, task: str | None = None) -> float:
        """Fraction correct for ``task`` (None: over all samples)."""
        if task is None:
            return sum(self.correct.values()) / max(sum(self.total.values()), 1)
        return self.correct[task] / max(self.total[task], 1)

    def as_dict(self) -> dict[str, float]:
        return {task: self.accuracy(task) for task in sorted(self.total)}


def _question(sample: Sample) -> str:
    users = [turn for turn in sample.question_turns() if turn["role"] == "user"]
    if len(users) != 1:
        raise ConfigError([ConfigIssue(f"line {sample.line}", "evaluation takes single-turn samples (one user "
                                                              f"question, then the answer); found {len(users)} "
                                                              "user turns")])
    return message_text(users[0]["content"])


def evaluate(pipeline: Any, samples: Sequence[Sample], *, batch_size: int = 8, max_new_tokens: int = 4,
             normalise: Any = str.strip) -> EvalReport:
    """Greedy answers to each sample's question compared with its answer after ``normalise``."""
    report = EvalReport()
    batches = [samples[i:i + batch_size] for i in range(0, len(samples), batch_size)]
    for batch in progress(batches, description="evaluate"):
        images = [[str(p) for p in s.images] or None for s in batch]
        videos = [[str(p) for p in s.videos] or None for s in batch]
        if len(batch) == 1:  # generate() reads a one-prompt batch's media as that prompt's own list
            images, videos = images[0], videos[0]
        outputs = pipeline.generate([_question(s) for s in batch], images=images if any(images or []) else None,
                                    videos=videos if any(videos or []) else None, max_new_tokens=max_new_tokens)
        for sample, output in zip(batch, outputs):
            report.record(sample, normalise(output.text), normalise(sample.answer()))
    return report
