"""The video-llava-7b preset counts exactly the reference model's parameters (meta device)."""
from __future__ import annotations

import pytest
import torch

from mmplug.core.builder import build_model, count_parameters
from mmplug.registry import discover

TOWER, PROJECTOR, DECODER = 303_179_776, 20_979_712, 6_738_939_904
TOTAL = 7_366_279_168


@pytest.fixture(scope="module")
def model_7b():
    return build_model("video-llava-7b", meta=True, registry=discover())


def test_preset_parts_count_as_published(model_7b) -> None:
    assert model_7b.language_model.lm_head.weight.device.type == "meta"
    assert count_parameters(model_7b.vision_encoder) == TOWER
    assert count_parameters(model_7b.video_encoder) == TOWER
    assert count_parameters(model_7b.projector) == PROJECTOR
    assert count_parameters(model_7b.language_model) == DECODER
    assert count_parameters(model_7b) == TOTAL


def test_preset_matches_reference_built_on_meta(model_7b) -> None:
    transformers = pytest.importorskip("transformers", reason="transformers is the test-only reference")
    config = transformers.VideoLlavaConfig(text_config={"model_type": "llama", "vocab_size": 32064})
    with torch.device("meta"):
        reference = transformers.VideoLlavaForConditionalGeneration(config)
    assert count_parameters(reference) == count_parameters(model_7b)
    ours = {name: tuple(p.shape) for name, p in model_7b.named_parameters()}
    from mmplug.core.checkpoint import rename_to_model

    renamed = rename_to_model(dict(reference.named_parameters()), "state_dict")
    theirs = {name: tuple(p.shape) for name, p in renamed.items()}
    assert ours == theirs
