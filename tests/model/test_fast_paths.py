"""The one switch of the CPU fast paths: off, each part takes its plain reference route (its fast
kernel is never called) and gives the same numbers; the environment variable and the context
manager both set it, and a value other than 0/1 is an error that names the variable."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from mmplug.core.errors import ConfigError
from mmplug.core.model import activation_layer, fast_paths, linear
from mmplug.core.model.activations import build_activation
from mmplug.core.model.fast_paths import ENV, fast_paths_enabled, setting_from_environment
from mmplug.plugins.attention import kernels, sdpa
from mmplug.plugins.language import decoder

from .reference import Tiny, pixels, prompt

TOL = 1e-5  # what tests/model/test_cache.py allows between two routes through the tiny model


def spy(monkeypatch, module, name: str) -> list:
    """Record every call of ``module.name`` (still calling the real one); returns the call list."""
    calls, real = [], getattr(module, name)
    monkeypatch.setattr(module, name, lambda *a, **k: calls.append(a) or real(*a, **k))
    return calls


@pytest.fixture
def two_threads_split_faster(monkeypatch):
    """torch at 2 threads, and the row split measured faster (as on a machine where it is)."""
    monkeypatch.setattr(linear, "split_pays_off", lambda threads: True)
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(threads)


def test_the_environment_variable_sets_the_switch():
    assert setting_from_environment({}) is True
    assert setting_from_environment({ENV: "1"}) is True
    assert setting_from_environment({ENV: " 0 "}) is False
    with pytest.raises(ConfigError) as error:
        setting_from_environment({ENV: "off"})
    assert "MMPLUG_FAST_PATHS" in str(error.value) and "'off'" in str(error.value)


def test_the_environment_is_read_on_the_first_check(monkeypatch):
    monkeypatch.setenv(ENV, "0")
    monkeypatch.setattr(fast_paths, "_enabled", None)  # as in a fresh process
    assert fast_paths_enabled() is False
    x = torch.randn(1, 1, 8)
    with torch.no_grad():
        assert not fast_paths.row_split_applies(x, torch.randn(4, 8))
        assert not fast_paths.in_place_applies(x)
    assert not fast_paths.one_call_rms_norm_applies(x, torch.ones(8))


def test_the_context_manager_nests_and_restores():
    before = fast_paths_enabled()
    with fast_paths.fast_paths(False):
        assert fast_paths_enabled() is False
        with fast_paths.fast_paths(True):
            assert fast_paths_enabled() is True
        assert fast_paths_enabled() is False
    assert fast_paths_enabled() is before


def test_row_split_off_takes_f_linear(monkeypatch, two_threads_split_faster):
    calls = spy(monkeypatch, linear, "row_split_linear")
    layer = linear.RowSplitLinear(16, 12)
    x = torch.randn(1, 1, 16)
    with torch.no_grad():
        fast = layer(x)
        assert len(calls) == 1
        with fast_paths.fast_paths(False):
            plain = layer(x)
    assert len(calls) == 1
    assert torch.equal(plain, F.linear(x, layer.weight, layer.bias))
    torch.testing.assert_close(fast, plain, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("heads,kv_heads", [(4, 4), (8, 2)])
def test_single_query_attention_off_takes_the_kernel(monkeypatch, heads, kv_heads):
    calls = spy(monkeypatch, kernels, "single_query_attention")
    g = torch.Generator().manual_seed(heads)
    q = torch.randn(2, heads, 1, 16, generator=g)
    k, v = torch.randn(2, kv_heads, 11, 16, generator=g), torch.randn(2, kv_heads, 11, 16, generator=g)
    backend = sdpa.SdpaAttention()
    fast = backend(q, k, v, causal=True)
    assert len(calls) == 1
    with fast_paths.fast_paths(False):
        plain = backend(q, k, v, causal=True)
    assert len(calls) == 1
    groups = heads // kv_heads
    kernel = F.scaled_dot_product_attention(q, k.repeat_interleave(groups, 1), v.repeat_interleave(groups, 1))
    torch.testing.assert_close(plain, kernel, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(fast, plain, rtol=1e-5, atol=1e-6)


@pytest.mark.skipif(decoder.FUNCTIONAL_RMS_NORM is None, reason="this torch has no one-call rms_norm")
def test_rms_norm_off_takes_the_steps_with_the_same_bits(monkeypatch):
    calls = spy(monkeypatch, decoder, "FUNCTIONAL_RMS_NORM")
    torch.manual_seed(0)
    norm = decoder.RMSNorm(192, 1e-5)
    norm.weight.data = torch.randn(192)
    results = []
    for enabled in (True, False):
        x = (torch.randn(3, 17, 192, generator=torch.Generator().manual_seed(1)) * 3).requires_grad_()
        norm.weight.grad = None
        with fast_paths.fast_paths(enabled):
            out = norm(x)
        out.backward(torch.ones_like(out))
        results.append((out.detach(), x.grad, norm.weight.grad.clone()))
    assert len(calls) == 1  # the switched-on call only
    (fast, fast_x, fast_w), (plain, plain_x, plain_w) = results
    assert torch.equal(fast, plain) and torch.equal(fast_x, plain_x) and torch.equal(fast_w, plain_w)


@pytest.mark.parametrize("gated", [False, True])
def test_in_place_activation_off_leaves_its_input(gated):
    act = build_activation("silu")
    x, up = torch.randn(3, 5, 7), torch.randn(3, 5, 7)
    times = up if gated else None
    expected = F.silu(x) * up if gated else F.silu(x)
    work = x.clone()
    with torch.no_grad(), fast_paths.fast_paths(False):
        plain = act(work, times=times, in_place=True)
    assert plain.data_ptr() != work.data_ptr() and torch.equal(work, x)
    assert torch.equal(plain, expected)
    with torch.no_grad():
        fast = act(work, times=times, in_place=True)
    assert fast.data_ptr() == work.data_ptr() and torch.equal(fast, plain)


def test_the_tiny_model_decodes_the_same_with_the_switch_off(monkeypatch, two_threads_split_faster):
    """Prefill and three cached decoding steps of the tiny model (CLIP, projector, Llama, sdpa):
    every fast path is taken with the switch on and none with it off; the logits agree."""
    from mmplug.core.builder import build_model
    from mmplug.registry import discover

    taken = {"row split": spy(monkeypatch, linear, "row_split_linear"),
             "single query": spy(monkeypatch, kernels, "single_query_attention"),
             "in place": []}
    if decoder.FUNCTIONAL_RMS_NORM is not None:
        taken["rms norm"] = spy(monkeypatch, decoder, "FUNCTIONAL_RMS_NORM")
    for name, (out_of_place, in_place) in dict(activation_layer.FUNCTIONS).items():
        def counted(x, _real=in_place):
            taken["in place"].append(x.shape)
            return _real(x)
        monkeypatch.setitem(activation_layer.FUNCTIONS, name, (out_of_place, counted))

    tiny = Tiny(attention="sdpa")
    torch.manual_seed(0)
    model = build_model(tiny.mmplug_config(), registry=discover()).eval()
    ids = torch.tensor([prompt(tiny, 1, "image", 2, 3, 4, 5, 6, 7)])
    image = pixels(1)

    def run() -> torch.Tensor:
        with torch.no_grad():
            cache = model.new_cache()
            logits = [model(ids[:, :-3], cache=cache, pixel_values_images=image).logits[:, -1]]
            for t in range(ids.shape[1] - 3, ids.shape[1]):
                logits.append(model(ids[:, t:t + 1], cache=cache).logits[:, -1])
        return torch.stack(logits, dim=1)

    fast = run()
    assert all(calls for calls in taken.values()), {name: len(calls) for name, calls in taken.items()}
    for calls in taken.values():
        calls.clear()
    with fast_paths.fast_paths(False):
        plain = run()
    assert {name: len(calls) for name, calls in taken.items()} == {name: 0 for name in taken}
    assert (fast - plain).abs().max() <= TOL
