"""Where one decoded token's time goes, against the memory-bandwidth floor (mmplug only).

The model, prompt and floor of benchmarks/generate.py. Prints, in one process:

- the read bandwidth (summing 1 GB) and the floor: decoder weight bytes / bandwidth;
- a decoded token (median gap between new tokens);
- the 57 matrix-vector products of one token alone, back to back on the model's own weights;
- a decoded token with those products replaced by zeros (everything but reading the weights),
  and with attention replaced by zeros too (what is left: norms, rotary, cache, sampling, loop);
- the dispatch cost of one small eager operation.

    python benchmarks/decode_budget.py [--threads 2] [--repeats 3]

A diagnostic: the stubbed runs patch mmplug's own kernels in this process only. Attention is
stubbed through its single-query fast path, so the CPU fast paths must be on (MMPLUG_FAST_PATHS
unset or 1).
"""
from __future__ import annotations

import argparse
import statistics
import time

from generate import inputs, measure_bandwidth, median_gap, mmplug_config, mmplug_token_times


def token_gap_ms(model, ids, pixels, new_tokens: int = 33) -> float:
    """Median gap in ms between consecutive new tokens of one greedy run."""
    return median_gap(mmplug_token_times(model, ids, pixels, new_tokens)) * 1e3


def best_ms(function, repeats: int) -> float:
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3, help="decode runs per measurement (median)")
    args = parser.parse_args()

    import torch
    import torch.nn.functional as F

    from mmplug.core.builder import build_model
    from mmplug.core.model import linear
    from mmplug.core.model.fast_paths import ENV, fast_paths_enabled
    from mmplug.plugins.attention import kernels

    if not fast_paths_enabled():
        parser.error(f"{ENV}=0 turns off the single-query attention this budget stubs; unset it (or set 1)")
    torch.set_num_threads(args.threads)
    torch.set_grad_enabled(False)
    torch.manual_seed(0)
    model = build_model(mmplug_config()).eval()
    ids, pixels = inputs()
    weights = [m.weight for m in model.language_model.modules() if isinstance(m, torch.nn.Linear)]
    weight_bytes = sum(w.numel() * w.element_size() for w in weights)
    token_gap_ms(model, ids, pixels, 3)  # warm-up

    def decode() -> float:
        return statistics.median(token_gap_ms(model, ids, pixels) for _ in range(args.repeats))

    bandwidth = measure_bandwidth(repeats=3)
    floor = weight_bytes / bandwidth * 1e3
    token = decode()
    vectors = {size: torch.randn(1, 1, size) for size in {w.shape[1] for w in weights}}
    products = best_ms(lambda: [F.linear(vectors[w.shape[1]], w) for w in weights], 5)

    real_linear, real_attention = linear.RowSplitLinear.forward, kernels.single_query_attention
    try:
        linear.RowSplitLinear.forward = lambda self, x: (
            x.new_zeros(*x.shape[:-1], self.out_features) if x.shape[-2] == 1 else real_linear(self, x))
        no_products = decode()
        kernels.single_query_attention = lambda q, k, v, scale: torch.zeros_like(q)
        no_attention = decode()
    finally:
        linear.RowSplitLinear.forward, kernels.single_query_attention = real_linear, real_attention

    small = torch.randn(1024)
    dispatch_us = best_ms(lambda: [small * 2.0 for _ in range(1000)], 5)

    print(f"{args.threads} thread(s); {len(weights)} weight matrices, {weight_bytes / 1e6:.0f} MB per token")
    print(f"read bandwidth {bandwidth / 1e9:.1f} GB/s -> floor {floor:.1f} ms per token")
    print(f"{'decoded token':46}{token:8.1f} ms  {token / floor:5.2f} x floor")
    print(f"{'  its matrix-vector products alone':46}{products:8.1f} ms  {products / floor:5.2f} x floor "
          f"({weight_bytes / products / 1e6:.1f} GB/s)")
    print(f"{'  token without the products':46}{no_products:8.1f} ms")
    print(f"{'    of which attention over the cache':46}{no_products - no_attention:8.1f} ms")
    print(f"{'    the rest (norms, rotary, cache, sampling)':46}{no_attention:8.1f} ms")
    print(f"one small eager operation (1024-element multiply): {dispatch_us:.1f} us")


if __name__ == "__main__":
    main()
