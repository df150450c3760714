"""Checkpoint formats that differ from mmplug's parameter names only by key prefixes.

Inside each part, mmplug already uses the reference module names (``layers.N.self_attn...``,
``embeddings.patch_embedding...``, ``linear_1``), so a family's layouts (e.g. those of
:mod:`mmplug.plugins.video_llava.layouts`) are tables of (checkpoint prefix, mmplug prefix)
pairs. Torch-free: formats are pure name mapping.
"""
from __future__ import annotations

from typing import Any, Iterable

from mmplug.core.interfaces.checkpoint import CheckpointFormat, ConfigTranslation

#: Tensors that are not weights (recomputed buffers some writers saved); skipped on load.
NOT_WEIGHTS = ("rotary_emb.inv_freq", "embeddings.position_ids")
LM_HEAD, DECODER = "language_model.lm_head.", "language_model."
VISION, VIDEO, PROJECTOR = "vision_encoder.", "video_encoder.", "projector."


class PrefixFormat(CheckpointFormat):
    """A layout given by prefix tables.

    ``write``: (checkpoint prefix, mmplug prefix) pairs, most specific first, used both ways;
    ``aliases``: extra pairs only read; ``forbidden``: checkpoint prefixes this layout never has
    (they tell apart layouts whose tables would otherwise both match); ``model_types``: the
    ``config.json`` model types it accepts (empty: any); ``translation``: the family's
    config.json translation.
    """

    def __init__(self, name: str, description: str, write: list[tuple[str, str]], *,
                 aliases: Iterable[tuple[str, str]] = (), forbidden: Iterable[str] = (),
                 required: Iterable[str] = (), model_types: Iterable[str] = (),
                 translation: ConfigTranslation | None = None):
        self.name, self.description, self.translation = name, description, translation
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
