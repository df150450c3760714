"""Incremental decoding: prefill + one-token steps with the KV cache equal a full forward."""
from __future__ import annotations

import pytest
import torch

from mmplug.core.builder import build_model
from mmplug.core.model import KVCache
from mmplug.registry import discover

from .reference import Tiny, left_pad, pixels, prompt

TOL = 1e-5


@pytest.fixture(scope="module")
def registry():
    return discover()


def tiny_model(registry, tiny: Tiny):
    torch.manual_seed(0)
    return build_model(tiny.mmplug_config(), registry=registry).eval()


@pytest.mark.parametrize("tiny", [Tiny(attention="sdpa"), Tiny(attention="eager"),
                                  Tiny(text="mistral", sliding_window=4, attention="sdpa")],
                         ids=["llama-sdpa", "llama-eager", "mistral-window"])
def test_prefill_then_decode_equals_full_forward(registry, tiny: Tiny) -> None:
    model = tiny_model(registry, tiny)
    ids, mask = left_pad([prompt(tiny, 1, "image", 5, 6) + [7, 8, 9],
                          prompt(tiny, 1, 2, ("video", 2), 3) + [10, 11, 12]])
    media = {"pixel_values_images": pixels(1), "pixel_values_videos": pixels(1, 2, seed=2)}
    steps = 3
    with torch.no_grad():
        full = model(ids, attention_mask=mask, **media).logits
        cache = model.new_cache()
        out = model(ids[:, :-steps], attention_mask=mask[:, :-steps], cache=cache, logits_to_keep=1, **media)
        assert out.cache is cache and cache.length == ids.shape[1] - steps
        decoded = [out.logits[:, -1]]
        for t in range(ids.shape[1] - steps, ids.shape[1]):
            step = model(ids[:, t:t + 1], attention_mask=mask[:, :t + 1], cache=cache)
            decoded.append(step.logits[:, -1])
    assert cache.length == ids.shape[1]
    expected = full[:, -steps - 1:]
    assert (torch.stack(decoded, dim=1) - expected).abs().max() <= TOL


def test_decode_without_mask_continues_positions(registry) -> None:
    tiny = Tiny(attention="sdpa")
    model = tiny_model(registry, tiny)
    ids = torch.tensor([prompt(tiny, 1, 2, 3, 4, 5, 6)])
    with torch.no_grad():
        full = model(ids).logits
        cache = KVCache()
        model(ids[:, :-1], cache=cache)
        last = model(ids[:, -1:], cache=cache).logits
    assert (last[:, -1] - full[:, -1]).abs().max() <= TOL


def test_logits_to_keep_and_inputs_embeds(registry) -> None:
    tiny = Tiny(attention="sdpa")
    model = tiny_model(registry, tiny)
    ids = torch.tensor([prompt(tiny, 1, "image", 2, 3)])
    image = pixels(1)
    with torch.no_grad():
        full = model(ids, pixel_values_images=image).logits
        last = model(ids, pixel_values_images=image, logits_to_keep=1).logits
        picked = model(ids, pixel_values_images=image, logits_to_keep=torch.tensor([0, 3])).logits
        embeds = model.language_model.embed(ids)
        from_embeds = model(inputs_embeds=embeds, pixel_values_images=image).logits
        merged = model.embed_inputs(ids, pixel_values_images=image)
        from_merged = model(inputs_embeds=merged.embeds).logits
    assert merged.image_features.shape == (1, 9, 64) and merged.video_features is None  # 9 patches, text width 64
    assert (from_merged - full).abs().max() <= TOL
    assert last.shape == (1, 1, 128) and (last[:, 0] - full[:, -1]).abs().max() <= TOL
    assert (picked - full[:, [0, 3]]).abs().max() <= TOL
    assert (from_embeds - full).abs().max() <= TOL
