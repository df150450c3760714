"""Builder: a resolved config -> plugin instances -> an assembled model and processor.

Nothing here names a concrete plugin: parts come from the registry by the
names the config gives, dimensions from what the parts declare.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mmplug.core.config import MODEL_SECTIONS
from mmplug.core.errors import ConfigError, ConfigIssue
from mmplug.core.resolve import ResolvedPipeline, resolve_config

DTYPES = ("float32", "float16", "bfloat16")


@dataclass
class BuildContext:
    """What a factory receives besides its options.

    ``wiring`` holds dimensions the builder derived from other parts (e.g. the
    projector's ``in_features``/``out_features``); ``attention`` is the backend
    instance this part must use (or None for parts that run no attention).
    """

    section: str
    device: str = "cpu"
    dtype: str = "float32"
    attention: Any = None
    wiring: dict[str, Any] = field(default_factory=dict)
    pipeline: ResolvedPipeline | None = None

    @property
    def torch_dtype(self) -> Any:
        import torch

        return getattr(torch, self.dtype)


def build_part(resolved: ResolvedPipeline, section: str, *, device: str | None = None,
               dtype: str | None = None) -> Any:
    """Build the part of ``section`` (validated options + wiring + attention backend)."""
    part = resolved.part(section)
    runtime = resolved.config.runtime
    context = BuildContext(
        section=section,
        device=device or runtime.device,
        dtype=dtype or runtime.dtype,
        attention=_attention_backend(resolved, part.attention),
        wiring=dict(resolved.wiring.get(section, {})),
        pipeline=resolved,
    )
    return part.spec.load_factory()(part.options, context)


def _attention_backend(resolved: ResolvedPipeline, name: str | None) -> Any:
    if name is None:
        return None
    default = resolved.config.attention
    options = default.options() if default is not None and default.name == name else {}
    return resolved.registry.build("attention", name, options, None)


def tokens_per_item(resolved: ResolvedPipeline) -> dict[str, int]:
    """Placeholder tokens one image and one video frame expand to, from the declared geometry."""
    vision = resolved.vision
    if vision is None:
        raise ConfigError([ConfigIssue("vision_encoder", "required to count media tokens")])
    mm = resolved.config.multimodal
    projector = resolved.parts.get("projector")

    def count(strategy: str) -> int:
        tokens = vision.patches_per_image + (1 if vision.has_cls_token and strategy == "full" else 0)
        return projector.options.output_length(tokens) if projector else tokens

    return {"image": count(mm.image_feature_select_strategy), "frame": count(mm.video_feature_select_strategy)}


def build_model_parts(resolved: ResolvedPipeline, *, device: str = "cpu", dtype: str = "float32") -> dict[str, Any]:
    """The model parts of a resolved config, by section, built on ``device`` in ``dtype``
    (``device="meta"``: shapes only, no memory). Random weights come from ``runtime.seed``
    when it is set (same seed, same weights), from torch's global random state otherwise."""
    import torch

    from mmplug.core.seeding import seeded

    missing = [s for s in ("vision_encoder", "projector", "language_model") if s not in resolved.parts]
    if missing:
        raise ConfigError([ConfigIssue(s, "required to build a model") for s in missing])
    if dtype not in DTYPES:
        raise ConfigError([ConfigIssue("runtime.dtype", f"{dtype!r} is not one of {', '.join(DTYPES)}")])
    with torch.device(device), seeded(resolved.config.runtime.seed, device):
        parts = {s: build_part(resolved, s, device=device, dtype=dtype) for s in MODEL_SECTIONS
                 if s in resolved.parts}
    return {section: part.to(getattr(torch, dtype)) for section, part in parts.items()}


def build_model(
    config: Any,
    *,
    device: str | None = None,
    dtype: str | None = None,
    meta: bool = False,
    registry: Any = None,
) -> Any:
    """Assemble the multimodal model from a config (path, preset, dict or resolved).

    ``meta=True`` builds on the meta device: shapes and parameter counts, no memory.
    Weights are randomly initialised otherwise; checkpoints are loaded separately.
    """
    resolved = config if isinstance(config, ResolvedPipeline) else resolve_config(
        config, registry=registry, device=device, dtype=dtype)
    parts = build_model_parts(resolved, device="meta" if meta else (device or resolved.config.runtime.device),
                              dtype=dtype or resolved.config.runtime.dtype)
    return assemble_model(parts, resolved)


def assemble_model(parts: dict[str, Any], resolved: ResolvedPipeline) -> Any:
    """Join built parts into the multimodal model."""
    from mmplug.core.model import MultimodalModel

    return MultimodalModel(
        vision_encoder=parts["vision_encoder"],
        video_encoder=parts.get("video_encoder"),
        projector=parts["projector"],
        language_model=parts["language_model"],
        config=resolved.config.multimodal,
    )


def count_parameters(module: Any) -> int:
    """Number of distinct parameters (tied weights counted once)."""
    seen = {id(p): p.numel() for p in module.parameters()}
    return sum(seen.values())


def build_processor(config: Any, *, registry: Any = None) -> Any:
    """Assemble the processor (tokenizer, chat template, image processor, placeholder geometry)."""
    from mmplug.core.processor import Processor

    resolved = config if isinstance(config, ResolvedPipeline) else resolve_config(config, registry=registry)
    optional = {s: build_part(resolved, s) for s in ("chat_template",) if s in resolved.parts}
    tokens = tokens_per_item(resolved)
    return Processor(
        tokenizer=build_part(resolved, "tokenizer"),
        image_processor=build_part(resolved, "image_processor"),
        chat_template=optional.get("chat_template"),
        config=resolved.config.multimodal,
        tokens_per_image=tokens["image"],
        tokens_per_frame=tokens["frame"],
    )
