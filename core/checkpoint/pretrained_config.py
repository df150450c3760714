"""``config.json`` (+ processor files) of a checkpoint directory -> a pipeline config dict, through
the :class:`~mmplug.core.interfaces.checkpoint.ConfigTranslation` of the model family whose
``model_type`` the file names (a checkpoint format plugin carries it). Torch-free."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from mmplug.core.checkpoint.hf_mapping import read_json
from mmplug.core.errors import CheckpointError, ConfigError, ConfigIssue, MmplugError
from mmplug.core.interfaces.checkpoint import ConfigTranslation


def translations(registry: Any) -> dict[str, ConfigTranslation]:
    """model_type -> translation, over every installed checkpoint format that carries one."""
    from mmplug.core.checkpoint.formats import build_format, format_names

    found: dict[str, ConfigTranslation] = {}
    for name in format_names(registry):
        try:
            translation = build_format(registry, name).translation
        except MmplugError:
            continue  # a broken format plugin is reported when it is asked for by name
        if translation is not None:
            found.setdefault(translation.model_type, translation)
    return found


def default_layout(resolved: Any, registry: Any) -> str:
    """The layout a resolved pipeline is saved in when none is named: the default layout of
    the one installed model family that writes it."""
    families = [t for t in translations(registry).values() if t.writes(resolved)]
    if len(families) != 1:
        found = ", ".join(f"{t.model_type} (layout {t.default_layout!r})" for t in families) or "none"
        raise CheckpointError(f"cannot choose a checkpoint layout for this pipeline: installed model families "
                              f"that write it: {found}; pass layout=NAME (--layout on the command line)")
    return families[0].default_layout


def config_from_pretrained(directory: str | Path, *, registry: Any = None) -> dict[str, Any]:
    """The pipeline config dict of a checkpoint directory (``config.json`` + processor files)."""
    from mmplug.registry import get_registry

    registry = registry or get_registry()
    directory = Path(directory)
    path = directory / "config.json"
    if not path.is_file():
        raise CheckpointError(f"{directory} has no config.json; it is not a Hugging Face checkpoint directory "
                              "(build from a pipeline config with Pipeline.from_config instead)")
    config = read_json(path)
    known = translations(registry)
    translation = known.get(config.get("model_type"))
    if translation is None:
        _explain_foreign(directory, config, registry)
        raise ConfigError([ConfigIssue("model_type", (
            f"{config.get('model_type')!r} is not supported: the installed model families read "
            f"{', '.join(repr(t) for t in sorted(known)) or 'nothing'} (model_type in config.json)"))], str(path))
    return translation.to_pipeline(config, directory, registry=registry)


def _explain_foreign(directory: Path, config: dict[str, Any], registry: Any) -> None:
    """A config no family reads: if a format recognises its weights and knows they must be
    converted first, say so (its own advice)."""
    refuse_unloadable(directory, config, registry)


def refuse_unloadable(directory: Path, config: dict[str, Any], registry: Any) -> None:
    """Raise the format's own advice when the weights in ``directory`` are in a layout that is
    recognised but must be converted first (``loadable = False``); return otherwise. For
    translations whose ``model_type`` such checkpoints share (e.g. original LLaVA-style configs)."""
    from mmplug.core.checkpoint.files import peek_keys
    from mmplug.core.checkpoint.formats import detect_format, require_loadable

    try:  # safetensors names are read from headers; for pickle weights formats judge by config alone
        name, fmt = detect_format(peek_keys(directory), config, registry=registry, where=str(directory))
    except CheckpointError:
        return
    require_loadable(name, fmt, str(directory))
