"""A drop-in ``nn.Linear`` that keeps every CPU thread busy when it sees only a few rows.

Decoding one token multiplies each weight matrix by a single vector. On CPU, torch may run that
matrix-vector product on one thread, so it reads the weights at one core's memory bandwidth.
:class:`RowSplitLinear` cuts the weight's output rows into one block per thread (a free view) and
hands the blocks to ``torch.bmm``, which runs them in parallel. Same parameters, same state-dict
names, same result up to float rounding; inputs with many rows (prefill, training) take ``F.linear``.

Whether torch's own one-row product already uses every thread depends on the machine and the
BLAS build, so the split is not assumed: the first few-row call at a thread count times both
kernels once on a decoder-sized matrix (a few milliseconds) and the faster one is used from then
on (:func:`split_pays_off`). When the split applies, and its switch: :mod:`mmplug.core.model.fast_paths`;
measurements: docs/performance.md.
"""
from __future__ import annotations

import functools
import time

import torch
import torch.nn.functional as F
from torch import nn

from mmplug.core.model.fast_paths import row_split_applies


def row_split_linear(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, blocks: int) -> torch.Tensor:
    """x (..., K) @ weight (N, K).T + bias, computed as ``blocks`` parallel (N/blocks, K) products.

    ``N`` must be divisible by ``blocks``; ``weight`` must be contiguous. Returns (..., N).
    """
    n, k = weight.shape
    rows = x.reshape(-1, k)
    columns = rows.t().unsqueeze(0).expand(blocks, k, rows.shape[0])  # (blocks, K, M), no copy
    out = torch.bmm(weight.view(blocks, n // blocks, k), columns)  # (blocks, N/blocks, M)
    out = out.permute(2, 0, 1).reshape(*x.shape[:-1], n)
    return out if bias is None else out + bias


class RowSplitLinear(nn.Linear):
    """``nn.Linear`` with a thread-parallel path for few-row CPU inputs (see the module docstring)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if row_split_applies(x, self.weight):
            threads = torch.get_num_threads()
            blocks = split_count(self.out_features, threads)
            if blocks > 1 and split_pays_off(threads):
                return row_split_linear(x, self.weight, self.bias, blocks)
        return F.linear(x, self.weight, self.bias)


def split_count(rows: int, threads: int) -> int:
    """The largest block count <= ``threads`` that divides ``rows`` (1: do not split)."""
    for blocks in range(threads, 1, -1):
        if rows % blocks == 0:
            return blocks
    return 1


@functools.lru_cache(maxsize=None)
def split_pays_off(threads: int) -> bool:
    """True when :func:`row_split_linear` beats ``F.linear`` for one row at ``threads`` threads
    here: both timed once (best of 5) on a (2816, 1024) float32 matrix; the answer is cached."""
    weight, x = torch.randn(2816, 1024), torch.randn(1, 1024)
    blocks = split_count(weight.shape[0], threads)
    if blocks == 1:
        return False

    def best(kernel) -> float:
        times = []
        for _ in range(6):
            start = time.perf_counter()
            kernel()
            times.append(time.perf_counter() - start)
        return min(times[1:])  # the first call warms up

    with torch.no_grad():
        return best(lambda: row_split_linear(x, weight, None, blocks)) < best(lambda: F.linear(x, weight))
