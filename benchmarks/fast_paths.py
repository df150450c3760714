"""What the CPU fast paths buy: mmplug with them on and off, alternately in one process.

The model and prompt of benchmarks/generate.py (random weights, fp32, CPU). Each round runs one
greedy generation with the fast paths on and one with them off (``with fast_paths(False)``, what
``MMPLUG_FAST_PATHS=0`` does), the order alternating between rounds, so load from other jobs hits
both alike. Prints the medians of time to first token and of the gap between new tokens, the
ratios off / on, and whether both settings chose the same tokens.

    python benchmarks/fast_paths.py [--new-tokens 16] [--repeats 3] [--threads 2]
"""
from __future__ import annotations

import argparse
import statistics
import time

from generate import EOS, PAD, inputs, median_gap, mmplug_config


def timed_generation(model, ids, pixels, n: int) -> tuple[float, float, list[int]]:
    """(seconds to the first token, median gap between new tokens, the tokens) of one greedy run."""
    from mmplug.core.generation import GenerationConfig, decode_steps

    start, times, tokens = time.perf_counter(), [], []
    for step_tokens, _ in decode_steps(model, {"input_ids": ids, "pixel_values_videos": pixels},
                                       GenerationConfig(max_new_tokens=n, min_new_tokens=n), eos_ids=[EOS],
                                       pad_id=PAD):
        times.append(time.perf_counter())
        tokens.append(int(step_tokens[0]))
    return times[0] - start, median_gap(times), tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--new-tokens", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3, help="rounds (each runs both settings)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    if args.new_tokens < 2:
        parser.error("--new-tokens must be at least 2 (the decode gap needs two tokens)")

    import torch

    from mmplug.core.builder import build_model
    from mmplug.core.model.fast_paths import fast_paths

    torch.set_num_threads(args.threads)
    torch.set_grad_enabled(False)
    torch.manual_seed(0)
    model = build_model(mmplug_config()).eval()
    ids, pixels = inputs()
    timed_generation(model, ids, pixels, 2)  # warm-up (and the row split's one-off measurement)

    results: dict[bool, list[tuple[float, float, list[int]]]] = {True: [], False: []}
    for round_index in range(args.repeats):
        for enabled in ((True, False) if round_index % 2 == 0 else (False, True)):
            with fast_paths(enabled):
                results[enabled].append(timed_generation(model, ids, pixels, args.new_tokens))

    def median(enabled: bool, column: int) -> float:
        return statistics.median(run[column] for run in results[enabled])

    same = all(run[2] == results[True][0][2] for runs in results.values() for run in runs)
    print(f"{args.threads} thread(s), {args.new_tokens} new tokens, medians of {args.repeats} alternating rounds")
    print(f"{'':28}{'on':>10}{'off':>10}{'off / on':>10}")
    for label, column, unit, factor in (("time to first token", 0, "s", 1.0), ("decode per token", 1, "ms", 1e3)):
        on, off = median(True, column), median(False, column)
        print(f"{label + f' ({unit})':28}{on * factor:10.3f}{off * factor:10.3f}{off / on:10.2f}")
    print(f"same tokens with the fast paths on and off: {'yes' if same else 'NO'}")


if __name__ == "__main__":
    main()
