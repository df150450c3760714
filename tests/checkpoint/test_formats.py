"""Layout recognition: each format claims its own layout's names and no other; key listings fold."""
from __future__ import annotations

import pytest

from mmplug.core.checkpoint.formats import detect_format
from mmplug.core.checkpoint.keys import group_keys
from mmplug.core.errors import CheckpointError

from .helpers import LANGUAGEBIND_RULES, LAYOUT_RULES, rename

PUBLISHED = ["language_model.model.embed_tokens.weight", "language_model.model.layers.0.self_attn.q_proj.weight",
             "language_model.model.norm.weight", "language_model.lm_head.weight",
             "image_tower.vision_model.embeddings.patch_embedding.weight",
             "image_tower.vision_model.embeddings.position_ids",
             "video_tower.vision_model.encoder.layers.3.mlp.fc1.weight",
             "multi_modal_projector.linear_1.weight", "multi_modal_projector.linear_2.bias"]


def keys_in(rules):
    return list(rename(dict.fromkeys(PUBLISHED), rules))


@pytest.mark.parametrize("layout", sorted(LAYOUT_RULES))
def test_each_layout_is_recognised_by_exactly_its_format(layout, registry):
    name, fmt = detect_format(keys_in(LAYOUT_RULES[layout]), {"model_type": "video_llava"}, registry=registry,
                              where="test")
    assert name == layout
    assert fmt.to_model_key(keys_in(LAYOUT_RULES[layout])[1]) == "language_model.layers.0.self_attn.q_proj.weight"
    assert fmt.to_model_key(keys_in(LAYOUT_RULES[layout])[5]) is None  # a buffer, not a weight
    for key, ours in zip(keys_in(LAYOUT_RULES[layout]), keys_in(LAYOUT_RULES["published"])):
        mapped = fmt.to_model_key(key)
        if mapped is not None:
            assert fmt.from_model_key(mapped) == key


def test_languagebind_is_recognised_by_names(registry):
    name, fmt = detect_format(keys_in(LANGUAGEBIND_RULES), {"model_type": "llava"}, registry=registry, where="t")
    assert name == "languagebind" and fmt.loadable is False
    assert fmt.to_model_key("model.mm_projector.2.weight") == "projector.linear_2.weight"
    assert fmt.to_model_key("model.image_tower.image_tower.pre_layrnorm.bias") == "vision_encoder.pre_layrnorm.bias"


def test_mixed_layouts_match_nothing(registry):
    mixed = keys_in(LAYOUT_RULES["published"])[:5] + keys_in(LAYOUT_RULES["v5"])[6:]  # towers of both
    with pytest.raises(CheckpointError, match="no installed checkpoint format"):
        detect_format(mixed, {}, registry=registry, where="mixed")


def test_group_keys_folds_layer_indices():
    text = group_keys([f"language_model.layers.{i}.mlp.up_proj.weight" for i in (0, 1, 2, 5)] + ["projector.x"])
    assert "language_model.* (4): language_model.layers.{0-2,5}.mlp.up_proj.weight" in text
    assert "projector.* (1): projector.x" in text
