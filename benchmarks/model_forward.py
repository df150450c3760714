"""Side-by-side forward timings: mmplug (eager / sdpa) vs the transformers reference, same weights.

Run: python benchmarks/model_forward.py [--repeats 5]. Prints ms per forward and the ratio
to the reference with the same attention implementation (CPU, fp32, a small random model).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from model.reference import Tiny, build_pair, left_pad, pixels, prompt  # noqa: E402


def timed(fn, repeats: int) -> float:
    fn()  # warm-up
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"{'attention':<10} {'reference ms':>13} {'mmplug ms':>10} {'ratio':>7}")
    for attention in ("eager", "sdpa"):
        tiny = Tiny(attention=attention)
        reference, ours = build_pair(tiny)
        ids, mask = left_pad([prompt(tiny, 1, "image", 6, 7) * 4, prompt(tiny, 1, ("video", 8), 9, 10)])
        media = {"pixel_values_images": pixels(4), "pixel_values_videos": pixels(1, 8, seed=2)}
        with torch.no_grad():
            ref_ms = timed(lambda: reference(input_ids=ids, attention_mask=mask, **media), args.repeats)
            our_ms = timed(lambda: ours(ids, attention_mask=mask, **media), args.repeats)
        print(f"{attention:<10} {ref_ms:>13.1f} {our_ms:>10.1f} {our_ms / ref_ms:>7.2f}")


if __name__ == "__main__":
    main()
