"""The activation module: each name computes its reference function, and the in-place variants
give the same bits in the input's memory, but never on a tensor autograd is recording."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from mmplug.core.model.activations import ACTIVATIONS, build_activation

REFERENCE = {
    "gelu": F.gelu,
    "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "gelu_new": lambda x: F.gelu(x, approximate="tanh"),
    "quick_gelu": lambda x: x * torch.sigmoid(1.702 * x),
    "silu": F.silu,
    "swish": F.silu,
    "relu": F.relu,
}


def test_every_named_activation_has_a_reference_here():
    assert set(REFERENCE) == set(ACTIVATIONS)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_forward_and_in_place_match_the_reference(name):
    act = build_activation(name)
    x = torch.randn(3, 5, 7) * 3
    expected = REFERENCE[name](x)
    assert torch.equal(act(x), expected)
    work = x.clone()
    with torch.no_grad():
        result = act(work, in_place=True)
    assert result.data_ptr() == work.data_ptr() and torch.equal(work, expected)


@pytest.mark.parametrize("name", ["silu", "quick_gelu", "gelu"])
def test_times_is_the_gated_product_in_place(name):
    act = build_activation(name)
    x, up = torch.randn(2, 4, 6), torch.randn(2, 4, 6)
    expected = REFERENCE[name](x) * up
    work = x.clone()
    with torch.no_grad():
        result = act(work, times=up, in_place=True)
    assert result.data_ptr() == work.data_ptr() and torch.equal(result, expected)


@pytest.mark.parametrize("gated", [False, True])
def test_a_recorded_tensor_is_not_overwritten_and_gradients_flow(gated):
    act = build_activation("silu")
    x = torch.randn(4, 3, requires_grad=True)
    hidden = x * 2  # a non-leaf autograd records
    before = hidden.detach().clone()
    out = act(hidden, times=torch.ones(4, 3) if gated else None, in_place=True)
    out.sum().backward()
    assert torch.equal(hidden.detach(), before) and out.data_ptr() != hidden.data_ptr()
    sig = torch.sigmoid(before)
    assert torch.allclose(x.grad, 2 * (sig * (1 + before * (1 - sig))))


def test_out_of_place_unless_asked_and_hooks_still_fire():
    act = build_activation("silu")
    seen = []
    act.register_forward_hook(lambda module, args, output: seen.append(output))
    x = torch.randn(5)
    with torch.no_grad():
        out = act(x, times=torch.full((5,), 2.0))
        assert out.data_ptr() != x.data_ptr() and torch.equal(out, F.silu(x) * 2)
        act(x, in_place=True)
    assert len(seen) == 2 and seen[1].data_ptr() == x.data_ptr()


def test_the_module_names_its_activation():
    assert repr(build_activation("quick_gelu")) == "Activation(quick_gelu)"
