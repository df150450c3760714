"""Training: ``mmplug train CONFIG`` and the same from Python.

The config (:mod:`.config`) and manifest reader are torch-free; the loop lives in
:mod:`.trainer` and is imported on first use.
"""
from __future__ import annotations

from typing import Any

from mmplug.core.training.config import StageConfig, TrainConfig, load_train_config
from mmplug.core.training.manifest import Sample, read_manifest

__all__ = ["StageConfig", "TrainConfig", "load_train_config", "Sample", "read_manifest", "train", "evaluate"]


def train(config: TrainConfig, *, resume: bool = False, registry: Any = None) -> Any:
    """Run (or resume) a training run; see :func:`mmplug.core.training.trainer.train`."""
    from mmplug.core.training.trainer import train as run

    return run(config, resume=resume, registry=registry)


def evaluate(pipeline: Any, samples: Any, **options: Any) -> Any:
    """Exact-match accuracy of ``pipeline`` on manifest samples; see :mod:`.evaluation`."""
    from mmplug.core.training.evaluation import evaluate as run

    return run(pipeline, samples, **options)
