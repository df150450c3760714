"""Write a pipeline as a Hugging Face checkpoint: config.json, safetensors weights (one file or
shards + index) in a chosen layout, and the processor files."""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import torch
from torch import nn

from mmplug.core.checkpoint.files import SAFE_INDEX, SAFE_SINGLE
from mmplug.core.checkpoint.formats import build_format
from mmplug.core.checkpoint.safetensors_io import NAMES, write_file
from mmplug.core.errors import CheckpointError

#: Processor files copied next to the weights when the pipeline's sources hold them.
PROCESSOR_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model",
                   "added_tokens.json", "processor_config.json", "preprocessor_config.json",
                   "video_preprocessor_config.json", "chat_template.json", "chat_template.jinja")
_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30}
_STALE = re.compile(r"^model(-\d{5}-of-\d{5})?\.safetensors(\.index\.json)?$")


def parse_size(value: int | str) -> int:
    """Bytes of ``5GB`` / ``500MB`` / ``2GiB`` / an int."""
    if isinstance(value, int):
        return value
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMG]I?B|B)?\s*", str(value).upper())
    if match is None:
        raise CheckpointError(f"max_shard_size {value!r} is not a size; write e.g. '5GB', '500MB' or an int")
    return int(float(match.group(1)) * _UNITS[match.group(2) or ""])


def model_tensors(model: nn.Module, resolved: Any) -> dict[str, torch.Tensor]:
    """mmplug name -> tensor, tied tensors once; a shared image tower is also written as the
    video tower (transformers VideoLlava always has both; layouts without a video tower skip it)."""
    tensors = dict(model.state_dict(keep_vars=True))
    seen: set[int] = set()
    out = {}
    for name, tensor in tensors.items():
        if id(tensor) in seen:
            continue
        seen.add(id(tensor))
        if tensor.is_meta:
            raise CheckpointError(f"cannot save: {name} has no data (the model is on the meta device); "
                                  "load weights first")
        out[name] = tensor.detach()
    if getattr(model, "video_encoder", None) is None and resolved.config.multimodal.share_vision_encoder:
        out.update({"video_encoder." + n[len("vision_encoder."):]: t for n, t in list(out.items())
                    if n.startswith("vision_encoder.")})
    return out


def plan_shards(sizes: dict[str, int], limit: int) -> list[list[str]]:
    """Consecutive groups of keys, each at most ``limit`` bytes (a bigger tensor gets its own)."""
    shards: list[list[str]] = [[]]
    used = 0
    for key, size in sizes.items():
        if shards[-1] and used + size > limit:
            shards.append([])
            used = 0
        shards[-1].append(key)
        used += size
    return shards


def write_weights(tensors: dict[str, torch.Tensor], directory: Path, max_shard_size: int | str) -> list[Path]:
    """Write ``tensors`` (checkpoint names) as model.safetensors or shards + index."""
    for old in directory.iterdir():
        if _STALE.match(old.name):
            old.unlink()
    sizes = {key: t.numel() * t.element_size() for key, t in tensors.items()}
    shards = plan_shards(sizes, parse_size(max_shard_size))
    if len(shards) == 1:
        write_file(directory / SAFE_SINGLE, tensors, {"format": "pt"})
        return [directory / SAFE_SINGLE]
    names = [f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors" for i in range(len(shards))]
    weight_map = {}
    for name, keys in zip(names, shards):
        write_file(directory / name, {key: tensors[key] for key in keys}, {"format": "pt"})
        weight_map.update({key: name for key in keys})
    index = {"metadata": {"total_size": sum(sizes.values())}, "weight_map": weight_map}
    (directory / SAFE_INDEX).write_text(json.dumps(index, indent=2) + "\n", encoding="utf-8")
    return [directory / SAFE_INDEX] + [directory / name for name in names]


def _processor_sources(resolved: Any, source: Path | None) -> list[Path]:
    """Directories to copy processor files from: ``source``, then the text parts' ``path``s."""
    found = [Path(source)] if source is not None else []
    for section in ("tokenizer", "chat_template"):
        part = resolved.parts.get(section)
        path = getattr(part.options, "path", None) if part is not None else None
        if path is not None:
            found.append(Path(path) if Path(path).is_dir() else Path(path).parent)
    return found


def write_processor_files(resolved: Any, directory: Path, source: Path | None, translation: Any) -> list[Path]:
    """Copy the processor files the pipeline's sources hold, then write the ones the family's
    ``translation`` generates from the resolved parts (over copies of the same name)."""
    written = []
    for name in PROCESSOR_FILES:
        origin = next((d / name for d in _processor_sources(resolved, source) if (d / name).is_file()), None)
        if origin is not None and origin.resolve() != (directory / name).resolve():
            shutil.copyfile(origin, directory / name)
            written.append(directory / name)
    present = frozenset(name for name in PROCESSOR_FILES if (directory / name).is_file())
    for name, data in translation.processor_files(resolved, existing=present).items():
        (directory / name).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        written.append(directory / name)
    return written


def save_pretrained(model: nn.Module, resolved: Any, directory: str | Path, *, source: str | Path | None = None,
                    layout: str | None = None, max_shard_size: int | str = "5GB", registry: Any = None) -> Path:
    """Write ``model`` (built from ``resolved``) to ``directory`` in ``layout`` (None: the model
    family's default layout); returns the directory.

    config.json is derived from the resolved config by the layout's family translation, which
    also generates processor files from the processor parts' options; other processor files are
    copied from ``source`` or from the tokenizer/chat_template ``path`` options. (Video-LLaVA's
    default layout loads in transformers' ``VideoLlavaForConditionalGeneration.from_pretrained``.)
    """
    from mmplug.registry import get_registry

    from mmplug.core.checkpoint.pretrained_config import default_layout

    registry = registry or get_registry()
    directory = Path(directory)
    layout = layout or default_layout(resolved, registry)
    fmt = build_format(registry, layout)
    tensors = model_tensors(model, resolved)
    dtypes = {t.dtype for t in tensors.values() if t.is_floating_point()}
    if len(dtypes) > 1:
        raise CheckpointError(f"cannot save: the model mixes dtypes {sorted(map(str, dtypes))}; cast it to one")
    dtype = str(next(iter(dtypes), torch.float32)).replace("torch.", "")
    if fmt.translation is None:
        raise CheckpointError(f"cannot save in the {layout!r} layout: it belongs to no model family that writes "
                              "config.json; choose a family's layout")
    config = fmt.translation.from_pipeline(resolved, dtype=dtype)
    renamed = {}
    shared_copies = set(tensors) - set(model.state_dict())  # a shared tower written again as the video tower
    for name, tensor in tensors.items():
        try:
            renamed[fmt.from_model_key(name)] = tensor
        except (KeyError, ValueError) as exc:
            if name in shared_copies:  # a layout with one tower for images and videos has no place for the copy
                continue
            raise CheckpointError(f"cannot save in the {layout!r} layout: {exc}") from None
    if any(t.dtype not in NAMES for t in renamed.values()):
        raise CheckpointError("cannot save: a tensor has a dtype safetensors cannot store")
    directory.mkdir(parents=True, exist_ok=True)
    write_weights(renamed, directory, max_shard_size)
    (directory / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    write_processor_files(resolved, directory, Path(source) if source is not None else None, fmt.translation)
    return directory
