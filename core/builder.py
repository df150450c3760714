"""Builder: a resolved config -> plugin instances -> an assembled model and processor.

Nothing here names a concrete plugin: parts come from the registry by the
names the config gives, dimensions from what the parts declare.
"""
from __future__ import annotations

from typing import Any

from mmplug.core import feature_select
from mmplug.core.config import MODEL_SECTIONS
from mmplug.core.context import BuildContext
from mmplug.core.dtypes import DTYPE_NAMES
from mmplug.core.options import ProjectorOptions
from mmplug.core.errors import ConfigError, ConfigIssue
from mmplug.core.resolve import ResolvedPipeline, resolve_config

def build_part(resolved: ResolvedPipeline, section: str, *, device: str | None = None,
               dtype: str | None = None) -> Any:
    """Build the part of ``section`` (validated options + wiring + attention backend)."""
    part = resolved.part(section)
    runtime = resolved.config.runtime
    context = BuildContext(
        section=section,
        device=device or runtime.device,
        dtype=dtype or runtime.dtype,
        attention=part.attention_backend,
        wiring=resolved.wiring_for(section),
        pipeline=resolved,
    )
    return part.spec.build(part.options, context, section=section)


def tokens_per_item(resolved: ResolvedPipeline) -> dict[str, int]:
    """Placeholder tokens one image and one video frame expand to, and the tokens a projector
    appends to each video (``video_extra``), from the declared geometry."""
    vision = resolved.vision
    if vision is None:
        raise ConfigError([ConfigIssue("vision_encoder", "required to count media tokens")])
    mm = resolved.config.multimodal
    projector = resolved.parts.get("projector")

    options = projector.options if projector is not None and isinstance(projector.options, ProjectorOptions) else None

    def count(strategy: str, frames: bool) -> int:
        tokens = feature_select.tokens_per_image(vision.patches_per_image, vision.has_cls_token, strategy)
        if options is None:
            return tokens  # an option-less projector keeps the length
        length = options.frame_output_length if frames else options.output_length
        return length(tokens, grid=vision.grid, has_cls_token=feature_select.keeps_cls(strategy, vision.has_cls_token))

    return {"image": count(mm.image_feature_select_strategy, False),
            "frame": count(mm.video_feature_select_strategy, True),
            "video_extra": options.video_extra_tokens() if options is not None else 0}


def build_model_parts(resolved: ResolvedPipeline, *, device: str = "cpu", dtype: str = "float32") -> dict[str, Any]:
    """The model parts of a resolved config, by section, built on ``device`` in ``dtype``
    (``device="meta"``: shapes only, no memory). Random weights come from ``runtime.seed``
    when it is set (same seed, same weights), from torch's global random state otherwise."""
    import torch

    from mmplug.core.seeding import seeded

    missing = [s for s in ("vision_encoder", "projector", "language_model") if s not in resolved.parts]
    if missing:
        raise ConfigError([ConfigIssue(s, "required to build a model") for s in missing])
    if dtype not in DTYPE_NAMES:
        raise ConfigError([ConfigIssue("runtime.dtype", f"{dtype!r} is not one of {', '.join(DTYPE_NAMES)}")])
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
        tokens_per_video_extra=tokens["video_extra"],
    )
