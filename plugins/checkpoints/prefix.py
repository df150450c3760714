"""Checkpoint formats that differ from mmplug's parameter names only by key prefixes.

Inside each part, mmplug already uses the reference module names (``layers.N.self_attn...``,
``embeddings.patch_embedding...``, ``linear_1``), so every Video-LLaVA layout below is a table of
(checkpoint prefix, mmplug prefix) pairs. Torch-free: formats are pure name mapping.
"""
from __future__ import annotations

from typing import Any, Iterable

from mmplug.core.interfaces.checkpoint import CheckpointFormat

#: Tensors that are not weights (recomputed buffers some writers saved); skipped on load.
NOT_WEIGHTS = ("rotary_emb.inv_freq", "embeddings.position_ids")
LM_HEAD, DECODER = "language_model.lm_head.", "language_model."
VISION, VIDEO, PROJECTOR = "vision_encoder.", "video_encoder.", "projector."


class PrefixFormat(CheckpointFormat):
    """A layout given by prefix tables.

    ``write``: (checkpoint prefix, mmplug prefix) pairs, most specific first, used both ways;
    ``aliases``: extra pairs only read; ``forbidden``: checkpoint prefixes this layout never has
    (they tell apart layouts whose tables would otherwise both match); ``model_types``: the
    ``config.json`` model types it accepts (empty: any).
    """

    def __init__(self, name: str, description: str, write: list[tuple[str, str]], *,
                 aliases: Iterable[tuple[str, str]] = (), forbidden: Iterable[str] = (),
                 required: Iterable[str] = (), model_types: Iterable[str] = ("video_llava",)):
        self.name, self.description = name, description
        self.write = list(write)
        self.read = sorted(self.write + list(aliases), key=lambda pair: -len(pair[0]))
        self.forbidden, self.required, self.model_types = tuple(forbidden), tuple(required), set(model_types)

    def __repr__(self) -> str:
        return f"<checkpoint format {self.name!r}>"

    def _mapped(self, key: str) -> bool:
        return key.endswith(NOT_WEIGHTS) or any(key.startswith(ckpt) for ckpt, _ in self.read)

    def matches(self, keys: Iterable[str], config: dict[str, Any]) -> bool:
        keys = list(keys)
        return bool(keys) and not self.unmatched_keys(keys, config)

    def unmatched_keys(self, keys: Iterable[str], config: dict[str, Any]) -> list[str]:
        """The keys that keep this layout from matching: unmapped or forbidden ones (all of them
        when the config's model type is another or no key has a required prefix)."""
        keys = list(keys)
        model_type = (config or {}).get("model_type")
        if self.model_types and model_type is not None and model_type not in self.model_types:
            return keys
        if self.required and not any(key.startswith(self.required) for key in keys):
            return keys
        return [key for key in keys if not self._mapped(key) or (self.forbidden and key.startswith(self.forbidden))]

    def to_model_key(self, key: str) -> str | None:
        if key.endswith(NOT_WEIGHTS):
            return None
        for ckpt, ours in self.read:
            if key.startswith(ckpt):
                return ours + key[len(ckpt):]
        return key  # unknown: kept as is, so the loader reports it as unused under its own name

    def from_model_key(self, key: str) -> str:
        for ckpt, ours in self.write:
            if key.startswith(ours):
                return ckpt + key[len(ours):]
        raise KeyError(f"parameter {key!r} has no place in the {self.name} layout")


def published(options: Any = None, context: Any = None) -> PrefixFormat:
    """Layout 1: LanguageBind/Video-LLaVA-7B-hf and transformers 4.4x-4.5x ``save_pretrained``."""
    return PrefixFormat("published", "Video-LLaVA-7B-hf / transformers 4.x save_pretrained", [
        ("language_model.lm_head.", LM_HEAD), ("language_model.model.", DECODER),
        ("image_tower.vision_model.", VISION), ("video_tower.vision_model.", VIDEO),
        ("multi_modal_projector.", PROJECTOR)])


def v5(options: Any = None, context: Any = None) -> PrefixFormat:
    """Layout 2: transformers 5.x ``save_pretrained``: towers without the ``vision_model.`` level."""
    return PrefixFormat("v5", "transformers 5.x save_pretrained (towers without vision_model.)", [
        ("language_model.lm_head.", LM_HEAD), ("language_model.model.", DECODER),
        ("image_tower.", VISION), ("video_tower.", VIDEO), ("multi_modal_projector.", PROJECTOR)],
        aliases=[("lm_head.", LM_HEAD), ("language_model.", DECODER)],
        forbidden=("image_tower.vision_model.", "video_tower.vision_model."))


def v5_prefixed(options: Any = None, context: Any = None) -> PrefixFormat:
    """Layout 3: layout 2 under a leading ``model.``, with a top-level ``lm_head``."""
    return PrefixFormat("v5_prefixed", "transformers 5.x, model.-prefixed (model.language_model.*, lm_head)", [
        ("lm_head.", LM_HEAD), ("model.language_model.", DECODER), ("model.image_tower.", VISION),
        ("model.video_tower.", VIDEO), ("model.multi_modal_projector.", PROJECTOR)],
        forbidden=("model.image_tower.vision_model.", "model.video_tower.vision_model."))


def state_dict(options: Any = None, context: Any = None) -> PrefixFormat:
    """The in-memory state dict of transformers >= 4.52 (``model.state_dict()`` saved as is)."""
    return PrefixFormat("state_dict", "transformers >= 4.52 in-memory state_dict names", [
        ("lm_head.", LM_HEAD), ("model.language_model.", DECODER),
        ("model.image_tower.vision_model.", VISION), ("model.video_tower.vision_model.", VIDEO),
        ("model.multi_modal_projector.", PROJECTOR)])
