"""JSON Schema of the pipeline config for the plugins installed now.

Each plugin section becomes a ``oneOf`` over the installed parts of its kind,
each branch being that part's own options schema plus ``name: const``.
"""
from __future__ import annotations

from typing import Any

from mmplug.core.config import SECTION_KINDS, PipelineConfig
from mmplug.core.errors import MmplugError
from mmplug.core.options import NoOptions
from mmplug.registry import Registry, get_registry


def part_schema(registry: Registry, kind: Any, section: str) -> dict[str, Any]:
    """``oneOf`` of every installed part of ``kind`` (plugins that fail to load are left out)."""
    branches = []
    for spec in registry.parts(kind):
        try:
            model = spec.load_options() or NoOptions
        except MmplugError:
            continue
        schema = model.model_json_schema()
        properties = {"name": {"const": spec.name, "description": spec.summary or spec.name}}
        if section in ("vision_encoder", "video_encoder", "language_model"):
            properties["attention"] = {"type": "string", "enum": registry.names("attention"),
                                       "description": "Attention backend for this part only."}
        properties.update(schema.get("properties", {}))
        branch = {"type": "object", "title": f"{kind.value}: {spec.name}", "properties": properties,
                  "required": ["name", *schema.get("required", [])], "additionalProperties": False}
        if "$defs" in schema:
            branch["$defs"] = schema["$defs"]
        branches.append(branch)
    return {"oneOf": branches} if branches else {"type": "object", "properties": {"name": {"type": "string"}}}


def pipeline_schema(registry: Registry | None = None) -> dict[str, Any]:
    """The full JSON Schema (draft 2020-12) of a pipeline config file."""
    registry = registry or get_registry()
    schema = PipelineConfig.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "mmplug pipeline config"
    properties = schema["properties"]
    for section, kind in SECTION_KINDS.items():
        properties[section] = {**part_schema(registry, kind, section), "description": f"The {kind.value} part."}
    schema.get("$defs", {}).pop("PartConfig", None)
    return schema
