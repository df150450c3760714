"""Parity of the ``qwen2`` decoder with transformers' Qwen2ForCausalLM (4.56.2, fp32, CPU):
logits within 1e-4 with q/k/v biases, tied embeddings, rope theta, left padding and Qwen2's
per-layer sliding windows; its config.json sub-config translates both ways."""
from __future__ import annotations

import pytest
import torch

pytest.importorskip("transformers", reason="transformers is the test-only numerical reference")

from mmplug.core.errors import ConfigError  # noqa: E402
from mmplug.registry import Kind  # noqa: E402

from .parts import build_part_alone, copy_weights  # noqa: E402
from .reference import left_pad, reference_positions  # noqa: E402

LOGITS_TOL = 1e-4
TINY = {"hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 3, "num_attention_heads": 4,
        "num_key_value_heads": 2, "vocab_size": 128, "rope_theta": 1000000.0, "max_position_embeddings": 256}


def pair(attention: str = "eager", **hf: object):
    """(Qwen2ForCausalLM, our decoder) with the same random weights; ``hf`` overrides the config."""
    from transformers import Qwen2Config, Qwen2ForCausalLM

    from mmplug.plugins.qwen2.options import QWEN2

    config = Qwen2Config(**{**TINY, **hf}, attn_implementation=attention)
    issues: list = []
    options = QWEN2.to_options(config.to_dict(), where="text_config", issues=issues)
    assert issues == []
    torch.manual_seed(0)
    reference = Qwen2ForCausalLM(config).eval()
    ours = build_part_alone(Kind.LANGUAGE_MODEL, "qwen2", options, attention)
    copy_weights(reference, ours, [("model.", "")])
    return reference, ours


def logits_of(reference, ours, rows: list[list[int]]):
    ids, mask = left_pad(rows)
    with torch.no_grad():
        expected = reference(input_ids=ids, attention_mask=mask, position_ids=reference_positions(mask)).logits
        got = ours.logits(ours.decode(ours.embed(ids), attention_mask=mask).hidden)
    return expected, got, mask.bool()


ROWS = [[3, 9, 4, 17, 30, 2, 8, 5, 11, 7], [5, 6, 7, 8, 9, 10, 40, 41, 42, 43, 44, 45, 46, 47]]


@pytest.mark.parametrize("attention", ["eager", "sdpa"])
@pytest.mark.parametrize("case", [
    {}, {"tie_word_embeddings": True},
    {"use_sliding_window": True, "sliding_window": 4, "max_window_layers": 1},
    {"use_sliding_window": True, "sliding_window": 3, "layer_types": ["sliding_attention", "full_attention",
                                                                      "sliding_attention"]},
], ids=["untied", "tied", "window-from-layer-1", "window-layer-types"])
def test_logits_match(attention: str, case: dict) -> None:
    reference, ours = pair(attention, **case)
    expected, got, keep = logits_of(reference, ours, ROWS)
    assert got.shape == expected.shape
    assert expected[keep].abs().max() > 0.1
    assert (expected - got).abs()[keep].max() <= LOGITS_TOL


def test_qkv_biases_and_tied_head_are_there() -> None:
    _, ours = pair(tie_word_embeddings=True)
    attention = ours.layers[0].self_attn
    assert all(p.bias is not None for p in (attention.q_proj, attention.k_proj, attention.v_proj))
    assert attention.o_proj.bias is None and ours.layers[0].mlp.gate_proj.bias is None
    assert ours.lm_head.weight is ours.embed_tokens.weight


def test_windows_follow_the_config() -> None:
    """Layers below max_window_layers attend fully; the window changes the logits."""
    windowed = pair(use_sliding_window=True, sliding_window=4, max_window_layers=1)[1]
    assert [layer.self_attn.window for layer in windowed.layers] == [None, 4, 4]
    off = pair(use_sliding_window=False, sliding_window=4, max_window_layers=1)[1]
    assert [layer.self_attn.window for layer in off.layers] == [None, None, None]
    ids = torch.tensor([ROWS[1]])
    with torch.no_grad():
        a = windowed.logits(windowed.decode(windowed.embed(ids)).hidden)
        b = off.logits(off.decode(off.embed(ids)).hidden)
    assert (a - b).abs().max() > 1e-2


def test_hidden_states_match() -> None:
    reference, ours = pair()
    ids = torch.tensor([ROWS[0]])
    with torch.no_grad():
        expected = reference(input_ids=ids, output_hidden_states=True).hidden_states
        got = ours.decode(ours.embed(ids), output_hidden_states=True).hidden_states
    assert len(got) == len(expected) == 4
    for e, g in zip(expected, got):
        assert (e - g).abs().max() <= 1e-5


def test_config_translates_back_to_an_equal_qwen2_config() -> None:
    from transformers import Qwen2Config

    from mmplug.plugins.qwen2.options import QWEN2, Qwen2Options

    original = Qwen2Config(**TINY, tie_word_embeddings=True, use_sliding_window=True, sliding_window=8,
                           max_window_layers=2)
    issues: list = []
    options = Qwen2Options.model_validate(QWEN2.to_options(original.to_dict(), where="text_config", issues=issues))
    back = Qwen2Config(**QWEN2.from_options(options, where="language_model"))
    for key in ("hidden_size", "num_key_value_heads", "tie_word_embeddings", "sliding_window", "layer_types",
                "rope_theta", "max_position_embeddings", "vocab_size"):
        assert getattr(back, key) == getattr(original, key), key


@pytest.mark.parametrize("options, message", [
    ({"use_sliding_window": True}, "sliding_window is not set"),
    ({"layer_types": ["full_attention"]}, "layer_types has 1 entries for 2 layers"),
    ({"layer_types": ["full_attention", "windowed"]}, "layer_types.1"),
])
def test_bad_window_options_are_named(options: dict, message: str) -> None:
    from mmplug.registry import discover

    base = {"hidden_size": 32, "intermediate_size": 64, "num_layers": 2, "num_heads": 4, "vocab_size": 64}
    with pytest.raises(ConfigError, match=message):
        discover().build(Kind.LANGUAGE_MODEL, "qwen2", {**base, **options})
