"""The pipeline config: a typed schema of ``{section: {name: ..., **options}}``.

Config is typed twice: this schema fixes the sections; each plugin validates
its own options. :func:`resolve_config` checks everything, collects every
problem with its dotted path, and raises one :class:`ConfigError`.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal, Mapping, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mmplug.core.errors import ConfigError, ConfigIssue
from mmplug.core.options import PluginOptions, pydantic_issues
from mmplug.registry.kinds import Kind

#: Sections that name a plugin, and the kind each one takes.
SECTION_KINDS: dict[str, Kind] = {
    "vision_encoder": Kind.VISION_ENCODER,
    "video_encoder": Kind.VISION_ENCODER,
    "projector": Kind.PROJECTOR,
    "language_model": Kind.LANGUAGE_MODEL,
    "attention": Kind.ATTENTION,
    "tokenizer": Kind.TOKENIZER,
    "chat_template": Kind.CHAT_TEMPLATE,
    "image_processor": Kind.IMAGE_PROCESSOR,
    "video_decoder": Kind.VIDEO_DECODER,
    "frame_sampler": Kind.FRAME_SAMPLER,
}
#: Sections whose parts run attention, and whether their attention is causal.
ATTENTION_SECTIONS: dict[str, bool] = {"vision_encoder": False, "video_encoder": False, "language_model": True}
MODEL_SECTIONS = ("vision_encoder", "video_encoder", "projector", "language_model")


class PartConfig(BaseModel):
    """One section: the plugin ``name`` plus its options (validated by the plugin).

    ``attention`` (only for vision encoders and language models) overrides the
    pipeline-wide attention backend for this part.
    """

    model_config = ConfigDict(extra="allow")

    name: str = Field(description="Registered plugin name (see `mmplug plugins`).")
    attention: str | None = Field(default=None, description="Attention backend for this part only.")

    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class MultimodalConfig(PluginOptions):
    """How the model assembly joins vision and text."""

    image_token_id: int | None = Field(default=None, description="Id of the image placeholder token.")
    video_token_id: int | None = Field(default=None, description="Id of the video placeholder token.")
    pad_token_id: int | None = None
    vision_feature_layer: Union[int, list[int]] = Field(
        default=-2, description="Vision layer(s) fed to the projector; a list is concatenated on channels.")
    image_feature_select_strategy: Literal["default", "full"] = "default"
    video_feature_select_strategy: Literal["default", "full"] = "full"
    share_vision_encoder: bool = Field(
        default=False, description="Use the image tower for videos too (no video_encoder section).")
    freeze: list[Literal["vision_encoder", "video_encoder", "projector", "language_model"]] = []
    gradient_checkpointing: bool = False

    def feature_layers(self) -> list[int]:
        layer = self.vision_feature_layer
        return list(layer) if isinstance(layer, list) else [layer]


class RuntimeConfig(PluginOptions):
    """Where the model runs; callers may override both when building."""

    device: str = "cpu"
    dtype: Literal["float32", "float16", "bfloat16"] = "float32"
    seed: int | None = Field(default=None, description="seed of the random initialisation of the weights (same "
                                                       "seed, same weights); null: torch's global random state")


class PipelineConfig(BaseModel):
    """A whole pipeline. Every section is optional; the builder asks for what it needs."""

    model_config = ConfigDict(extra="forbid")

    description: str = ""
    vision_encoder: PartConfig | None = None
    video_encoder: PartConfig | None = None
    projector: PartConfig | None = None
    language_model: PartConfig | None = None
    attention: PartConfig | None = None
    tokenizer: PartConfig | None = None
    chat_template: PartConfig | None = None
    image_processor: PartConfig | None = None
    video_decoder: PartConfig | None = None
    frame_sampler: PartConfig | None = None
    multimodal: MultimodalConfig = MultimodalConfig()
    runtime: RuntimeConfig = RuntimeConfig()

    def sections(self) -> dict[str, PartConfig]:
        """The plugin sections that are present, in schema order."""
        return {name: getattr(self, name) for name in SECTION_KINDS if getattr(self, name) is not None}

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True, exclude_defaults=True)


# ---------------------------------------------------------------------------- loading
def read_config_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a YAML, JSON or TOML file into a dict (by suffix)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([ConfigIssue("", f"cannot read config file: {exc.strerror or exc}")], str(path)) from None
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            data = json.loads(text)
        elif suffix == ".toml":
            data = _toml_loads(text)
        elif suffix in (".yaml", ".yml"):
            data = yaml.safe_load(text)
        else:
            raise ConfigError([ConfigIssue("", f"unknown config format {suffix!r}; use .yaml, .json or .toml")],
                              str(path))
    except ConfigError:
        raise
    except Exception as exc:  # noqa: BLE001 - parser errors differ per format
        raise ConfigError([ConfigIssue("", f"cannot parse {suffix[1:]}: {exc}")], str(path)) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([ConfigIssue("", "a pipeline config must be a mapping of sections")], str(path))
    return data


def _toml_loads(text: str) -> dict[str, Any]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    return tomllib.loads(text)


def write_config_file(config: PipelineConfig | Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """Write a config as YAML or JSON (by suffix)."""
    data = config.to_dict() if isinstance(config, PipelineConfig) else dict(config)
    path = Path(path)
    if path.suffix.lower() == ".json":
        path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def apply_overrides(data: dict[str, Any], overrides: list[str] | Mapping[str, Any]) -> dict[str, Any]:
    """Set dotted keys: ``["language_model.num_layers=2"]`` or ``{"a.b": value}``.
    String values are parsed as YAML scalars (``2`` -> int, ``[-3,-1]`` -> list)."""
    data = json.loads(json.dumps(data))  # deep copy of plain data
    items = overrides.items() if isinstance(overrides, Mapping) else [_split_override(o) for o in overrides]
    for key, value in items:
        node = data
        *parents, leaf = key.split(".")
        for part in parents:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                raise ConfigError([ConfigIssue(key, f"cannot set inside {part!r}: it is not a section")])
            node = child
        node[leaf] = value
    return data


def _split_override(text: str) -> tuple[str, Any]:
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError([ConfigIssue("", f"override {text!r} must look like section.key=value")])
    return key.strip(), yaml.safe_load(raw) if raw.strip() else raw


def load_config(
    source: str | os.PathLike[str] | Mapping[str, Any] | PipelineConfig,
    overrides: list[str] | Mapping[str, Any] | None = None,
    *,
    registry: Any = None,
) -> PipelineConfig:
    """A :class:`PipelineConfig` from a file, a preset name, a dict or a config.

    Only the schema is checked here; :func:`resolve_config` checks the plugins.
    """
    label = None
    if isinstance(source, PipelineConfig):
        data = source.to_dict()
    elif isinstance(source, Mapping):
        data = dict(source)
    elif Path(source).suffix.lower() in (".yaml", ".yml", ".json", ".toml") or Path(source).exists():
        label = str(source)
        data = read_config_file(source)
    else:
        from mmplug.registry import get_registry

        label = f"preset {source!r}"
        data = (registry or get_registry()).preset(str(source)).load()
    if overrides:
        data = apply_overrides(data, overrides)
    try:
        return PipelineConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(pydantic_issues(exc, "", PipelineConfig), label) from None


def dump_config(config: PipelineConfig) -> str:
    """YAML text of a config (round-trips through :func:`load_config`)."""
    return yaml.safe_dump(config.to_dict(), sort_keys=False)
