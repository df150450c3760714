"""What a model name on the command line means (``ask``/``chat --model``, ``validate SOURCE``):
a pipeline config file or a preset (random weights), or a checkpoint (a local directory or a
Hub repo id). One reading for every command, so ``validate`` accepts whatever ``--model`` does."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from mmplug.core.errors import CheckpointError, UnknownPartError

CONFIG_SUFFIXES = (".yaml", ".yml", ".json", ".toml")

Kind = Literal["config", "preset", "checkpoint"]


def source_kind(name: str, registry: Any = None) -> Kind:
    """``config`` (a .yaml/.yml/.json/.toml file name), ``preset`` (an installed preset name that
    is no local path) or ``checkpoint`` (a directory, a Hub repo id, or a missing path).

    Raises CheckpointError for a bare name that is no local path and no installed preset
    (with the close preset names)."""
    from mmplug.registry import get_registry

    path = Path(name).expanduser()
    if path.is_dir() or (path.exists() and path.suffix.lower() not in CONFIG_SUFFIXES):
        return "checkpoint"
    if path.suffix.lower() in CONFIG_SUFFIXES:
        return "config"  # a missing file: reading it names the file
    if "/" in name or "\\" in name:
        return "checkpoint"  # resolving it says which folder is missing, or asks the Hub
    try:
        (registry or get_registry()).preset(name)
    except UnknownPartError as exc:
        raise CheckpointError(f"{name} is not a local directory or config file, and {exc}") from None
    return "preset"


def resolve_source(name: str, overrides: list[str] | None = None, *, device: str | None = None,
                   dtype: str | None = None, allow_code: bool = False, registry: Any = None) -> Any:
    """The ResolvedPipeline that ``name`` would run, without loading or downloading weights."""
    from mmplug.core.checkpoint import config_from_pretrained, resolve_pretrained
    from mmplug.core.resolve import resolve_config

    if source_kind(name, registry) == "checkpoint":
        config = config_from_pretrained(resolve_pretrained(name, weights=False), registry=registry)
        return resolve_config(config, overrides, device=device, dtype=dtype, registry=registry)
    return resolve_config(name, overrides, device=device, dtype=dtype, allow_code=allow_code, registry=registry)
