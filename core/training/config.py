"""The training config (``mmplug train CONFIG``): what to train, on which manifest, how.

Torch-free. Relative paths are read from the working directory, like every mmplug config::

    pipeline: examples/shapes/pipeline.yaml   # a pipeline config file, preset name or inline mapping
    train_manifest: data/shapes/train.jsonl
    output_dir: runs/shapes-tiny
    seed: 0
    batch_size: 16
    grad_accum_steps: 1
    stages:
      - {name: projector, steps: 100, lr: 1.0e-3, warmup_steps: 10, train: [projector]}
      - {name: full, steps: 900, lr: 5.0e-4, warmup_steps: 50}
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal, Mapping

from pydantic import Field, ValidationError, model_validator

from mmplug.core.config import MODEL_SECTIONS, apply_overrides, plain_copy, read_config_file
from mmplug.core.dtypes import DType
from mmplug.core.errors import ConfigError
from mmplug.core.options import PluginOptions, pydantic_issues

Part = Literal["vision_encoder", "video_encoder", "projector", "language_model"]
Objective = Literal["next_token", "bag_of_words"]


class StageConfig(PluginOptions):
    """One training stage: its own AdamW (linear warm-up, cosine decay) over the ``train`` parts."""

    name: str = "train"
    steps: int = Field(ge=1, description="Optimizer steps in this stage.")
    lr: float = Field(gt=0, description="Peak learning rate (reached after warm-up).")
    warmup_steps: int = Field(default=0, ge=0)
    min_lr_ratio: float = Field(default=0.1, ge=0, le=1, description="Cosine decays to lr * min_lr_ratio.")
    weight_decay: float = Field(default=0.01, ge=0)
    betas: tuple[float, float] = (0.9, 0.999)
    train: list[Part] = Field(default_factory=lambda: list(MODEL_SECTIONS),
                              description="Parts whose weights this stage updates; the others are frozen.")
    lr_scale: dict[Part, float] = Field(default_factory=dict, description=(
        "Per-part multipliers of lr, e.g. {vision_encoder: 0.1}: a part an earlier stage taught keeps "
        "learning, slowly, instead of being frozen or trained at full speed. Unnamed parts: 1."))
    objective: Objective = Field(default="next_token", description=(
        "next_token: cross-entropy of the assistant text (the decoder runs). bag_of_words: each sample's "
        "media tokens, projected and mean-pooled, through the language model's output head, scored "
        "against every token of its answers (vision-side pretraining; the decoder layers do not run)."))
    train_manifest: Path | None = Field(default=None, description=(
        "This stage's own JSONL manifest (null: the run's train_manifest). A stage with other data "
        "than the stage before starts its own data order."))
    batch_size: int | None = Field(default=None, ge=1, description="Samples per micro-batch in this stage "
                                                                   "(null: the run's batch_size).")

    @model_validator(mode="after")
    def _check(self) -> "StageConfig":
        if self.warmup_steps >= self.steps:
            raise ValueError(f"warmup_steps ({self.warmup_steps}) must be smaller than steps ({self.steps})")
        if not self.train:
            raise ValueError("'train' lists no part; name at least one of " + ", ".join(MODEL_SECTIONS))
        untrained = sorted(set(self.lr_scale) - set(self.train))
        if untrained:
            raise ValueError(f"lr_scale names {untrained}, which this stage does not train (train: {self.train})")
        bad = {part: scale for part, scale in self.lr_scale.items() if not scale > 0}
        if bad:
            raise ValueError(f"lr_scale must be > 0 (freeze a part by leaving it out of 'train'): {bad}")
        return self


class TrainConfig(PluginOptions):
    """A whole training run."""

    pipeline: str | dict[str, Any] = Field(description="Pipeline config: a file, a preset name or a mapping.")
    init_from: Path | None = Field(default=None, description="Start from this checkpoint directory's weights "
                                                            "instead of a random initialisation.")
    init_std: float | None = Field(default=None, gt=0, description=(
        "Re-initialise every Linear/Conv/Embedding weight from N(0, init_std) with zero biases before "
        "training from scratch (e.g. 0.02, as GPT-2); null keeps the parts' own initialisation."))
    train_manifest: Path = Field(description="JSONL manifest: one {video|image, conversations} per line.")
    output_dir: Path
    seed: int = 0
    batch_size: int = Field(default=8, ge=1, description="Samples per micro-batch.")
    grad_accum_steps: int = Field(default=1, ge=1, description="Micro-batches per optimizer step.")
    group_by_media: bool = Field(default=False, description=(
        "Batch together samples with the same numbers of videos, images and turns (less padding: "
        "a still image is not padded to a clip's length); each sample still comes once per epoch."))
    max_grad_norm: float | None = Field(default=1.0, gt=0, description="Clip the global gradient norm; null: off.")
    stages: list[StageConfig] = Field(min_length=1)
    log_every: int = Field(default=10, ge=1)
    save_every: int = Field(default=0, ge=0, description="Checkpoint every N steps (0: only at the end).")
    keep_checkpoints: int = Field(default=2, ge=1)
    save_final: bool = Field(default=True, description="Write output_dir/final (save_pretrained layout).")
    final_dtype: DType = "float32"
    threads: int | None = Field(default=None, ge=1, description="torch CPU threads (None: torch's default).")
    device: str = "cpu"

    def stage_data(self, index: int) -> tuple[Path, int]:
        """(manifest, batch size) that stage ``index`` reads."""
        stage = self.stages[index]
        return stage.train_manifest or self.train_manifest, stage.batch_size or self.batch_size

    @property
    def total_steps(self) -> int:
        return sum(stage.steps for stage in self.stages)

    def stage_at(self, step: int) -> tuple[int, int]:
        """(stage index, step inside the stage) of global step ``step`` (0-based)."""
        for index, stage in enumerate(self.stages):
            if step < stage.steps:
                return index, step
            step -= stage.steps
        raise ValueError(f"step {step} is past the last stage")


def load_train_config(source: str | os.PathLike[str] | Mapping[str, Any],
                      overrides: list[str] | Mapping[str, Any] | None = None) -> TrainConfig:
    """A validated :class:`TrainConfig` from a YAML/JSON/TOML file or a mapping.

    ``overrides``: ``["seed=1", "stages.0.steps=6", "pipeline.language_model.name=mistral"]`` (a
    ``pipeline`` given as a file is read first, so its keys can be overridden too).
    """
    label = None if isinstance(source, Mapping) else str(source)
    data = plain_copy(source) if isinstance(source, Mapping) else read_config_file(source)
    if overrides:
        keys = overrides.keys() if isinstance(overrides, Mapping) else [o.partition("=")[0] for o in overrides]
        if any(k.strip().startswith("pipeline.") for k in keys) and isinstance(data.get("pipeline"), str):
            data["pipeline"] = _read_pipeline(data["pipeline"])
        data = apply_overrides(data, overrides)
    try:
        return TrainConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(pydantic_issues(exc, "", TrainConfig), label) from None


def _read_pipeline(name: str) -> dict[str, Any]:
    if Path(name).suffix.lower() in (".yaml", ".yml", ".json", ".toml") or Path(name).exists():
        return read_config_file(name)
    from mmplug.registry import get_registry

    return plain_copy(get_registry().preset(name).load(), "pipeline", f"preset {name!r}")
