"""Fill a model built on the meta device from a checkpoint directory, shard by shard.

Every check that needs no tensor data runs first (format, missing/unused keys, shapes), so
a bad checkpoint fails before any memory is used. Then each tensor is read from its file
straight into a fresh buffer in the target dtype and put in place of the meta parameter;
the weights are never held twice (peak: the model plus one tensor). On any error the model
is returned to the meta device and nothing is returned.
"""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable

import torch
from torch import nn

from mmplug.core import dtypes
from mmplug.core.checkpoint.files import WeightFiles, list_weight_files
from mmplug.core.checkpoint.formats import detect_format, require_loadable
from mmplug.core.checkpoint.keys import allowed, group_keys
from mmplug.core.errors import CheckpointError



def read_config_json(directory: Path) -> dict[str, Any]:
    """config.json of ``directory`` ({} when absent)."""
    path = Path(directory) / "config.json"
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: cannot read: {exc}") from None


def torch_dtype(dtype: Any) -> torch.dtype:
    """The torch dtype of a dtype name; a CheckpointError for unknown names."""
    try:
        return dtypes.torch_dtype(dtype)
    except ValueError as exc:
        raise CheckpointError(str(exc)) from None


class _Slots:
    """Where each model tensor lives: name -> (module, attribute); tied names share one group."""

    def __init__(self, model: nn.Module):
        self.owner: dict[str, tuple[nn.Module, str]] = {}
        self.tensor: dict[str, torch.Tensor] = {}
        self.group: dict[str, list[str]] = {}
        by_identity: dict[int, list[str]] = defaultdict(list)
        for module_name, module in model.named_modules():
            for attr, value in list(module._parameters.items()) + list(module._buffers.items()):
                if value is None or (attr in module._buffers and attr in module._non_persistent_buffers_set):
                    continue
                name = f"{module_name}.{attr}" if module_name else attr
                self.owner[name], self.tensor[name] = (module, attr), value
                by_identity[id(value)].append(name)
        for names in by_identity.values():
            for name in names:
                self.group[name] = names

    def put(self, name: str, value: torch.Tensor) -> None:
        """Install ``value`` under ``name`` and every name tied to it."""
        old = self.tensor[name]
        if isinstance(old, nn.Parameter):
            value = nn.Parameter(value, requires_grad=old.requires_grad and value.is_floating_point())
        for tied in self.group[name]:
            module, attr = self.owner[tied]
            setattr(module, attr, value)


def plan(model: nn.Module, files: WeightFiles, fmt: Any, *, allow_missing: Iterable[str] = (),
         allow_unused: Iterable[str] = ()) -> tuple[dict[str, str], list[str], _Slots]:
    """(checkpoint key -> model name, allowed-missing names, slots); raises on any mismatch."""
    slots = _Slots(model)
    mapping: dict[str, str] = {}
    unused, shapes, dtypes, filled = [], [], [], set()
    for key in files.keys():
        ours = fmt.to_model_key(key)
        if ours is None:
            continue
        if ours not in slots.owner:
            if not allowed((key, ours), allow_unused):
                unused.append(key)
            continue
        if id(slots.group[ours]) in filled:
            continue  # a tied copy (e.g. lm_head next to embed_tokens): one source is enough
        filled.add(id(slots.group[ours]))
        mapping[key] = ours
        expected, stored = tuple(slots.tensor[ours].shape), files.shape(key)
        if expected != stored:
            shapes.append(f"  {ours}: the checkpoint has {stored} ({files.describe(key)}), "
                          f"the model expects {expected}")
        wrong_dtype = _dtype_mismatch(files.dtype(key), slots.tensor[ours].dtype)
        if wrong_dtype:
            dtypes.append(f"  {ours}: {files.describe(key)} {wrong_dtype}")
    covered = {tied for ours in mapping.values() for tied in slots.group[ours]}
    missing = [name for name in slots.owner if name not in covered]
    refused = [name for name in missing if not allowed((name, _checkpoint_name(fmt, name)), allow_missing)]
    problems = []
    if refused:
        problems.append(f"{len(refused)} model tensor(s) missing from the checkpoint:\n{group_keys(refused)}")
    if unused:
        problems.append(f"{len(unused)} checkpoint tensor(s) with no place in the model:\n{group_keys(unused)}")
    if shapes:
        problems.append(f"{len(shapes)} tensor(s) with the wrong shape:\n" + "\n".join(shapes))
    if dtypes:
        problems.append(f"{len(dtypes)} tensor(s) stored in a dtype of another kind:\n" + "\n".join(dtypes))
    if problems:
        raise CheckpointError(f"{files.directory} does not fit this model ({fmt.name or fmt} layout):\n"
                              + "\n".join(problems) + "\nCheck that config.json belongs to these weights; pass "
                              "allow_missing=[glob, ...] / allow_unused=[glob, ...] only to skip tensors on purpose.")
    return mapping, [name for name in missing if name not in refused], slots


def _dtype_mismatch(stored: torch.dtype, expected: torch.dtype) -> str | None:
    """Why a tensor stored as ``stored`` cannot fill a model tensor of ``expected``, or None.

    Floating-point tensors load into any floating-point dtype (converted while read); any other
    dtype (integers, bool) must be stored exactly as the model has it, since it is not converted."""
    if expected.is_floating_point:
        return None if stored.is_floating_point else f"is {stored}, the model expects floating point ({expected})"
    return None if stored == expected else f"is {stored}, the model expects {expected}"


def _checkpoint_name(fmt: Any, name: str) -> str:
    try:
        return fmt.from_model_key(name)
    except Exception:  # noqa: BLE001 - only used to match globs
        return name


def load_weights(model: nn.Module, directory: str | Path, *, device: str = "cpu", dtype: Any = "float32",
                 allow_missing: Iterable[str] = (), allow_unused: Iterable[str] = (), allow_pickle: bool = False,
                 layout: str | None = None, registry: Any = None) -> nn.Module:
    """Fill ``model`` (built with ``meta=True``) from the checkpoint in ``directory`` and return it.

    The layout is recognised by the installed ``checkpoint_format`` plugins (``layout`` forces
    one). Floating tensors are converted to ``dtype`` while read. ``allow_missing`` /
    ``allow_unused``: globs (model or checkpoint names) of tensors that may be absent (they are
    initialised by their module's ``reset_parameters``) or left over.
    """
    from mmplug.registry import get_registry

    directory = Path(directory)
    files = list_weight_files(directory, allow_pickle=allow_pickle)
    name, fmt = detect_format(files.keys(), read_config_json(directory), registry=registry or get_registry(),
                              where=str(directory), layout=layout)
    require_loadable(name, fmt, str(directory))
    return fill(model, files, fmt, device=device, dtype=dtype, allow_missing=allow_missing,
                allow_unused=allow_unused)


def fill(model: nn.Module, files: WeightFiles, fmt: Any, *, device: str = "cpu", dtype: Any = "float32",
         allow_missing: Iterable[str] = (), allow_unused: Iterable[str] = ()) -> nn.Module:
    """Check ``files`` against ``model`` through ``fmt``, then read every tensor into place."""
    mapping, initialise, slots = plan(model, files, fmt, allow_missing=allow_missing, allow_unused=allow_unused)
    target = torch_dtype(dtype)
    try:
        _initialise(slots, initialise, device, target)
        by_shard: dict[Path, list[str]] = defaultdict(list)
        for key in mapping:
            by_shard[files.owner[key]].append(key)
        for path, keys in by_shard.items():
            for key, tensor in files.shards[path].read(keys, target):
                slots.put(mapping[key], tensor.to(device) if device != "cpu" else tensor)
        _check_complete(model, files.directory)
    except BaseException:
        model.to("meta")
        raise
    return model


def _initialise(slots: _Slots, names: list[str], device: str, dtype: torch.dtype) -> None:
    """Give allowed-missing tensors fresh values from their module's ``reset_parameters``."""
    modules: dict[int, tuple[nn.Module, list[str]]] = {}
    for name in names:
        module, _ = slots.owner[name]
        modules.setdefault(id(module), (module, []))[1].append(name)
    for module, members in modules.values():
        reset = getattr(module, "reset_parameters", None)
        if reset is None:
            raise CheckpointError(f"cannot initialise {', '.join(members)}: {type(module).__name__} has no "
                                  "reset_parameters(); the checkpoint must provide these tensors")
        for name in members:
            slots.put(name, torch.empty_like(slots.tensor[name], device=device, dtype=dtype))
        with torch.no_grad():
            materialised = [t for t in module.parameters(recurse=False) if t.device.type != "meta"]
            if len(materialised) != len(list(module.parameters(recurse=False))):
                raise CheckpointError(f"cannot initialise only part of {type(module).__name__} "
                                      f"({', '.join(members)}); allow all of its tensors or none")
            reset()


def _check_complete(model: nn.Module, directory: Path) -> None:
    left = [name for name, t in list(model.named_parameters()) + list(model.named_buffers()) if t.is_meta]
    if left:
        raise CheckpointError(f"{directory}: after loading, these tensors are still unset (on the meta device):\n"
                              f"{group_keys(left)}\nThe part that owns them must create them itself or the "
                              "checkpoint must provide them.")
