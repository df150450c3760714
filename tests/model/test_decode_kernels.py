"""The CPU decoding shortcuts give the same numbers as the general kernels they bypass."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from mmplug.core.model import linear
from mmplug.core.model.linear import RowSplitLinear, row_split_linear, split_count
from mmplug.plugins.attention.kernels import single_query_attention


@pytest.mark.parametrize("rows", [1, 3])
@pytest.mark.parametrize("blocks", [2, 3, 4])
@pytest.mark.parametrize("bias", [False, True])
def test_row_split_linear_equals_linear(rows: int, blocks: int, bias: bool) -> None:
    g = torch.Generator().manual_seed(rows * 10 + blocks)
    x = torch.randn(rows, 1, 40, generator=g)
    weight = torch.randn(24, 40, generator=g)
    b = torch.randn(24, generator=g) if bias else None
    got = row_split_linear(x, weight, b, blocks)
    assert got.shape == (rows, 1, 24)
    torch.testing.assert_close(got, F.linear(x, weight, b), rtol=1e-5, atol=1e-5)


def test_split_count_divides_the_rows() -> None:
    assert split_count(2816, 2) == 2
    assert split_count(2816, 3) == 2  # 2816 is not divisible by 3
    assert split_count(7, 4) == 1  # a prime: no split
    assert split_count(32064, 8) == 8


@pytest.fixture
def split_calls(monkeypatch):
    """Input shapes that reached row_split_linear, with torch at 2 threads for the test."""
    calls = []
    real = linear.row_split_linear
    monkeypatch.setattr(linear, "row_split_linear", lambda *a: calls.append(a[0].shape) or real(*a))
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    yield calls
    torch.set_num_threads(threads)


def test_layer_splits_only_few_row_inference_inputs(monkeypatch, split_calls) -> None:
    monkeypatch.setattr(linear, "split_pays_off", lambda threads: True)  # as on a machine where it is faster
    layer = RowSplitLinear(16, 12)
    with torch.no_grad():
        one = layer(torch.ones(1, 1, 16))
        many = layer(torch.ones(1, 40, 16))  # prefill-sized: the ordinary kernel
    trained = layer(torch.ones(1, 1, 16))  # gradients on: the ordinary kernel
    assert split_calls == [(1, 1, 16)]
    torch.testing.assert_close(one[0, 0], many[0, 0])
    assert trained.requires_grad


@pytest.mark.parametrize("heads,kv_heads", [(4, 4), (8, 2)])
@pytest.mark.parametrize("scale", [None, 0.3])
def test_single_query_attention_equals_sdpa(heads: int, kv_heads: int, scale) -> None:
    g = torch.Generator().manual_seed(heads)
    q = torch.randn(2, heads, 1, 16, generator=g)
    k, v = torch.randn(2, kv_heads, 11, 16, generator=g), torch.randn(2, kv_heads, 11, 16, generator=g)
    groups = heads // kv_heads
    expected = F.scaled_dot_product_attention(q, k.repeat_interleave(groups, 1), v.repeat_interleave(groups, 1),
                                              scale=scale)
    torch.testing.assert_close(single_query_attention(q, k, v, scale), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("faster", [True, False])
def test_layer_takes_the_split_only_where_it_was_measured_faster(monkeypatch, split_calls, faster: bool) -> None:
    asked = []
    monkeypatch.setattr(linear, "split_pays_off", lambda threads: asked.append(threads) or faster)
    layer = RowSplitLinear(16, 12)
    with torch.no_grad():
        out = layer(torch.ones(1, 1, 16))
    assert asked == [2]
    assert split_calls == ([(1, 1, 16)] if faster else [])
    torch.testing.assert_close(out, F.linear(torch.ones(1, 1, 16), layer.weight, layer.bias))


def test_split_measurement_answers_once_per_thread_count() -> None:
    linear.split_pays_off.cache_clear()
    first = linear.split_pays_off(2)
    assert isinstance(first, bool) and linear.split_pays_off(2) is first
    assert linear.split_pays_off.cache_info().hits >= 1
    assert linear.split_pays_off(1) is False  # one thread: nothing to split across
