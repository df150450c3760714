"""Generation speed, side by side with transformers 4.56.2 (same random weights, fp32, CPU).

One 8-frame video + a 30-token prompt; CLIP 6 layers x 512, Llama 8 layers x 1024 (16 heads,
4 KV heads, MLP 2816), vocab 32064. Prints time to first token, per-token decode latency, the
memory-bandwidth floor of decode (bytes read per token / bandwidth measured in this run) and
the peak RSS of each side.

    python benchmarks/generate.py [--new-tokens 32] [--repeats 5] [--threads N]

Each side stays loaded in its own worker process; the two take turns run by run (the order
alternating between rounds) and the read bandwidth is measured in every round, so load from
other jobs on a shared machine hits both sides alike instead of whichever ran second.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FRAMES, PROMPT_TOKENS, VIDEO, PAD, EOS = 8, 30, 32001, 32002, 2
CLIP = {"hidden_size": 512, "intermediate_size": 2048, "num_layers": 6, "num_heads": 8,
        "image_size": 224, "patch_size": 14}
LLAMA = {"hidden_size": 1024, "intermediate_size": 2816, "num_layers": 8, "num_heads": 16,
         "num_kv_heads": 4, "vocab_size": 32064, "rms_norm_eps": 1e-5}


def mmplug_config() -> dict:
    return {"vision_encoder": {"name": "clip", **CLIP}, "video_encoder": {"name": "clip", **CLIP},
            "projector": {"name": "mlp2x_gelu"}, "language_model": {"name": "llama", **LLAMA},
            "attention": {"name": "sdpa"},
            "multimodal": {"image_token_id": 32000, "video_token_id": VIDEO, "pad_token_id": PAD}}


def reference_model():
    from transformers import VideoLlavaConfig, VideoLlavaForConditionalGeneration

    vision = {"model_type": "clip_vision_model", "hidden_size": 512, "intermediate_size": 2048,
              "num_hidden_layers": 6, "num_attention_heads": 8, "image_size": 224, "patch_size": 14}
    text = {"model_type": "llama", "hidden_size": 1024, "intermediate_size": 2816, "num_hidden_layers": 8,
            "num_attention_heads": 16, "num_key_value_heads": 4, "vocab_size": 32064, "rms_norm_eps": 1e-5}
    config = VideoLlavaConfig(vision_config=vision, text_config=text, image_token_index=32000,
                              video_token_index=VIDEO, pad_token_id=PAD, attn_implementation="sdpa")
    return VideoLlavaForConditionalGeneration(config).eval()


def inputs():
    import torch

    generator = torch.Generator().manual_seed(0)
    text = torch.randint(3, 32000, (PROMPT_TOKENS,), generator=generator).tolist()
    ids = torch.tensor([[1] + [VIDEO] * (FRAMES * 257) + text])
    pixels = torch.randn(1, FRAMES, 3, 224, 224, generator=generator)
    return ids, pixels


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class TokenClock:
    """A transformers streamer that only notes when each new token arrives (the first ``put``
    is the prompt, before prefill)."""

    def __init__(self):
        self.times: list[float] = []
        self._prompt_seen = False

    def put(self, value) -> None:
        if self._prompt_seen:
            self.times.append(time.perf_counter())
        self._prompt_seen = True

    def end(self) -> None:
        pass


def mmplug_token_times(model, ids, pixels, n: int) -> list[float]:
    """Arrival time (perf_counter) of each of ``n`` greedy new tokens from mmplug's engine."""
    from mmplug.core.generation import GenerationConfig, decode_steps

    steps = decode_steps(model, {"input_ids": ids, "pixel_values_videos": pixels},
                         GenerationConfig(max_new_tokens=n, min_new_tokens=n), eos_ids=[EOS], pad_id=PAD)
    return [time.perf_counter() for _ in steps]


def median_gap(times: list[float]) -> float | None:
    """Median seconds between consecutive token arrivals (None for fewer than two)."""
    gaps = [b - a for a, b in zip(times, times[1:])]
    return statistics.median(gaps) if gaps else None


def load_side(side: str, weights: str, threads: int | None):
    """Build one implementation with the shared weights; returns (generate(n) -> the arrival
    time of each new token, decoder weight bytes)."""
    import torch
    from safetensors.torch import load_file

    if threads:
        torch.set_num_threads(threads)
    torch.set_grad_enabled(False)
    ids, pixels = inputs()
    state = load_file(weights)
    if side == "transformers":
        model = reference_model()
        model.load_state_dict(state)

        def generate(n):
            clock = TokenClock()
            model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), pixel_values_videos=pixels,
                           max_new_tokens=n, min_new_tokens=n, do_sample=False, pad_token_id=PAD, eos_token_id=EOS,
                           streamer=clock)
            return clock.times
    else:
        from mmplug.core.builder import build_model
        from mmplug.core.checkpoint import rename_to_model

        model = build_model(mmplug_config()).eval()
        model.load_state_dict(rename_to_model(state, "state_dict"))

        def generate(n):
            return mmplug_token_times(model, ids, pixels, n)
    del state
    lm = model.language_model
    lm_bytes = sum(p.numel() * p.element_size() for n, p in lm.named_parameters() if "embed_tokens" not in n)
    return generate, lm_bytes


def serve_side(side: str, weights: str, threads: int | None) -> None:
    """A worker process: answers "run N" (seconds for generate(N) and the median gap between
    consecutive new tokens) and "stats" lines on stdin, so the parent can interleave the two
    implementations run by run."""
    generate, lm_bytes = load_side(side, weights, threads)
    generate(2)  # warm-up
    print("ready", flush=True)
    for line in sys.stdin:
        command = line.split()
        if command[0] == "run":
            start = time.perf_counter()
            times = generate(int(command[1]))
            seconds = time.perf_counter() - start
            print(json.dumps({"seconds": seconds, "token_gap_s": median_gap(times)}), flush=True)
        elif command[0] == "stats":
            print(json.dumps({"peak_rss_mb": peak_rss_mb(), "decode_weight_bytes": lm_bytes}), flush=True)
        else:
            return


class Worker:
    """One side in its own process (so that its peak RSS is its own)."""

    def __init__(self, side: str, weights: str, threads: int | None):
        command = [sys.executable, __file__, "--side", side, "--weights", weights]
        self.process = subprocess.Popen(command + (["--threads", str(threads)] if threads else []),
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline().strip()
        if line != "ready":
            raise RuntimeError(f"the {side} benchmark worker failed to start (said {line!r})")

    def ask(self, command: str) -> str:
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self.process.stdout.readline().strip()

    def close(self) -> None:
        self.process.stdin.write("quit\n")
        self.process.stdin.close()
        self.process.wait()


def measure_bandwidth(gigabytes: float = 1.0, repeats: int = 5) -> float:
    """Read bandwidth in bytes/s: summing a large fp32 tensor (reads every byte once)."""
    import torch

    data = torch.ones(int(gigabytes * 2**30 / 4))
    data.sum()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        data.sum()
        times.append(time.perf_counter() - start)
    return data.numel() * 4 / min(times)




def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5, help="interleaved rounds")
    parser.add_argument("--threads", type=int, help="torch threads on both sides (default: torch's choice)")
    parser.add_argument("--side", help=argparse.SUPPRESS)
    parser.add_argument("--weights", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        serve_side(args.side, args.weights, args.threads)
        return

    import torch
    from safetensors.torch import save_file

    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    sides = ("transformers", "mmplug")
    # first: seconds to the first token; gaps: median time between consecutive new tokens
    first, gaps, bandwidth = {side: [] for side in sides}, {side: [] for side in sides}, []
    with tempfile.TemporaryDirectory() as tmp:
        weights = str(Path(tmp) / "weights.safetensors")
        save_file({k: v.contiguous() for k, v in reference_model().state_dict().items()}, weights)
        workers = {side: Worker(side, weights, args.threads) for side in sides}
        for round_ in range(args.repeats):
            bandwidth.append(measure_bandwidth(repeats=3))
            for side in (sides if round_ % 2 == 0 else sides[::-1]):
                first[side].append(json.loads(workers[side].ask("run 1"))["seconds"])
                gaps[side].append(json.loads(workers[side].ask(f"run {args.new_tokens}"))["token_gap_s"])
        stats = {side: json.loads(workers[side].ask("stats")) for side in sides}
        for worker in workers.values():
            worker.close()
    results = {}
    for side in sides:
        results[side] = {"ttft_s": statistics.median(first[side]), "per_token_s": statistics.median(gaps[side]),
                         **stats[side]}
    ours, ref = results["mmplug"], results["transformers"]
    read_rate = statistics.median(bandwidth)
    floor = ours["decode_weight_bytes"] / read_rate
    print(f"prompt: 1 video x {FRAMES} frames ({FRAMES * 257} tokens) + {PROMPT_TOKENS} text tokens; "
          f"{args.new_tokens} new tokens, medians of {args.repeats} interleaved rounds, fp32, "
          f"{torch.get_num_threads()} thread(s)")
    print(f"{'':24}{'transformers':>14}{'mmplug':>12}{'ratio':>9}  target")
    print(f"{'time to first token (s)':24}{ref['ttft_s']:14.3f}{ours['ttft_s']:12.3f}"
          f"{ours['ttft_s'] / ref['ttft_s']:9.2f}  <= 1.00")
    print(f"{'decode per token (ms)':24}{ref['per_token_s'] * 1e3:14.2f}{ours['per_token_s'] * 1e3:12.2f}"
          f"{ours['per_token_s'] / ref['per_token_s']:9.2f}  <= 0.85")
    print(f"{'peak RSS (MB)':24}{ref['peak_rss_mb']:14.0f}{ours['peak_rss_mb']:12.0f}"
          f"{ours['peak_rss_mb'] / ref['peak_rss_mb']:9.2f}")
    print(f"bandwidth floor: {ours['decode_weight_bytes'] / 1e6:.0f} MB of decoder weights per token / "
          f"{read_rate / 1e9:.1f} GB/s (median of rounds, {min(bandwidth) / 1e9:.1f}-{max(bandwidth) / 1e9:.1f}) "
          f"= {floor * 1e3:.2f} ms; mmplug decode = {ours['per_token_s'] / floor:.2f} x floor (target <= 1.20)")


if __name__ == "__main__":
    main()
