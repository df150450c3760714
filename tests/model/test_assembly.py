"""The multimodal assembly: placeholder checks, towers, freezing, checkpointing, errors."""
from __future__ import annotations

import pytest
import torch

from mmplug.core.builder import build_model
from mmplug.core.errors import ConfigError, ProcessorError
from mmplug.registry import discover

from .reference import IMAGE, Tiny, left_pad, pixels, prompt


@pytest.fixture(scope="module")
def registry():
    return discover()


def build(registry, tiny: Tiny = Tiny(attention="sdpa"), **multimodal):
    config = tiny.mmplug_config()
    config["multimodal"].update(multimodal)
    if multimodal.get("share_vision_encoder"):
        del config["video_encoder"]
    torch.manual_seed(0)
    return build_model(config, registry=registry)


def test_placeholder_count_not_a_whole_image_names_the_sample(registry) -> None:
    model = build(registry)
    tiny = Tiny()
    ids, mask = left_pad([prompt(tiny, 1, "image", 2), prompt(tiny, 1, 2) + [IMAGE] * 5])
    with pytest.raises(ProcessorError, match=r"sample 1: found 5 <image> tokens, expected a multiple of 9"):
        model(ids, attention_mask=mask, pixel_values_images=pixels(2))


def test_placeholder_runs_and_images_must_agree(registry) -> None:
    model = build(registry)
    ids = torch.tensor([prompt(Tiny(), 1, "image", 2, "image")])
    with pytest.raises(ProcessorError) as info:
        model(ids, pixel_values_images=pixels(3))
    assert "placeholders for 2 image(s)" in str(info.value) and "3 image(s) were given" in str(info.value)
    assert "sample 0: 2" in str(info.value)


def test_videos_need_a_tower(registry) -> None:
    model = build(registry)
    model.video_encoder = None
    ids = torch.tensor([prompt(Tiny(), 1, ("video", 2))])
    with pytest.raises(ConfigError, match="share_vision_encoder"):
        model(ids, pixel_values_videos=pixels(1, 2))


def test_shared_tower_serves_videos(registry) -> None:
    model = build(registry, share_vision_encoder=True).eval()
    assert model.video_encoder is None
    video = pixels(1, 2)
    with torch.no_grad():
        features = model.video_features(video)
        frames = model.projector(torch.cat(model.vision_encoder.hidden_states(video[0], [-2]), -1))
    assert features.shape == (1, 2 * 10, 64)
    assert (features[0] - frames.reshape(-1, 64)).abs().max() == 0


def test_vision_layers_after_the_deepest_are_not_computed(registry) -> None:
    tower = build(registry).vision_encoder
    calls = []
    for i, layer in enumerate(tower.encoder.layers):
        layer.register_forward_hook(lambda *args, i=i: calls.append(i))
    states = tower.hidden_states(pixels(1), [1, 0])
    assert calls == [0]
    assert [s.shape for s in states] == [(1, 10, 32)] * 2
    with pytest.raises(ConfigError, match="layer 4 does not exist"):
        tower.hidden_states(pixels(1), [4])
    with pytest.raises(ProcessorError, match=r"expects pixels \(N,3,42,42\)"):
        tower.hidden_states(torch.zeros(1, 3, 224, 224), [-1])


def training_step(model, tiny: Tiny = Tiny()):
    ids, mask = left_pad([prompt(tiny, 1, "image", 5, 6, 7), prompt(tiny, 1, ("video", 2), 8, 9)])
    labels = ids.masked_fill((ids >= IMAGE) | (mask == 0), -100)
    out = model(ids, attention_mask=mask, labels=labels, pixel_values_images=pixels(1),
                pixel_values_videos=pixels(1, 2))
    out.loss.backward()
    return out.loss


def test_freeze_parts_from_config(registry) -> None:
    model = build(registry, freeze=["vision_encoder", "video_encoder", "language_model"]).train()
    training_step(model)
    assert all(p.grad is None and not p.requires_grad for p in model.vision_encoder.parameters())
    assert all(p.grad is None for p in model.language_model.parameters())
    assert all(p.grad is not None for p in model.projector.parameters())


def test_gradient_checkpointing_gives_the_same_gradients(registry) -> None:
    plain = build(registry).train()
    checkpointed = build(registry, gradient_checkpointing=True).train()
    assert checkpointed.language_model.gradient_checkpointing and checkpointed.video_encoder.gradient_checkpointing
    assert (training_step(plain) - training_step(checkpointed)).abs() <= 1e-6
    for (name, a), (_, b) in zip(plain.named_parameters(), checkpointed.named_parameters()):
        if a.grad is not None:
            assert (a.grad - b.grad).abs().max() <= 1e-6, name


def test_labels_need_every_position(registry) -> None:
    model = build(registry)
    ids = torch.tensor([[1, 2, 3]])
    with pytest.raises(ProcessorError, match="logits_to_keep"):
        model(ids, labels=ids, logits_to_keep=1)
    with pytest.raises(ProcessorError, match="exactly one of input_ids or inputs_embeds"):
        model()


def test_padding_mask_must_cover_the_cache(registry) -> None:
    model = build(registry)
    cache = model.new_cache()
    with torch.no_grad():
        model(torch.tensor([[1, 2, 3]]), cache=cache)
        with pytest.raises(ProcessorError, match=r"expected \(1, 4\)"):
            model(torch.tensor([[4]]), attention_mask=torch.ones(1, 1, dtype=torch.long), cache=cache)


def test_videos_of_different_lengths_share_a_batch():
    """Pixels as a list of (T_i,3,H,W): each video's tokens equal that video run alone."""
    from model.reference import Tiny, build_pair, left_pad, pixels, prompt

    tiny = Tiny(attention="sdpa")
    _, ours = build_pair(tiny)
    short, long = pixels(1, 2, seed=11)[0], pixels(1, 3, seed=12)[0]
    rows = [prompt(tiny, 5, ("video", 2), 6), prompt(tiny, 7, ("video", 3), 8)]
    ids, mask = left_pad(rows)
    with torch.no_grad():
        together = ours(ids, attention_mask=mask, pixel_values_videos=[short, long])
        for row, video in enumerate((short, long)):
            alone = ours(torch.tensor([rows[row]]), pixel_values_videos=video[None])
            width = len(rows[row])
            assert torch.allclose(together.logits[row, -width:], alone.logits[0], atol=1e-4)
    assert [f.shape[0] for f in together.video_features] == [2 * tiny.tokens_per_frame, 3 * tiny.tokens_per_frame]
