"""Parity with transformers' VideoLlavaForConditionalGeneration (4.56.2, fp32, CPU).

Logits must match to 1e-4, the loss to 1e-5 and the projector's first weight gradient to 1e-4
relative, for images, videos, both, a left-padded mixed batch, several feature layers and
strategies, Llama with grouped-query attention and Mistral with a short sliding window.
"""
from __future__ import annotations

import pytest
import torch

pytest.importorskip("transformers", reason="transformers is the test-only numerical reference")

from .reference import Tiny, build_pair, left_pad, pixels, prompt, reference_positions  # noqa: E402

LOGITS_TOL = 1e-4
BACKENDS = ["eager", "sdpa"]


def run_both(tiny: Tiny, rows: list[list[int]], images: int = 0, videos: int = 0, frames: int = 2):
    """Logits of both models on left-padded ``rows`` with random media; returns (ref, ours, mask)."""
    reference, ours = build_pair(tiny)
    ids, mask = left_pad(rows)
    media = {"pixel_values_images": pixels(images) if images else None,
             "pixel_values_videos": pixels(videos, frames, seed=2) if videos else None}
    with torch.no_grad():
        expected = reference(input_ids=ids, attention_mask=mask, position_ids=reference_positions(mask), **media)
        got = ours(ids, attention_mask=mask, **media)
    return expected.logits, got.logits, mask.bool()


def assert_logits_match(expected: torch.Tensor, got: torch.Tensor, keep: torch.Tensor) -> None:
    assert got.shape == expected.shape
    assert expected[keep].abs().max() > 0.1, "reference logits are too small for a meaningful comparison"
    assert (expected - got).abs()[keep].max() <= LOGITS_TOL


def scenarios(tiny: Tiny) -> dict[str, tuple[list[list[int]], int, int]]:
    """name -> (rows, images, videos)."""
    return {
        "image": ([prompt(tiny, 1, 5, "image", 7, 8, 9)], 1, 0),
        "video": ([prompt(tiny, 1, ("video", 2), 11, 12)], 0, 1),
        "image_and_video": ([prompt(tiny, 1, "image", 3, ("video", 2), 4, 5)], 1, 1),
        "padded_batch": ([prompt(tiny, 1, "image", 6, 7), prompt(tiny, 1, 2, ("video", 2), 8, 9, 10, 11)], 1, 1),
    }


@pytest.mark.parametrize("attention", BACKENDS)
@pytest.mark.parametrize("scenario", ["image", "video", "image_and_video", "padded_batch"])
def test_llama_gqa_logits(attention: str, scenario: str) -> None:
    tiny = Tiny(attention=attention)
    rows, images, videos = scenarios(tiny)[scenario]
    assert_logits_match(*run_both(tiny, rows, images, videos))


@pytest.mark.parametrize("layers", [-2, (-3, -1)])
@pytest.mark.parametrize("strategy", ["default", "full"])
def test_feature_layers_and_strategy(layers, strategy: str) -> None:
    tiny = Tiny(vision_feature_layer=layers, image_strategy=strategy)
    rows, images, videos = scenarios(tiny)["padded_batch"]
    assert_logits_match(*run_both(tiny, rows, images, videos))


@pytest.mark.parametrize("attention", BACKENDS)
@pytest.mark.parametrize("scenario", ["image_and_video", "padded_batch"])
def test_mistral_sliding_window_logits(attention: str, scenario: str) -> None:
    tiny = Tiny(text="mistral", sliding_window=4, attention=attention)
    rows, images, videos = scenarios(tiny)[scenario]
    assert min(len(r) for r in rows) > tiny.sliding_window
    assert_logits_match(*run_both(tiny, rows, images, videos))


def test_sliding_window_changes_the_result() -> None:
    """The window tests above are meaningful: without it the same weights give other logits."""
    windowed = Tiny(text="mistral", sliding_window=4)
    rows, images, videos = scenarios(windowed)["image_and_video"]
    _, with_window, keep = run_both(windowed, rows, images, videos)
    _, without, _ = run_both(windowed.with_(sliding_window=None), rows, images, videos)
    assert (with_window - without).abs()[keep].max() > 1e-2


@pytest.mark.parametrize("extra", [
    (("attention_bias", True), ("mlp_bias", True), ("tie_word_embeddings", True), ("head_dim", 32)),
    (("rope_scaling", (("rope_type", "linear"), ("factor", 2.0))), ("rope_theta", 500.0)),
    (("rope_scaling", (("rope_type", "llama3"), ("factor", 8.0), ("low_freq_factor", 1.0),
                       ("high_freq_factor", 4.0), ("original_max_position_embeddings", 16))),),
    (("rope_scaling", (("rope_type", "dynamic"), ("factor", 2.0))), ("max_position_embeddings", 16)),
    (("rope_scaling", (("rope_type", "yarn"), ("factor", 4.0), ("original_max_position_embeddings", 16))),),
], ids=["biases-tied-head_dim", "rope-linear", "rope-llama3", "rope-dynamic", "rope-yarn"])
def test_decoder_options_logits(extra: tuple) -> None:
    tiny = Tiny(text_extra=extra)
    rows, images, videos = scenarios(tiny)["padded_batch"]
    assert_logits_match(*run_both(tiny, rows, images, videos))


def test_decoder_hidden_states_match() -> None:
    tiny = Tiny()
    reference, ours = build_pair(tiny)
    ids = torch.tensor([prompt(tiny, 1, "image", 4, 5)])
    image = pixels(1)
    with torch.no_grad():
        expected = reference(input_ids=ids, pixel_values_images=image, output_hidden_states=True).hidden_states
        got = ours(ids, pixel_values_images=image, output_hidden_states=True).hidden_states
    assert len(got) == len(expected) == 3  # embeddings + 2 layers
    for e, g in zip(expected, got):
        assert (e - g).abs().max() <= 1e-5


def test_every_kept_vision_layer_matches() -> None:
    tiny = Tiny()
    reference, ours = build_pair(tiny)
    image = pixels(2)
    with torch.no_grad():
        expected = reference.model.image_tower(image, output_hidden_states=True).hidden_states
        for tower in (ours.vision_encoder, ours.video_encoder):
            got = tower.hidden_states(image, list(range(tiny.num_layers + 1)))
            other = reference.model.image_tower if tower is ours.vision_encoder else reference.model.video_tower
            expected = other(image, output_hidden_states=True).hidden_states
            assert len(got) == len(expected) == tiny.num_layers + 1
            for e, g in zip(expected, got):
                assert (e - g).abs().max() <= 1e-5


def test_projected_features_match() -> None:
    tiny = Tiny()
    reference, ours = build_pair(tiny)
    images, videos = pixels(2), pixels(2, 3, seed=3)
    with torch.no_grad():
        image_ref = reference.get_image_features(images)
        video_ref, frames = reference.model.get_video_features(videos)
        image_got, video_got = ours.image_features(images), ours.video_features(videos)
    assert image_got.shape == (2, tiny.tokens_per_image, 64)
    assert video_got.shape == (2, 3 * tiny.tokens_per_frame, 64)
    assert (image_ref - image_got).abs().max() <= 1e-5
    assert (video_ref.reshape(video_got.shape) - video_got).abs().max() <= 1e-5


@pytest.mark.parametrize("attention", BACKENDS)
def test_loss_and_projector_gradient(attention: str) -> None:
    tiny = Tiny(attention=attention)
    reference, ours = build_pair(tiny)
    ids, mask = left_pad([prompt(tiny, 1, "image", 6, 7, 8), prompt(tiny, 1, ("video", 2), 9, 10, 11, 12, 13)])
    # ignore media, padding and each row's first token (predicted from padding, whose output
    # the two implementations define differently)
    first = torch.zeros_like(mask).scatter_(1, mask.argmax(dim=1, keepdim=True), 1)
    labels = ids.masked_fill((ids >= 120) | (mask == 0) | (first == 1), -100)
    media = {"pixel_values_images": pixels(1), "pixel_values_videos": pixels(1, 2, seed=2)}
    expected = reference(input_ids=ids, attention_mask=mask, position_ids=reference_positions(mask),
                         labels=labels, **media)
    got = ours(ids, attention_mask=mask, labels=labels, **media)
    assert abs(expected.loss.item() - got.loss.item()) <= 1e-5
    reference.zero_grad(), ours.zero_grad()
    expected.loss.backward()
    got.loss.backward()
    g_ref = reference.model.multi_modal_projector.linear_1.weight.grad
    g_got = ours.projector.linear_1.weight.grad
    assert g_ref.abs().max() > 0
    assert (g_ref - g_got).abs().max() <= 1e-4 * g_ref.abs().max()
    reference.zero_grad(), ours.zero_grad()
