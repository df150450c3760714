"""Parity of the ``siglip`` vision encoder with transformers' SiglipVisionModel (4.56.2, fp32,
CPU): every kept layer within 1e-5, the post-layernormed last state and the pooled head output;
no CLS token; a patch grid that does not divide the image (as 384 px / 14 px); config both ways."""
from __future__ import annotations

import pytest
import torch

pytest.importorskip("transformers", reason="transformers is the test-only numerical reference")

from mmplug.core.errors import ConfigError, ProcessorError  # noqa: E402
from mmplug.registry import Kind, discover  # noqa: E402

from .parts import build_part_alone, copy_weights  # noqa: E402

TINY = {"hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 3, "num_attention_heads": 4,
        "image_size": 30, "patch_size": 7}  # 30 // 7 = 4: a 4x4 grid, 2 pixels left over (as 384 / 14)


def pair(attention: str = "eager", **hf: object):
    from transformers import SiglipVisionConfig, SiglipVisionModel

    from mmplug.plugins.siglip.options import SIGLIP_VISION

    config = SiglipVisionConfig(**{**TINY, **hf}, attn_implementation=attention)
    issues: list = []
    options = SIGLIP_VISION.to_options(config.to_dict(), where="vision_config", issues=issues)
    assert issues == []
    torch.manual_seed(0)
    reference = SiglipVisionModel(config).eval()
    ours = build_part_alone(Kind.VISION_ENCODER, "siglip", options, attention)
    copy_weights(reference, ours, [("vision_model.", "")])
    return reference, ours


def images(n: int = 2) -> torch.Tensor:
    return torch.randn(n, 3, 30, 30, generator=torch.Generator().manual_seed(3))


@pytest.mark.parametrize("attention", ["eager", "sdpa"])
def test_every_kept_layer_matches(attention: str) -> None:
    reference, ours = pair(attention)
    pixels = images()
    with torch.no_grad():
        expected = reference(pixels, output_hidden_states=True)
        got = ours.hidden_states(pixels, list(range(4)))
    assert len(got) == len(expected.hidden_states) == 4
    for e, g in zip(expected.hidden_states, got):
        assert g.shape == (2, 16, 32)  # 16 patches, no CLS token
        assert e.abs().max() > 0.1
        assert (e - g).abs().max() <= 1e-5
    with torch.no_grad():
        assert (expected.last_hidden_state - ours.last_hidden_state(pixels)).abs().max() <= 1e-5
        assert (expected.pooler_output - ours.pooled(pixels)).abs().max() <= 1e-5


def test_tower_without_head_has_no_head_weights() -> None:
    reference, ours = pair(vision_use_head=False)
    assert ours.head is None and not any(k.startswith("head.") for k in ours.state_dict())
    assert ours.has_cls_token is False and ours.tokens_per_image("default") == 16
    with pytest.raises(ProcessorError, match="no pooling head"):
        ours.pooled(images(1))


def test_tower_facts_and_parameter_count_match_so400m() -> None:
    """The so400m-patch14-384 geometry: 729 patches, parameter count equal to transformers' on meta."""
    from transformers import SiglipVisionConfig, SiglipVisionModel

    from mmplug.core.builder import count_parameters
    from mmplug.plugins.siglip.options import SIGLIP_VISION, SiglipOptions

    config = SiglipVisionConfig(hidden_size=1152, intermediate_size=4304, num_hidden_layers=27,
                                num_attention_heads=16, image_size=384, patch_size=14)
    issues: list = []
    options = SiglipOptions.model_validate(SIGLIP_VISION.to_options(config.to_dict(), where="v", issues=issues))
    assert options.facts().patches_per_image == 729 and options.facts().grid == (27, 27)
    with torch.device("meta"):
        reference = SiglipVisionModel(config)
        ours = build_part_alone(Kind.VISION_ENCODER, "siglip", options.model_dump())
    assert count_parameters(ours) == count_parameters(reference)


def test_config_translates_back() -> None:
    from transformers import SiglipVisionConfig

    from mmplug.plugins.siglip.options import SIGLIP_VISION, SiglipOptions

    original = SiglipVisionConfig(**TINY, vision_use_head=False, layer_norm_eps=1e-5)
    issues: list = []
    options = SiglipOptions.model_validate(SIGLIP_VISION.to_options(original.to_dict(), where="v", issues=issues))
    back = SiglipVisionConfig(**SIGLIP_VISION.from_options(options, where="vision_encoder"))
    for key in (*TINY, "vision_use_head", "layer_norm_eps", "hidden_act"):
        assert getattr(back, key) == getattr(original, key), key


def test_wrong_pixels_and_options_are_named() -> None:
    _, ours = pair()
    with pytest.raises(ProcessorError, match=r"expects pixels \(N,3,30,30\)"):
        ours.hidden_states(torch.zeros(1, 3, 28, 28), [-1])
    with pytest.raises(ConfigError, match="vision_encoder.hidden_act"):
        discover().build(Kind.VISION_ENCODER, "siglip", {"hidden_size": 32, "intermediate_size": 8, "num_layers": 1,
                                                          "num_heads": 4, "image_size": 28, "patch_size": 14,
                                                          "hidden_act": "gelu_tanh"})
