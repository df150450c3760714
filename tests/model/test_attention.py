"""Attention backends: one math contract (checked against a per-query loop), honest availability."""
from __future__ import annotations

import importlib.util
import math

import pytest
import torch

from mmplug.core.builder import build_model
from mmplug.core.errors import ConfigError
from mmplug.core.interfaces.attention import AttentionRequest
from mmplug.plugins.attention.eager import EagerAttention
from mmplug.plugins.attention.flash import FlashAttention2
from mmplug.plugins.attention.sdpa import SdpaAttention
from mmplug.registry import discover

from .reference import Tiny


def loop_attention(q, k, v, *, causal, mask, window):
    """Softmax attention one query at a time, straight from the contract's definitions."""
    b, h, sq, d = q.shape
    skv, groups = k.shape[2], h // k.shape[1]
    out = torch.zeros_like(q)
    for bi in range(b):
        for hi in range(h):
            for i in range(sq):
                pos = skv - sq + i
                keys = [j for j in range(skv)
                        if (not causal or j <= pos) and (window is None or j > pos - window)
                        and (mask is None or bool(mask[bi, 0, i, j]))]
                if not keys:
                    continue
                kk, vv = k[bi, hi // groups, keys], v[bi, hi // groups, keys]
                weights = torch.softmax(kk @ q[bi, hi, i] / math.sqrt(d), dim=0)
                out[bi, hi, i] = weights @ vv
    return out


CASES = {
    "bidirectional": dict(sq=5, skv=5, causal=False, window=None, padded=False),
    "causal": dict(sq=6, skv=6, causal=True, window=None, padded=False),
    "causal_decode": dict(sq=2, skv=7, causal=True, window=None, padded=False),
    "window": dict(sq=7, skv=7, causal=True, window=3, padded=False),
    "padded_window_decode": dict(sq=3, skv=8, causal=True, window=4, padded=True),
    "padded": dict(sq=6, skv=6, causal=True, window=None, padded=True),
    "single_query": dict(sq=1, skv=9, causal=True, window=None, padded=False),  # sdpa's decoding path
    "single_query_wide_window": dict(sq=1, skv=5, causal=True, window=8, padded=False),
    "single_query_window": dict(sq=1, skv=9, causal=True, window=4, padded=False),
}


@pytest.mark.parametrize("backend", [EagerAttention(), SdpaAttention()], ids=["eager", "sdpa"])
@pytest.mark.parametrize("case", list(CASES))
def test_backend_matches_loop(backend, case: str) -> None:
    c = CASES[case]
    g = torch.Generator().manual_seed(0)
    q = torch.randn(2, 4, c["sq"], 8, generator=g)
    k, v = torch.randn(2, 2, c["skv"], 8, generator=g), torch.randn(2, 2, c["skv"], 8, generator=g)
    mask = None
    if c["padded"]:
        valid = torch.ones(2, c["skv"], dtype=torch.bool)
        valid[1, :3] = False  # left padding on the second row
        mask = valid[:, None, None, :].expand(2, 1, c["sq"], c["skv"])
    got = backend(q, k, v, causal=c["causal"], mask=mask, sliding_window=c["window"])
    expected = loop_attention(q, k, v, causal=c["causal"], mask=mask, window=c["window"])
    assert got.shape == q.shape
    assert (got - expected).abs().max() <= 1e-5


@pytest.mark.parametrize("backend", [EagerAttention(), SdpaAttention()], ids=["eager", "sdpa"])
def test_rows_without_visible_keys_are_zero_and_finite(backend) -> None:
    q, k, v = torch.randn(1, 2, 4, 8), torch.randn(1, 2, 4, 8), torch.randn(1, 2, 4, 8)
    valid = torch.tensor([[False, False, True, True]])
    out = backend(q, k, v, causal=True, mask=valid[:, None, None, :].expand(1, 1, 4, 4))
    assert torch.isfinite(out).all()
    assert out[:, :, :2].abs().max() == 0 and out[:, :, 2:].abs().max() > 0


def test_flash_availability_says_why_not(monkeypatch) -> None:
    flash = FlashAttention2()
    if importlib.util.find_spec("flash_attn") is None:
        verdict = flash.availability(AttentionRequest(device="cuda", dtype="bfloat16"))
        assert not verdict and 'pip install "mmplug[gpu]"' in verdict.reason
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object())  # pretend it is installed
    cpu = flash.availability(AttentionRequest(device="cpu", dtype="bfloat16"))
    assert not cpu and "CUDA" in cpu.reason and "'cpu'" in cpu.reason
    fp32 = flash.availability(AttentionRequest(device="cuda", dtype="float32"))
    assert not fp32 and "float16 or bfloat16" in fp32.reason
    for request in (AttentionRequest(device="cuda:0", dtype="float16", sliding_window=4),):
        verdict = flash.availability(request)  # depends on the machine, but must never raise
        assert verdict.ok or verdict.reason


def test_unavailable_backend_is_a_config_error_naming_usable_ones() -> None:
    config = Tiny().mmplug_config()
    config["attention"] = {"name": "flash_attention_2"}
    with pytest.raises(ConfigError) as info:
        build_model(config, registry=discover())
    message = str(info.value)
    assert "attention.name" in message and "flash_attention_2" in message
    assert "'eager'" in message and "'sdpa'" in message


def test_backend_per_part() -> None:
    config = Tiny(attention="sdpa").mmplug_config()
    config["language_model"]["attention"] = "eager"
    model = build_model(config, registry=discover())
    assert model.language_model.layers[0].self_attn.backend.name == "eager"
    assert model.vision_encoder.encoder.layers[0].self_attn.backend.name == "sdpa"
