"""Checkpoints of a training run: the ``save_pretrained`` layout plus the training state.

``output_dir/checkpoint-000040/`` holds config.json, model.safetensors and the processor files
(loadable by ``Pipeline.from_pretrained``), plus ``training_state.json`` (step, data position,
python/numpy RNG, optimizer hyper-parameters) and ``training_state.safetensors`` (optimizer
moments, torch RNG). A checkpoint is written to a temporary folder and renamed when complete,
so a kill while saving never leaves a half checkpoint behind.
"""
from __future__ import annotations

import json
import os
import random
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from mmplug.core.errors import CheckpointError

STATE_JSON, STATE_TENSORS = "training_state.json", "training_state.safetensors"
PREFIX = "checkpoint-"


@dataclass
class TrainingState:
    """Where a run stands: ``step`` optimizer steps done, next sample at (``epoch``, ``position``)."""

    step: int = 0
    epoch: int = 0
    position: int = 0


@dataclass
class SavedState:
    """A checkpoint's training state as :func:`read_state` found it."""

    checkpoint: Path
    position: TrainingState
    meta: dict[str, Any]  # training_state.json: position, RNG, optimizer hyper-parameters
    tensors: dict[str, torch.Tensor]  # training_state.safetensors: optimizer moments, torch RNG


def checkpoint_name(step: int) -> str:
    return f"{PREFIX}{step:06d}"


def list_checkpoints(output_dir: Path) -> list[Path]:
    """Complete checkpoints of ``output_dir``, oldest first."""
    if not output_dir.is_dir():
        return []
    found = [p for p in output_dir.iterdir() if p.name.startswith(PREFIX) and (p / STATE_JSON).is_file()]
    return sorted(found, key=lambda p: p.name)


def _optimizer_tensors(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    state = optimizer.state_dict()
    tensors = {f"optimizer.{index}.{key}": value.detach().contiguous()
               for index, entry in state["state"].items() for key, value in entry.items()}
    return tensors, {"param_groups": state["param_groups"]}


def _rng_state() -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    py_version, py_state, py_gauss = random.getstate()
    plain = {"python": [py_version, list(py_state), py_gauss],
             "numpy": [kind, keys.tolist(), pos, has_gauss, gauss]}
    return plain, {"rng.torch": torch.get_rng_state()}


def save_checkpoint(pipeline: Any, optimizer: torch.optim.Optimizer, state: TrainingState, output_dir: Path,
                    *, keep: int) -> Path:
    """Write ``output_dir/checkpoint-<step>`` atomically and drop all but the newest ``keep``."""
    final = output_dir / checkpoint_name(state.step)
    temporary = output_dir / f".tmp-{final.name}"
    if temporary.exists():
        shutil.rmtree(temporary)
    pipeline.save_pretrained(temporary)
    tensors, groups = _optimizer_tensors(optimizer)
    rng_plain, rng_tensors = _rng_state()
    save_file({**tensors, **rng_tensors}, str(temporary / STATE_TENSORS))
    meta = {"step": state.step, "epoch": state.epoch, "position": state.position, "rng": rng_plain, **groups}
    (temporary / STATE_JSON).write_text(json.dumps(meta) + "\n", encoding="utf-8")
    if final.exists():
        shutil.rmtree(final)
    os.replace(temporary, final)
    for old in list_checkpoints(output_dir)[:-keep]:
        shutil.rmtree(old)
    return final


def read_state(checkpoint: Path) -> SavedState:
    """The training state saved in ``checkpoint`` (by :func:`save_checkpoint`)."""
    try:
        meta = json.loads((checkpoint / STATE_JSON).read_text(encoding="utf-8"))
        tensors = load_file(str(checkpoint / STATE_TENSORS))
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"{checkpoint}: cannot read the training state ({exc}); delete this checkpoint "
                              "folder to resume from the one before it") from None
    return SavedState(checkpoint, TrainingState(meta["step"], meta["epoch"], meta["position"]), meta, tensors)


def restore_optimizer(optimizer: torch.optim.Optimizer, meta: dict[str, Any], tensors: dict[str, torch.Tensor],
                      where: Path) -> None:
    """Load the moments and hyper-parameters saved by :func:`save_checkpoint` into ``optimizer``."""
    entries: dict[int, dict[str, torch.Tensor]] = {}
    for name, value in tensors.items():
        if name.startswith("optimizer."):
            _, index, key = name.split(".", 2)
            entries.setdefault(int(index), {})[key] = value
    groups = meta["param_groups"]
    for group in groups:
        group["betas"] = tuple(group["betas"])
    try:
        optimizer.load_state_dict({"state": entries, "param_groups": groups})
    except (ValueError, KeyError) as exc:
        raise CheckpointError(f"{where}: the optimizer state does not fit this run ({exc}); resume with the same "
                              "training config, or start a new output_dir") from None


def restore_rng(meta: dict[str, Any], tensors: dict[str, torch.Tensor]) -> None:
    version, py_state, py_gauss = meta["rng"]["python"]
    random.setstate((version, tuple(py_state), py_gauss))
    kind, keys, pos, has_gauss, gauss = meta["rng"]["numpy"]
    np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), pos, has_gauss, gauss))
    torch.set_rng_state(tensors["rng.torch"])
