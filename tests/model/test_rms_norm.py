"""The decoder's RMSNorm: the one-call float32 path gives the same bits (values and gradients) as
the step-by-step reference formula, and half precision normalises in float32 before the cast."""
from __future__ import annotations

import pytest
import torch

from mmplug.plugins.language.decoder import RMSNorm


def reference(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    x32 = x.float()
    return weight * (x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + eps)).to(x.dtype)


@pytest.mark.parametrize("shape", [(1, 1, 1024), (3, 17, 192), (2, 300, 1000)])
def test_float32_values_and_gradients_are_bit_identical(shape):
    torch.manual_seed(0)
    norm = RMSNorm(shape[-1], 1e-5)
    norm.weight.data = torch.randn(shape[-1])
    x = (torch.randn(*shape) * 3).requires_grad_()
    x_ref, w_ref = x.detach().clone().requires_grad_(), norm.weight.detach().clone().requires_grad_()
    out, expected = norm(x), reference(x_ref, w_ref, 1e-5)
    upstream = torch.randn_like(out)
    out.backward(upstream)
    expected.backward(upstream)
    assert torch.equal(out, expected)
    assert torch.equal(x.grad, x_ref.grad) and torch.equal(norm.weight.grad, w_ref.grad)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_precision_follows_the_reference(dtype):
    torch.manual_seed(0)
    norm = RMSNorm(192, 1e-6).to(dtype)
    norm.weight.data = torch.randn(192).to(dtype)
    x = (torch.randn(3, 7, 192) * 4).to(dtype)
    with torch.no_grad():
        assert torch.equal(norm(x), reference(x, norm.weight, 1e-6))
