"""The LLaVA-OneVision family's video path against transformers' LlavaOnevisionForConditionalGeneration
(4.56.2, fp32, CPU) on a tiny random SigLIP + Qwen2 model: a checkpoint saved by transformers loads
strictly; logits within 1e-4 on a video and on a left-padded batch of videos; greedy 20 tokens
identical; what mmplug saves loads in transformers with bit-identical logits; the preset counts
transformers' parameters. (Images, which need anyres tiling, are refused: not implemented.)"""
from __future__ import annotations

import pytest
import torch

pytest.importorskip("transformers", reason="transformers is the test-only numerical reference")

from mmplug.core.builder import build_model, count_parameters  # noqa: E402
from mmplug.core.checkpoint import config_from_pretrained, load_weights, save_pretrained  # noqa: E402
from mmplug.core.errors import ProcessorError  # noqa: E402
from mmplug.core.generation import GenerationConfig, generate_ids  # noqa: E402
from mmplug.core.resolve import resolve_config  # noqa: E402
from model.reference import IMAGE, PAD, VIDEO, left_pad, randomize, reference_positions  # noqa: E402

from .helpers import read_json  # noqa: E402

EAGER = {"attention.name": "eager"}
VISION = {"model_type": "siglip_vision_model", "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 3,
          "num_attention_heads": 4, "image_size": 30, "patch_size": 7, "vision_use_head": False}  # 4x4 patches
TEXT = {"model_type": "qwen2", "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 128, "tie_word_embeddings": True,
        "rope_theta": 1000000.0}
POOLED = 4  # ceil(4 / 2) ** 2 tokens per frame after the 2x2 pooling


def video_tokens(frames: int) -> list[int]:
    return [VIDEO] * (frames * POOLED + 1)  # + the newline token after the video


def videos(count: int, frames: int = 3, seed: int = 2) -> torch.Tensor:
    return torch.randn(count, frames, 3, 30, 30, generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module")
def reference():
    from transformers import LlavaOnevisionConfig, LlavaOnevisionForConditionalGeneration

    config = LlavaOnevisionConfig(vision_config=dict(VISION), text_config=dict(TEXT), image_token_index=IMAGE,
                                  video_token_index=VIDEO, pad_token_id=PAD, attn_implementation="eager")
    torch.manual_seed(0)
    model = LlavaOnevisionForConditionalGeneration(config).eval()
    randomize(model)
    return model


@pytest.fixture(scope="module")
def saved(reference, tmp_path_factory):
    directory = tmp_path_factory.mktemp("onevision")
    reference.save_pretrained(directory)
    return directory


@pytest.fixture(scope="module")
def loaded(saved, registry):
    resolved = resolve_config(config_from_pretrained(saved, registry=registry), EAGER, registry=registry)
    return load_weights(build_model(resolved, meta=True), saved).eval(), resolved


def rows() -> list[list[int]]:
    return [[1, 5] + video_tokens(3) + [7, 8], [1, 3, 4, 6, 9, 10, 11] + video_tokens(3) + [12, 13]]


def test_translated_pipeline(loaded):
    model, resolved = loaded
    assert resolved.parts["vision_encoder"].spec.name == "siglip"
    assert resolved.parts["language_model"].spec.name == "qwen2"
    assert resolved.parts["projector"].spec.name == "onevision_mlp"
    assert model.language_model.lm_head.weight is model.language_model.embed_tokens.weight


@pytest.mark.parametrize("batch", ["one_video", "left_padded_batch"])
def test_video_logits_match(loaded, reference, batch):
    model, _ = loaded
    chosen = rows()[:1] if batch == "one_video" else rows()
    ids, mask = left_pad(chosen)
    pixels = videos(len(chosen))
    with torch.no_grad():
        expected = reference(input_ids=ids, attention_mask=mask, position_ids=reference_positions(mask),
                             pixel_values_videos=pixels).logits
        got = model(ids, attention_mask=mask, pixel_values_videos=pixels).logits
    keep = mask.bool()
    assert expected[keep].abs().max() > 0.1
    assert (expected - got).abs()[keep].max() <= 1e-4


def test_video_features_are_pooled_with_a_newline(loaded, reference):
    model, _ = loaded
    pixels = videos(2)
    with torch.no_grad():
        got = model.video_features(pixels)
        pooled = reference.model.get_video_features(pixels, -1, "full")
    assert got.shape == (2, 3 * POOLED + 1, 64)
    assert (got[:, :-1] - pooled).abs().max() <= 1e-5
    assert torch.equal(got[0, -1], reference.model.image_newline.detach())


def test_greedy_20_tokens_identical(loaded, reference):
    model, _ = loaded
    ids, mask = left_pad(rows())
    pixels = videos(2)
    want = reference.generate(input_ids=ids, attention_mask=mask, pixel_values_videos=pixels, max_new_tokens=20,
                              min_new_tokens=20, do_sample=False, pad_token_id=PAD)[:, ids.shape[1]:]
    got = generate_ids(model, {"input_ids": ids, "attention_mask": mask, "pixel_values_videos": pixels},
                       GenerationConfig(max_new_tokens=20, min_new_tokens=20), eos_ids=[], pad_id=PAD)
    assert got.token_ids == want.tolist()


def test_transformers_loads_what_we_save(loaded, reference, tmp_path):
    from transformers import LlavaOnevisionForConditionalGeneration

    model, resolved = loaded
    out = save_pretrained(model, resolved, tmp_path / "out")
    assert read_json(out / "config.json")["model_type"] == "llava_onevision"
    again, info = LlavaOnevisionForConditionalGeneration.from_pretrained(out, output_loading_info=True,
                                                                         attn_implementation="eager")
    assert (info["missing_keys"], info["unexpected_keys"], info["mismatched_keys"]) == ([], [], [])
    ids, pixels = torch.tensor(rows()[:1]), videos(1)
    with torch.no_grad():
        assert torch.equal(again.eval()(input_ids=ids, pixel_values_videos=pixels).logits,
                           reference(input_ids=ids, pixel_values_videos=pixels).logits)


def test_images_are_refused_not_mangled(loaded):
    model, _ = loaded
    with pytest.raises(ProcessorError, match="anyres"):
        model(torch.tensor([[1] + [IMAGE] * 16]), pixel_values_images=torch.zeros(1, 3, 30, 30))


def test_preset_counts_transformers_parameters(registry):
    from transformers import LlavaOnevisionConfig, LlavaOnevisionForConditionalGeneration

    ours = build_model("llava-onevision-qwen2-0.5b", meta=True, registry=registry)
    text = {"model_type": "qwen2", "hidden_size": 896, "intermediate_size": 4864, "num_hidden_layers": 24,
            "num_attention_heads": 14, "num_key_value_heads": 2, "vocab_size": 152000, "tie_word_embeddings": True,
            "rope_theta": 1000000.0}
    with torch.device("meta"):
        theirs = LlavaOnevisionForConditionalGeneration(LlavaOnevisionConfig(text_config=text))
    assert count_parameters(ours) == count_parameters(theirs)


def test_processor_counts_pooled_frames_and_the_newline(loaded):
    from mmplug.core.builder import tokens_per_item

    _, resolved = loaded
    assert tokens_per_item(resolved) == {"image": 16, "frame": POOLED, "video_extra": 1}
