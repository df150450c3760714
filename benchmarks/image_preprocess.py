"""Frame preprocessing: transformers' VideoLlavaImageProcessor vs mmplug's clip processor, side by side.

Runs both on the same 8 decoded frames of a 640x360 clip and of the 2048x1810
demo.mp4, in one process, and prints the median times and the ratio (target >= 3x)
plus the max/mean |diff| of the fast path against the reference.

    python benchmarks/image_preprocess.py [--repeats 5] [--fixtures ../shared/fixtures]
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import av
import numpy as np
import torch

from mmplug.registry import discover

ROOT = Path(__file__).resolve().parents[1]
CLIPS = {"640x360": "sample_demo_1.mp4", "2048x1810": "demo.mp4"}


def read_frames(path: Path, count: int) -> np.ndarray:
    """``count`` frames spread over the clip, (T,H,W,3) uint8."""
    with av.open(str(path)) as container:
        frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    picks = np.linspace(0, len(frames) - 1, count).round().astype(int)
    return np.stack([frames[i] for i in picks])


def side_by_side(first, second, repeats: int) -> tuple[float, float]:
    """Median seconds of two callables, run alternately so both see the same machine load."""
    first(), second()  # warm-up
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        for fn, bucket in ((first, times[0]), (second, times[1])):
            start = time.perf_counter()
            fn()
            bucket.append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fixtures", type=Path, default=ROOT / ".." / "shared" / "fixtures")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--frames", type=int, default=8)
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    import transformers  # the reference, benchmark-only

    transformers.logging.set_verbosity_error()
    reference = transformers.VideoLlavaImageProcessor.from_pretrained(str(args.fixtures / "video-llava-processor"))
    ours = discover().build("image_processor", "clip", {})
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, transformers {transformers.__version__}")
    print(f"{'frames':>16} {'reference s':>12} {'mmplug s':>10} {'speed-up':>9} {'max|diff|':>10} {'mean|diff|':>11}")
    for label, name in CLIPS.items():
        frames = read_frames(args.fixtures / "media" / name, args.frames)

        def run_reference():
            return reference(images=None, videos=[frames], return_tensors="pt")["pixel_values_videos"][0]

        def run_ours():
            return ours(frames)

        ref_s, ours_s = side_by_side(run_reference, run_ours, args.repeats)
        diff = (run_ours() - run_reference()).abs()
        print(f"{args.frames:>3} x {label:>10} {ref_s:>12.4f} {ours_s:>10.4f} {ref_s / ours_s:>8.1f}x "
              f"{diff.max().item():>10.4f} {diff.mean().item():>11.6f}")


if __name__ == "__main__":
    main()
