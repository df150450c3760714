"""Resolve a pipeline config against the installed plugins and check it as a whole.

Every problem is collected (unknown names, bad options, dimension mismatches, pixels the
towers cannot take, token ids outside the vocabulary or shared by two roles, a device that is
not here, attention backends that cannot run here) and raised together as one
:class:`ConfigError` before anything is built. Resolving imports no torch unless the runtime
device is not the CPU (asking whether that device exists needs torch).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from mmplug.core.config import ATTENTION_SECTIONS, SECTION_KINDS, PipelineConfig, PartConfig, read_pipeline
from mmplug.core.errors import ConfigError, ConfigIssue, MmplugError
from mmplug.core.feature_select import layer_index
from mmplug.core.interfaces.attention import AttentionRequest
from mmplug.core.options import (ImageProcessorOptions, LanguageModelOptions, ProjectorOptions, TextFacts,
                                 VisionEncoderOptions, VisionFacts, validate_options)
from mmplug.registry import Kind, PartSpec, Registry, get_registry
from mmplug.registry.spec import Provenance

#: The options base each kind's facts come from.
FACTS_BASES = {Kind.VISION_ENCODER: VisionEncoderOptions, Kind.LANGUAGE_MODEL: LanguageModelOptions}


@dataclass
class ResolvedAttention:
    """An attention backend: its name, validated options and the one instance built from them
    (asked whether it can run here, then given to the parts that use it)."""

    name: str
    options: BaseModel
    backend: Any


@dataclass
class ResolvedPart:
    """A section bound to its plugin and validated options; a part that runs attention also
    carries its backend (``attention``: the backend's name)."""

    section: str
    spec: PartSpec
    options: BaseModel
    attention: str | None = None
    attention_options: BaseModel | None = None
    attention_backend: Any = None

    def bind_attention(self, attention: ResolvedAttention) -> None:
        self.attention, self.attention_options, self.attention_backend = (
            attention.name, attention.options, attention.backend)


@dataclass
class ResolvedPipeline:
    """A checked config: every part resolved, every dimension wired."""

    config: PipelineConfig
    parts: dict[str, ResolvedPart] = field(default_factory=dict)
    vision: VisionFacts | None = None
    text: TextFacts | None = None
    wiring: dict[str, dict[str, Any]] = field(default_factory=dict)
    registry: Registry | None = None

    def wiring_for(self, section: str) -> dict[str, Any]:
        """What the builder tells the part of ``section`` about the others: the wired widths,
        and for the projector the vision tokens it receives (``grid`` of patches, rows x
        columns, and ``has_cls_token``: whether the tower puts a CLS token first)."""
        wiring = dict(self.wiring.get(section, {}))
        if section == "projector" and self.vision is not None:
            wiring.update(grid=self.vision.grid, has_cls_token=self.vision.has_cls_token)
        return wiring

    def part(self, section: str) -> ResolvedPart:
        try:
            return self.parts[section]
        except KeyError:
            raise ConfigError([ConfigIssue(section, "this section is required here but missing")]) from None


def resolve_config(
    source: Any,
    overrides: Any = None,
    *,
    registry: Registry | None = None,
    device: str | None = None,
    dtype: str | None = None,
    allow_code: bool = False,
) -> ResolvedPipeline:
    """Load (if needed) and fully check a pipeline config. Raises one ConfigError listing
    every problem with its dotted path."""
    registry = registry or get_registry()
    config, issues, _ = (source, [], None) if isinstance(source, PipelineConfig) and not overrides else \
        read_pipeline(source, overrides, registry=registry)  # schema issues: the rest is still checked
    if device or dtype:
        runtime = config.runtime.model_copy(update={k: v for k, v in (("device", device), ("dtype", dtype)) if v})
        config = config.model_copy(update={"runtime": runtime})
    resolved = ResolvedPipeline(config=config, registry=registry)
    for section, part in config.sections().items():
        bound = _resolve_part(registry, section, part, allow_code, issues)
        if bound is not None:
            resolved.parts[section] = bound
    _collect_facts(resolved, issues)
    _check_geometry(resolved, issues)
    _check_pixels(resolved, issues)
    _check_token_ids(resolved, issues)
    _check_device(resolved.config.runtime.device, issues)
    _check_attention(resolved, issues)
    if issues:
        raise ConfigError(issues)
    return resolved


def _resolve_part(registry: Registry, section: str, part: PartConfig, allow_code: bool,
                  issues: list[ConfigIssue]) -> ResolvedPart | None:
    kind = SECTION_KINDS[section]
    try:
        spec = _spec_for(registry, kind, part.name, allow_code)
    except MmplugError as exc:
        issues.append(ConfigIssue(f"{section}.name", str(exc)))
        return None
    if part.attention is not None and section not in ATTENTION_SECTIONS:
        issues.append(ConfigIssue(f"{section}.attention", "this part runs no attention; remove the key"))
    try:
        options = validate_options(spec, part.options(), path=section)
    except ConfigError as exc:
        issues.extend(exc.issues)
        return None
    except MmplugError as exc:
        issues.append(ConfigIssue(section, str(exc)))
        return None
    base = FACTS_BASES.get(kind)
    if base is not None and not isinstance(options, base):
        issues.append(ConfigIssue(section, f"plugin {part.name!r} declares no facts(); its options must derive "
                                           f"from {base.__name__}"))
        return None
    return ResolvedPart(section, spec, options)


def _spec_for(registry: Registry, kind: Any, name: str, allow_code: bool) -> PartSpec:
    """A registered part, or (only with ``allow_code``) an explicit ``module:attr`` factory."""
    if ":" not in name:
        return registry.get(kind, name)
    if not allow_code:
        raise ConfigError([ConfigIssue("", (
            f"{name!r} names code by its import path; configs never import code unless you opt in "
            "(allow_code=True in Python, --allow-code on the command line)"))])
    from mmplug.registry import resolve_reference

    factory = resolve_reference(name, what=f"{kind.value} {name!r}")
    return PartSpec(kind, name, factory, getattr(factory, "Options", None), "",
                    Provenance(plugin="<allow_code>"))


def _collect_facts(resolved: ResolvedPipeline, issues: list[ConfigIssue]) -> None:
    if "vision_encoder" in resolved.parts:
        resolved.vision = resolved.parts["vision_encoder"].options.facts()
    if "language_model" in resolved.parts:
        resolved.text = resolved.parts["language_model"].options.facts()


def _check_geometry(resolved: ResolvedPipeline, issues: list[ConfigIssue]) -> None:
    """Wire projector widths from what the vision and text parts declare, and check them."""
    mm = resolved.config.multimodal
    vision, text = resolved.vision, resolved.text
    layers = mm.feature_layers()
    if vision is not None:
        for i, layer in enumerate(layers):
            try:
                layer_index(layer, vision.num_layers)
            except ValueError as exc:
                where = "multimodal.vision_feature_layer" + (f".{i}" if len(layers) > 1 else "")
                issues.append(ConfigIssue(where, str(exc)))
    video = resolved.parts.get("video_encoder")
    if video is not None and mm.share_vision_encoder:
        issues.append(ConfigIssue("video_encoder", "multimodal.share_vision_encoder is true; remove this section "
                                                   "or set share_vision_encoder: false"))
    if video is not None and vision is not None:
        video_facts = video.options.facts()
        if video_facts.hidden_size != vision.hidden_size:
            issues.append(ConfigIssue("video_encoder", f"hidden size {video_facts.hidden_size} differs from "
                                                       f"vision_encoder's {vision.hidden_size}; both feed one projector"))
    projector = resolved.parts.get("projector")
    if projector is None or vision is None or text is None:
        return
    expected_in = vision.hidden_size * len(layers)
    expected_out = text.hidden_size
    declares = isinstance(projector.options, ProjectorOptions)  # option-less projectors declare nothing
    declared_in = projector.options.in_features if declares else None
    declared_out = projector.options.out_features if declares else None
    if declared_in is not None and declared_in != expected_in:
        issues.append(ConfigIssue("projector.in_features", (
            f"{declared_in} does not match the vision side: vision_encoder hidden size {vision.hidden_size} "
            f"x {len(layers)} feature layer(s) = {expected_in}; remove the key to have it wired")))
    if declared_out is not None and declared_out != expected_out:
        issues.append(ConfigIssue("projector.out_features", (
            f"{declared_out} does not match language_model hidden size {expected_out}; "
            "remove the key to have it wired")))
    resolved.wiring["projector"] = {"in_features": expected_in, "out_features": expected_out}


def _check_pixels(resolved: ResolvedPipeline, issues: list[ConfigIssue]) -> None:
    """The image processor's square output must be the size every tower was built for."""
    processor = resolved.parts.get("image_processor")
    if processor is None or not isinstance(processor.options, ImageProcessorOptions):
        return
    produced = processor.options.output_side()
    if produced is None:
        return
    side, key = produced
    mismatched: dict[int, list[str]] = {}
    for section in ("vision_encoder", "video_encoder"):
        tower = resolved.parts.get(section)
        if tower is not None and isinstance(tower.options, VisionEncoderOptions):
            expected = tower.options.facts().image_size
            if side != expected:
                mismatched.setdefault(expected, []).append(f"{section} ({tower.spec.name})")
    for expected, towers in mismatched.items():
        issues.append(ConfigIssue(f"image_processor.{key}", (
            f"the image processor produces {side}x{side} pixels but {' and '.join(towers)} "
            f"{'take' if len(towers) > 1 else 'takes'} "
            f"{expected}x{expected} images; set image_processor.{key} to {expected}")))


#: The multimodal token ids that name different things and so must differ.
ROLE_TOKEN_IDS = ("image_token_id", "video_token_id", "pad_token_id")


def _check_token_ids(resolved: ResolvedPipeline, issues: list[ConfigIssue]) -> None:
    mm = resolved.config.multimodal
    seen: dict[int, str] = {}
    for key in ROLE_TOKEN_IDS:
        value = getattr(mm, key)
        if value is None:
            continue
        if value in seen:
            issues.append(ConfigIssue(f"multimodal.{key}", (
                f"{value} is also multimodal.{seen[value]}; each role needs its own token id")))
        seen.setdefault(value, key)
    text = resolved.text
    if text is None:
        return
    for key in ROLE_TOKEN_IDS:
        value = getattr(mm, key)
        if value is not None and not 0 <= value < text.vocab_size:
            issues.append(ConfigIssue(f"multimodal.{key}", (
                f"{value} is outside the language model's vocabulary (vocab_size {text.vocab_size})")))


def _check_device(device: str, issues: list[ConfigIssue]) -> None:
    """The runtime device must name a device torch can use here."""
    from mmplug.core.devices import device_problem

    problem = device_problem(device)
    if problem:
        issues.append(ConfigIssue("runtime.device", problem))


def _check_attention(resolved: ResolvedPipeline, issues: list[ConfigIssue]) -> None:
    """Bind each attention-running part to its backend (name + validated options), build each
    backend once and ask it whether it can run that part here."""
    runtime = resolved.config.runtime
    default = resolved.config.attention
    registry = resolved.registry
    built: dict[tuple[str, str], ResolvedAttention] = {}
    for section, causal in ATTENTION_SECTIONS.items():
        part_config = getattr(resolved.config, section)
        part = resolved.parts.get(section)
        if part_config is None or part is None:
            continue
        choice = _attention_choice(section, part_config, default)
        if choice is None:
            issues.append(ConfigIssue("attention", f"{section} needs an attention backend; add an 'attention' "
                                                   f"section (installed: {', '.join(registry.names('attention'))})"))
            continue
        name, options, where, name_path = choice
        window = resolved.text.sliding_window if (section == "language_model" and resolved.text) else None
        request = AttentionRequest(device=runtime.device, dtype=runtime.dtype, causal=causal, sliding_window=window)
        key = (name, repr(sorted(options.items())))
        try:
            if key not in built:
                built[key] = _build_backend(registry, name, options, where)
            verdict = built[key].backend.availability(request)
        except ConfigError as exc:
            issues.extend(exc.issues)
            continue
        except MmplugError as exc:
            issues.append(ConfigIssue(name_path, str(exc)))
            continue
        if verdict.ok:
            part.bind_attention(built[key])
            continue
        usable = [other for other in registry.names("attention") if other != name and _can_serve(registry, other, request)]
        hint = f"; use {' or '.join(repr(u) for u in usable)}" if usable else ""
        issues.append(ConfigIssue(name_path, f"backend {name!r} cannot run {section} here: {verdict.reason}{hint}"))


def _attention_choice(section: str, part_config: PartConfig,
                      default: PartConfig | None) -> tuple[str, dict, str, str] | None:
    """(backend name, raw options, options path, name path) of a part: its own ``attention``
    (a name, which takes the pipeline section's options when it names the same backend, or a
    section of its own), else the pipeline-wide ``attention`` section."""
    own, where = part_config.attention, f"{section}.attention"
    if isinstance(own, PartConfig):
        return own.name, own.options(), where, f"{where}.name"
    if own is not None:
        if default is not None and default.name == own:
            return own, default.options(), "attention", where
        return own, {}, where, where
    if default is None:
        return None
    return default.name, default.options(), "attention", "attention.name"


def _build_backend(registry: Registry, name: str, options: dict[str, Any], where: str) -> ResolvedAttention:
    from mmplug.core.context import BuildContext

    spec = registry.get("attention", name)
    validated = validate_options(spec, options, path=where)
    backend = spec.build(validated, BuildContext(section=where), section=where)
    return ResolvedAttention(name, validated, backend)


def _can_serve(registry: Registry, name: str, request: AttentionRequest) -> bool:
    try:
        return bool(_build_backend(registry, name, {}, "attention").backend.availability(request))
    except MmplugError:
        return False
