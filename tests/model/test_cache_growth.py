"""The KV cache keeps every token when its buffers grow, and returns exactly the tokens seen."""
import torch

from mmplug.core.model.cache import KVCache


def test_growth_keeps_all_tokens_in_order():
    cache = KVCache(capacity=2)
    pieces = [torch.randn(2, 3, s, 4) for s in (2, 1, 1, 5, 1)]
    for piece in pieces:
        keys, values = cache.update(0, piece, -piece)
    expected = torch.cat(pieces, dim=2)
    assert cache.length == expected.shape[2] == keys.shape[2]
    assert torch.equal(keys, expected) and torch.equal(values, -expected)


def test_layers_must_come_in_order():
    cache = KVCache()
    first = torch.randn(3, 1, 2, 4)
    cache.update(0, first, first)
    try:
        cache.update(2, first, first)
    except IndexError as exc:
        assert "layer 2 updated before layer 1" in str(exc)
    else:
        raise AssertionError("skipping a layer must fail")
