"""CUDA bf16 parity with the reference for sdpa and flash_attention_2.

bf16 keeps 8 bits of mantissa, so both implementations round differently at every
layer: logits must agree to 3e-2 of the reference's largest logit (fp32 parity is 1e-4)."""
from __future__ import annotations

import importlib.util

import pytest
import torch

pytest.importorskip("transformers", reason="transformers is the test-only numerical reference")

from .reference import Tiny, build_pair, left_pad, pixels, prompt, reference_positions  # noqa: E402

BF16_RELATIVE_TOL = 3e-2

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU here; CPU fp32 parity runs instead")


@pytest.mark.parametrize("attention", [
    "sdpa",
    pytest.param("flash_attention_2", marks=pytest.mark.skipif(
        importlib.util.find_spec("flash_attn") is None, reason='flash-attn not installed (pip install "mmplug[gpu]")')),
])
@pytest.mark.parametrize("text, window", [("llama", None), ("mistral", 4)])
def test_bf16_cuda_logits(attention: str, text: str, window) -> None:
    tiny = Tiny(attention=attention, text=text, sliding_window=window)
    reference, ours = build_pair(tiny)
    reference = reference.to("cuda", torch.bfloat16)
    ours = ours.to("cuda", torch.bfloat16)
    try:
        ids, mask = left_pad([prompt(tiny, 1, "image", 6, 7), prompt(tiny, 1, 2, ("video", 2), 8, 9, 10, 11)])
        ids, mask = ids.cuda(), mask.cuda()
        media = {"pixel_values_images": pixels(1).cuda().bfloat16(),
                 "pixel_values_videos": pixels(1, 2, seed=2).cuda().bfloat16()}
        with torch.no_grad():
            expected = reference(input_ids=ids, attention_mask=mask, position_ids=reference_positions(mask),
                                 **media).logits.float()
            got = ours(ids, attention_mask=mask, **media).logits.float()
        keep = mask.bool()
        scale = expected[keep].abs().max()
        assert (expected - got).abs()[keep].max() <= BF16_RELATIVE_TOL * scale
    finally:
        reference.to("cpu", torch.float32), ours.to("cpu", torch.float32)  # the pair is shared (cached)
