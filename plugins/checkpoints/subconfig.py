"""Reading a family ``config.json``'s sub-configs (``text_config``, ``vision_config``) through the
mapping of the installed part that reads their model type: shared by every model family.
Torch-free."""
from __future__ import annotations

from typing import Any

from mmplug.core.checkpoint.hf_mapping import part_mapping
from mmplug.core.errors import CheckpointError, ConfigIssue

#: sub-config key -> (model type transformers assumes, HF defaults that differ from that model
#: type's own when the file leaves the whole sub-config out).
Absent = dict[str, tuple[str, dict[str, Any]]]


def sub_config(config: dict[str, Any], key: str, kind: Any, registry: Any, issues: list[ConfigIssue],
               absent: Absent) -> dict[str, Any] | None:
    """``{name: plugin, **options}`` of the part that reads ``config[key]`` (None, with an issue
    under ``key.model_type``, when no installed part reads its model type)."""
    default_type, defaults_when_absent = absent[key]
    section = config.get(key)
    model_type = default_type if section is None else section.get("model_type", default_type)
    try:
        name, mapping = part_mapping(registry, kind, model_type, where=f"{key}.model_type")
    except CheckpointError as exc:
        issues.append(ConfigIssue(f"{key}.model_type", str(exc).split(": ", 1)[-1]))
        return None
    defaults = {**mapping.defaults, **defaults_when_absent} if section is None else None
    return {"name": name, **mapping.to_options(section or {}, where=key, issues=issues, defaults=defaults)}


def unknown_top_keys(config: dict[str, Any], known: set[str], issues: list[ConfigIssue]) -> None:
    """An issue for each top-level key that is neither ``known`` nor a generic PretrainedConfig key."""
    from mmplug.core.checkpoint.hf_mapping import GENERIC_KEYS

    for key in config:
        if key not in known and key not in GENERIC_KEYS:
            issues.append(ConfigIssue(key, "unknown top-level key; mmplug would drop it, so the checkpoint is "
                                           "refused (remove it if it has no effect)"))
