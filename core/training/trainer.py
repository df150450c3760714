"""The training loop: seeded, AdamW with warm-up + cosine decay per stage, gradient
accumulation and clipping, metrics JSONL, checkpoints and resume.

    from mmplug.core.training import load_train_config, train
    result = train(load_train_config("examples/shapes/train.yaml"), resume=True)
"""
from __future__ import annotations

import copy
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mmplug.core.config import MODEL_SECTIONS
from mmplug.core.errors import CheckpointError, ConfigError, ConfigIssue
from mmplug.core.progress import progress
from mmplug.core.training.config import StageConfig, TrainConfig
from mmplug.core.training.data import DataOrder, MediaCache, media_group, training_batch
from mmplug.core.training.manifest import Sample, read_manifest
from mmplug.core.training.metrics import MetricsLog
from mmplug.core.training.objectives import special_token_ids, stage_loss
from mmplug.core.training.schedule import warmup_cosine
from mmplug.core.training.state import (SavedState, TrainingState, list_checkpoints, read_state,
                                        restore_optimizer, restore_rng, save_checkpoint)


@dataclass
class TrainResult:
    """What a run produced: the trained pipeline, steps done, last loss, seconds spent in the loop."""

    pipeline: Any
    steps: int
    last_loss: float | None
    train_seconds: float
    final_dir: Path | None


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def load_model_weights(model: torch.nn.Module, directory: Path) -> None:
    """Fill ``model`` in place from a save_pretrained directory (a shared image tower ignores the
    video-tower copy the published layout always carries)."""
    from mmplug.core.checkpoint import load_weights

    unused = ["video_encoder.*", "video_tower.*"] if getattr(model, "video_encoder", None) is None else []
    load_weights(model, directory, allow_unused=unused, device=str(next(model.parameters()).device))


@torch.no_grad()
def reinitialise(model: torch.nn.Module, std: float) -> None:
    """Weights of Linear, Conv and Embedding modules from N(0, std), their biases to zero; other
    parameters (norms, learned tokens) keep their initialisation."""
    for module in model.modules():
        if isinstance(module, (torch.nn.Linear, torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Embedding)):
            module.weight.normal_(0.0, std)
            bias = getattr(module, "bias", None)
            if bias is not None:
                bias.zero_()


def set_trainable(model: torch.nn.Module, stage: StageConfig, frozen: list[str]) -> None:
    """requires_grad on the stage's parts only (parameters outside every part stay trainable)."""
    clash = sorted(set(stage.train) & set(frozen))
    if clash:
        raise ConfigError([ConfigIssue(f"stages.{stage.name}.train", (
            f"trains {clash} but the pipeline's multimodal.freeze freezes them; remove them from one of the two"))])
    for section in MODEL_SECTIONS:
        part = getattr(model, section, None)
        if part is not None:
            part.requires_grad_(section in stage.train)
    if not any(p.requires_grad for p in model.parameters()):
        raise ConfigError([ConfigIssue(f"stages.{stage.name}.train", f"none of {stage.train} exists in this model")])


def parameter_groups(model: torch.nn.Module, stage: StageConfig) -> list[dict[str, Any]]:
    """AdamW groups of the trainable parameters: per part (its ``lr_scale``), weight decay on
    matrices only (not on norms and biases). Each group carries its ``lr_scale``."""
    seen: set[int] = set()
    groups: list[dict[str, Any]] = []

    def add(params: list[torch.nn.Parameter], scale: float) -> None:
        fresh = [p for p in params if p.requires_grad and id(p) not in seen]
        seen.update(id(p) for p in fresh)
        for decay in (True, False):
            chosen = [p for p in fresh if (p.dim() >= 2) == decay]
            if chosen:
                groups.append({"params": chosen, "weight_decay": stage.weight_decay if decay else 0.0,
                               "lr_scale": scale})

    for section in MODEL_SECTIONS:
        part = getattr(model, section, None)
        if part is not None:
            add(list(part.parameters()), stage.lr_scale.get(section, 1.0))
    add(list(model.parameters()), 1.0)  # parameters outside every part
    return groups


def make_optimizer(model: torch.nn.Module, stage: StageConfig) -> torch.optim.AdamW:
    """AdamW over the stage's trainable parameters (see :func:`parameter_groups`)."""
    return torch.optim.AdamW(parameter_groups(model, stage), lr=stage.lr, betas=stage.betas)


@dataclass
class RunContext:
    """What one run of the loop works with, fixed from the first step to the last."""

    pipe: Any  # the Pipeline being trained
    manifests: dict[Path, list[Sample]]  # every stage's samples, read once
    media: MediaCache
    ignore_ids: set[int]  # special tokens no loss is computed on
    log: MetricsLog
    frozen: list[str]  # parts the pipeline's multimodal.freeze keeps frozen in every stage
    started: float  # perf_counter() when the loop began


@dataclass
class LoopState:
    """Where the loop stands between two steps."""

    done: TrainingState  # steps done, and the data position of the next sample
    resumed: SavedState | None = None  # the checkpoint's optimizer and RNG, until the first stage is entered
    stage_index: int | None = None  # the stage the optimizer belongs to
    optimizer: torch.optim.Optimizer | None = None
    part_scales: list[float] = field(default_factory=list)  # lr multiplier of each optimizer group
    data: tuple[Path, int] | None = None  # (manifest, batch size) that ``order`` runs over
    order: DataOrder | None = None
    loss: float | None = None  # of the last step

    @property
    def batch_size(self) -> int:
        return self.data[1]


class Trainer:
    """One training run of ``config``; :meth:`run` trains (or resumes) and returns a TrainResult."""

    def __init__(self, config: TrainConfig, *, registry: Any = None):
        self.config = config
        self.registry = registry
        self.output_dir = Path(config.output_dir)

    def build(self) -> Any:
        from mmplug.core.pipeline import Pipeline

        pipe = Pipeline.from_config(self.config.pipeline, device=self.config.device, registry=self.registry)
        if pipe.processor is None:
            raise ConfigError([ConfigIssue("pipeline.tokenizer", "training needs a processor: add tokenizer, "
                                                                 "chat_template and image_processor sections")])
        if self.config.init_std is not None:
            reinitialise(pipe.model, self.config.init_std)
        if self.config.init_from is not None:
            load_model_weights(pipe.model, Path(self.config.init_from))
        return pipe

    def run(self, *, resume: bool = False) -> TrainResult:
        cfg = self.config
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        seed_everything(cfg.seed)
        context, loop = self._prepare(resume)
        for step in progress(range(loop.done.step, cfg.total_steps), total=cfg.total_steps - loop.done.step,
                             description="train"):
            index, inner = cfg.stage_at(step)
            if index != loop.stage_index:
                self._enter_stage(context, loop, index, inner)
            record = self._train_step(context, loop, step, inner)
            self._log_and_save(context, loop, record)
        seconds = time.perf_counter() - context.started
        context.pipe.model.eval()
        return TrainResult(context.pipe, loop.done.step, loop.loss, seconds, self._finish(context, loop))

    def _prepare(self, resume: bool) -> tuple[RunContext, LoopState]:
        """Build the pipeline, read the manifests, find where to start; the model in train mode."""
        pipe = self.build()
        manifests = self._read_manifests()
        media = MediaCache(pipe)
        loop = self._start(pipe.model, resume)
        ignore_ids = special_token_ids(pipe.processor)
        resume_step = loop.done.step if loop.resumed is not None else None
        log = MetricsLog(self.output_dir / "metrics.jsonl", resume_step=resume_step)
        frozen = list(pipe.resolved.config.multimodal.freeze)
        pipe.model.train()
        return RunContext(pipe, manifests, media, ignore_ids, log, frozen, time.perf_counter()), loop

    def _start(self, model: torch.nn.Module, resume: bool) -> LoopState:
        """Where to start: step 0, or the newest checkpoint (weights loaded) when resuming."""
        checkpoints = list_checkpoints(self.output_dir)
        if checkpoints and not resume:
            raise CheckpointError(f"{self.output_dir} already holds {checkpoints[-1].name}; pass --resume "
                                  "(resume=True) to continue it, or choose another output_dir")
        if not checkpoints:
            return LoopState(TrainingState())
        saved = read_state(checkpoints[-1])
        if saved.position.step >= self.config.total_steps:
            raise CheckpointError(f"{checkpoints[-1]} is at step {saved.position.step}: the run of "
                                  f"{self.config.total_steps} steps is already complete (raise the stages' steps "
                                  "to train further)")
        load_model_weights(model, checkpoints[-1])
        return LoopState(saved.position, resumed=saved)

    def _read_manifests(self) -> dict[Path, list[Sample]]:
        """Every stage's manifest, read and checked once before training starts."""
        cfg = self.config
        manifests: dict[Path, list[Sample]] = {}
        for index, stage in enumerate(cfg.stages):
            path = cfg.stage_data(index)[0]
            if path not in manifests:
                manifests[path] = read_manifest(path)
            if stage.objective == "bag_of_words":
                bare = next((s for s in manifests[path] if not s.images and not s.videos), None)
                if bare is not None:
                    raise ConfigError([ConfigIssue(f"stages.{index}.objective", (
                        f"{path} line {bare.line} has no image or video, and bag_of_words learns from media "
                        "only; give this stage a manifest of media samples (train_manifest)"))])
        return manifests

    def _enter_stage(self, context: RunContext, loop: LoopState, index: int, inner: int) -> None:
        """Stage ``index`` begins at its step ``inner`` (> 0 when resuming inside it): its trainable
        parts, a fresh AdamW (with the checkpoint's moments when they belong to this stage), the
        checkpoint's RNG, and its own data order when it reads other data than the stage before."""
        cfg = self.config
        stage, model = cfg.stages[index], context.pipe.model
        set_trainable(model, stage, context.frozen)
        loop.stage_index, loop.optimizer = index, make_optimizer(model, stage)
        loop.part_scales = [group["lr_scale"] for group in loop.optimizer.param_groups]  # the config's
        resumed, loop.resumed = loop.resumed, None
        if resumed is not None:  # the saved moments belong to the stage of the step before
            if cfg.stage_at(resumed.position.step - 1)[0] == index:
                restore_optimizer(loop.optimizer, resumed.meta, resumed.tensors, resumed.checkpoint)
            restore_rng(resumed.meta, resumed.tensors)
        if cfg.stage_data(index) != loop.data:
            loop.data = cfg.stage_data(index)
            samples = context.manifests[loop.data[0]]
            context.media.preload(samples)
            # resuming: the saved data position belongs to this order unless it was another stage's
            continues = inner > 0 or (index > 0 and cfg.stage_data(index - 1) == loop.data)
            epoch, position = (loop.done.epoch, loop.done.position) if resumed is not None and continues else (0, 0)
            loop.order = self._data_order(samples, loop.batch_size, epoch, position)

    def _data_order(self, samples: list[Sample], batch_size: int, epoch: int, position: int) -> DataOrder:
        groups = [media_group(sample) for sample in samples] if self.config.group_by_media else None
        return DataOrder(len(samples), self.config.seed, epoch, position, groups=groups, batch_size=batch_size)

    def _train_step(self, context: RunContext, loop: LoopState, step: int, inner: int) -> dict[str, Any]:
        """Optimisation step ``step`` (the stage's ``inner``-th): the scheduled learning rate, the
        next micro-batches, one AdamW step. Updates ``loop``; returns the step's metrics record."""
        cfg = self.config
        stage = cfg.stages[loop.stage_index]
        scale = warmup_cosine(inner, total_steps=stage.steps, warmup_steps=stage.warmup_steps,
                              min_ratio=stage.min_lr_ratio)
        for group, part_scale in zip(loop.optimizer.param_groups, loop.part_scales):
            group["lr"] = stage.lr * scale * part_scale
        tick = time.perf_counter()
        samples = context.manifests[loop.data[0]]
        batches = [training_batch(context.pipe.processor, context.media,
                                  [samples[i] for i in loop.order.take(loop.batch_size)])
                   for _ in range(cfg.grad_accum_steps)]
        loop.loss, norm = self._step(context.pipe.model, loop.optimizer, batches, stage.objective,
                                     context.ignore_ids)
        loop.done = TrainingState(step + 1, loop.order.epoch, loop.order.position)
        return {"step": loop.done.step, "stage": stage.name, "loss": loop.loss, "lr": stage.lr * scale,
                "grad_norm": norm, "epoch": loop.order.epoch,
                "samples_per_s": loop.batch_size * cfg.grad_accum_steps / (time.perf_counter() - tick)}

    def _step(self, model: torch.nn.Module, optimizer: torch.optim.Optimizer, batches: list[Any],
              objective: str, ignore_ids: set[int]) -> tuple[float, float]:
        """One optimizer step over ``batches`` (gradient accumulation); returns (loss, grad norm)."""
        loss_value = 0.0
        for batch in batches:
            loss = stage_loss(objective, model, batch.to(self.config.device), ignore_ids) / len(batches)
            loss.backward()
            loss_value += float(loss.detach())
        params = [p for group in optimizer.param_groups for p in group["params"]]
        limit = self.config.max_grad_norm or float("inf")
        norm = float(torch.nn.utils.clip_grad_norm_(params, limit))
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return loss_value, norm

    def _log_and_save(self, context: RunContext, loop: LoopState, record: dict[str, Any]) -> None:
        """Write the step's metrics every ``log_every`` steps and at the end; a checkpoint every
        ``save_every`` steps before the end (the end's is :meth:`_finish`'s)."""
        cfg, done = self.config, loop.done.step
        if done % cfg.log_every == 0 or done == cfg.total_steps:
            context.log.write({**record, "elapsed_s": time.perf_counter() - context.started})
        if cfg.save_every and done % cfg.save_every == 0 and done < cfg.total_steps:
            save_checkpoint(context.pipe, loop.optimizer, loop.done, self.output_dir, keep=cfg.keep_checkpoints)

    def _finish(self, context: RunContext, loop: LoopState) -> Path | None:
        """The last checkpoint and the ``final`` save_pretrained directory (None: save_final is off)."""
        cfg = self.config
        if not cfg.save_final:
            return None
        save_checkpoint(context.pipe, loop.optimizer, loop.done, self.output_dir, keep=cfg.keep_checkpoints)
        return save_final(context.pipe, self.output_dir / "final", cfg.final_dtype)


def save_final(pipe: Any, directory: Path, dtype: str) -> Path:
    """``save_pretrained`` with weights in ``dtype``; the trained model itself stays untouched."""
    target = getattr(torch, dtype)
    if all(p.dtype == target for p in pipe.model.parameters()):
        return pipe.save_pretrained(directory)
    from mmplug.core.pipeline import Pipeline

    cast = Pipeline(copy.deepcopy(pipe.model).to(target), pipe.processor, pipe.resolved, source=pipe.source)
    return cast.save_pretrained(directory)


def train(config: TrainConfig, *, resume: bool = False, registry: Any = None) -> TrainResult:
    """Run (or resume) the training described by ``config``."""
    return Trainer(config, registry=registry).run(resume=resume)
