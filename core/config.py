"""The pipeline config: a typed schema of ``{section: {name: ..., **options}}``.

Config is typed twice: this schema fixes the sections; each plugin validates
its own options. :func:`resolve_config` checks everything, collects every
problem with its dotted path, and raises one :class:`ConfigError`.
"""
from __future__ import annotations

import json
import os
import reprlib
from pathlib import Path
from typing import Any, Literal, Mapping, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mmplug.core.dtypes import DType
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
    pipeline-wide attention backend for this part: a backend name (with the options of the
    ``attention`` section when it names the same backend) or a section of its own
    (``{name: ..., **options}``).
    """

    model_config = ConfigDict(extra="allow")

    name: str = Field(description="Registered plugin name (see `mmplug plugins`).")
    attention: Union[str, "PartConfig", None] = Field(default=None,
                                                     description="Attention backend for this part only.")

    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class MultimodalConfig(PluginOptions):
    """How the model assembly joins vision and text."""

    image_token_id: int | None = Field(default=None, description="Id of the image placeholder token.")
    video_token_id: int | None = Field(default=None, description="Id of the video placeholder token.")
    pad_token_id: int | None = None
    vision_feature_layer: Union[int, list[int]] = Field(
        default=-2, description="Vision layer(s) fed to the projector; a list is concatenated on channels.")

    @field_validator("vision_feature_layer")
    @classmethod
    def _some_layer(cls, value: Union[int, list[int]]) -> Union[int, list[int]]:
        if isinstance(value, list) and not value:
            raise ValueError("an empty list feeds no vision layer to the projector; give a layer index "
                             "(e.g. -2) or a non-empty list")
        return value
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
    dtype: DType = "float32"
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
#: Most values (mappings, lists and scalars, each repeat counted) one config may hold. A YAML
#: alias bomb ("billion laughs") expands past it and is refused before anything is expanded.
MAX_CONFIG_VALUES = 100_000


def read_config_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a YAML, JSON or TOML file into a dict (by suffix)."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise ConfigError([ConfigIssue("", f"cannot read config file: {exc.strerror or exc}")], str(path)) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([ConfigIssue("", f"not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset "
                                           f"{exc.start}); save the file as UTF-8")], str(path)) from None
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            data = json.loads(text)
        elif suffix == ".toml":
            data = _toml_loads(text)
        elif suffix in (".yaml", ".yml"):
            data = load_yaml(text, "", str(path))
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
    return plain_copy(data, "", str(path))


def load_yaml(text: str, key: str = "", source: str | None = None) -> Any:
    """One YAML document (safe tags only). Its node graph is measured before any value is built:
    more than :data:`MAX_CONFIG_VALUES` values once aliases and merge keys are expanded, or an
    alias inside itself, is a ConfigError at ``key``."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _measure(node, lambda item: item.value if isinstance(item, yaml.SequenceNode) else
                 [part for pair in item.value for part in pair] if isinstance(item, yaml.MappingNode) else (),
                 key, source)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def plain_copy(data: Any, key: str = "", source: str | None = None) -> Any:
    """A deep copy of the mappings and lists in ``data`` (tuples become lists; other values are
    shared). ConfigError at ``key`` if it holds more than :data:`MAX_CONFIG_VALUES` values counted
    with repeats (shared sub-objects) or contains itself, checked before anything is copied."""
    _measure(data, lambda item: [part for pair in item.items() for part in pair] if isinstance(item, Mapping)
             else item if isinstance(item, (list, tuple)) else (), key, source)
    try:
        return _copy(data)
    except RecursionError:
        raise ConfigError([ConfigIssue(key, "nested too deeply")], source) from None


def _copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_copy(v) for v in value]
    return value


def _measure(root: Any, children: Any, key: str, source: str | None) -> None:
    """Size of ``root`` expanded as a tree (a shared child counts once per reference), computed
    once per distinct object (so a bomb is measured in microseconds); ConfigError past the limit
    or on a cycle."""
    sizes: dict[int, int] = {}
    open_ids: set[int] = set()
    stack = [(root, False)]
    while stack:
        item, leaving = stack.pop()
        ident = id(item)
        if leaving:
            open_ids.discard(ident)
            sizes[ident] = 1 + sum(sizes[id(part)] for part in children(item))
            if sizes[ident] > MAX_CONFIG_VALUES:
                raise ConfigError([ConfigIssue(key, (
                    f"holds more than {MAX_CONFIG_VALUES} values once its aliases are expanded (a YAML alias "
                    "bomb?); refused before expanding it. A real config needs far fewer."))], source)
            continue
        if ident in sizes:
            continue
        parts = children(item)
        if not parts:
            sizes[ident] = 1
            continue
        if ident in open_ids:
            raise ConfigError([ConfigIssue(key, "contains itself (a recursive YAML alias); write the values out")],
                              source)
        open_ids.add(ident)
        stack.append((item, True))
        stack.extend((part, False) for part in parts if id(part) not in sizes)


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
    """Set dotted keys: ``["language_model.num_layers=2"]``, ``["stages.0.steps=6"]`` (a number
    indexes a list) or ``{"a.b": value}``. String values are parsed as YAML scalars (``2`` -> int,
    ``[-3,-1]`` -> list). Returns a copy; ``data`` is not changed."""
    data = plain_copy(data)
    items = overrides.items() if isinstance(overrides, Mapping) else [_split_override(o) for o in overrides]
    for key, value in items:
        value = plain_copy(value, key)
        node: Any = data
        *parents, leaf = key.split(".")
        for depth, part in enumerate(parents):
            where = ".".join(parents[:depth + 1])
            if isinstance(node, list):
                child = node[_list_index(node, part, key, where)]
            else:
                child = node.get(part)
                if child is None:
                    child = node[part] = {}
            if not isinstance(child, (dict, list)):
                raise ConfigError([ConfigIssue(key, f"cannot set inside {where!r}: it is {reprlib.repr(child)}, not "
                                                    "a section or a list")])
            node = child
        if isinstance(node, list):
            node[_list_index(node, leaf, key, key)] = value
        else:
            node[leaf] = value
    return data


def _list_index(items: list[Any], part: str, key: str, where: str) -> int:
    """The list index that ``part`` of override ``key`` names (``where``: the dotted path so far)."""
    if not part.isdigit() or int(part) >= len(items):
        listed = where.rpartition(".")[0] or where
        raise ConfigError([ConfigIssue(key, (
            f"{listed!r} is a list of {len(items)} item(s): use an index from 0 to {len(items) - 1} "
            f"(e.g. {listed}.0.KEY=VALUE), not {part!r}" if items else f"{listed!r} is an empty list"))])
    return int(part)


def _split_override(text: str) -> tuple[str, Any]:
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError([ConfigIssue("", f"override {text!r} must look like section.key=value")])
    key = key.strip()
    if not raw.strip():
        return key, raw
    try:
        return key, load_yaml(raw, key)
    except yaml.YAMLError as exc:
        raise ConfigError([ConfigIssue(key, f"value {raw!r} is not valid YAML: {exc}")]) from None
    except RecursionError:
        raise ConfigError([ConfigIssue(key, "value is nested too deeply")]) from None


def load_config(
    source: str | os.PathLike[str] | Mapping[str, Any] | PipelineConfig,
    overrides: list[str] | Mapping[str, Any] | None = None,
    *,
    registry: Any = None,
) -> PipelineConfig:
    """A :class:`PipelineConfig` from a file, a preset name, a dict or a config.

    Only the schema is checked here; :func:`resolve_config` checks the plugins.
    """
    config, issues, label = read_pipeline(source, overrides, registry=registry)
    if issues:
        raise ConfigError(issues, label)
    return config


def read_pipeline(
    source: str | os.PathLike[str] | Mapping[str, Any] | PipelineConfig,
    overrides: list[str] | Mapping[str, Any] | None = None,
    *,
    registry: Any = None,
) -> tuple[PipelineConfig, list[ConfigIssue], str | None]:
    """(config, schema issues, label of the source). Top-level entries with schema problems (an
    unknown section, a section without ``name``...) are left out of the config, so that the rest
    can still be checked and every problem reported at once. A source that cannot be read at
    all raises ConfigError."""
    label = None
    if isinstance(source, PipelineConfig):
        data = source.to_dict()
    elif isinstance(source, Mapping):
        data = plain_copy(source)
    elif Path(source).suffix.lower() in (".yaml", ".yml", ".json", ".toml") or Path(source).exists():
        label = str(source)
        data = read_config_file(source)
    else:
        from mmplug.registry import get_registry

        label = f"preset {source!r}"
        data = plain_copy((registry or get_registry()).preset(str(source)).load(), "", label)
    if overrides:
        data = apply_overrides(data, overrides)
    try:
        return PipelineConfig.model_validate(data), [], label
    except ValidationError as exc:
        issues = pydantic_issues(exc, "", PipelineConfig)
        bad = {error["loc"][0] for error in exc.errors() if error.get("loc")}
    try:
        rest = PipelineConfig.model_validate({key: value for key, value in data.items() if key not in bad})
    except ValidationError:
        raise ConfigError(issues, label) from None
    return rest, issues, label


def dump_config(config: PipelineConfig) -> str:
    """YAML text of a config (round-trips through :func:`load_config`)."""
    return yaml.safe_dump(config.to_dict(), sort_keys=False)
