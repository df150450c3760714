"""Rewrite a checkpoint in another layout (``mmplug convert``): load it into a meta-built model,
then save it. Formats that cannot be loaded directly (e.g. ``languagebind``) import themselves
through their ``import_checkpoint`` method (``can_import``)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from mmplug.core.errors import CheckpointError


def convert_checkpoint(source: str | Path, destination: str | Path, *, layout: str | None = None,
                       allow_pickle: bool = False, processor: str | Path | None = None, dtype: str | None = None,
                       max_shard_size: int | str = "5GB", source_layout: str | None = None,
                       overrides: Any = None, registry: Any = None) -> Path:
    """Write the checkpoint ``source`` (directory or Hub id) to ``destination`` in ``layout``
    (None: the model family's default layout).
    ``dtype`` None keeps the stored floating dtype; ``overrides`` (``["section.key=value"]``)
    adjust the pipeline config read from the source."""
    from mmplug.core.builder import build_model
    from mmplug.core.checkpoint.files import list_weight_files
    from mmplug.core.checkpoint.formats import detect_format
    from mmplug.core.checkpoint.pretrained_config import config_from_pretrained
    from mmplug.core.checkpoint.hub import resolve_pretrained
    from mmplug.core.checkpoint.loader import fill, read_config_json, torch_dtype
    from mmplug.core.checkpoint.saver import save_pretrained
    from mmplug.core.resolve import resolve_config
    from mmplug.registry import get_registry

    registry = registry or get_registry()
    directory = resolve_pretrained(source, allow_pickle=allow_pickle)
    destination = Path(destination)
    if destination.resolve() == directory.resolve():
        raise CheckpointError(f"{destination}: converting in place is not supported; choose another directory")
    files = list_weight_files(directory, allow_pickle=allow_pickle)
    config = read_config_json(directory)
    _, fmt = detect_format(files.keys(), config, registry=registry, where=str(directory), layout=source_layout)
    dtype = dtype or stored_dtype(files)
    if fmt.can_import:
        model, resolved, processor_dir = fmt.import_checkpoint(
            directory, files, config, registry=registry, overrides=overrides,
            processor=Path(processor) if processor else None)
        model = model.to(torch_dtype(dtype))
    else:
        resolved = resolve_config(config_from_pretrained(directory), overrides, registry=registry)
        model = fill(build_model(resolved, meta=True), files, fmt, dtype=dtype)
        processor_dir = Path(processor) if processor else directory
    return save_pretrained(model, resolved, destination, source=processor_dir, layout=layout,
                           max_shard_size=max_shard_size, registry=registry)


def stored_dtype(files: Any) -> str:
    """The floating dtype most of the checkpoint's bytes are stored in."""
    import torch

    totals: dict[torch.dtype, int] = {}
    for path, shard in files.shards.items():
        for key in shard.keys():
            dtype = shard.dtype(key)
            if dtype.is_floating_point:
                totals[dtype] = totals.get(dtype, 0) + 1
    best = max(totals, key=totals.get) if totals else torch.float32
    return {torch.float16: "float16", torch.bfloat16: "bfloat16"}.get(best, "float32")
