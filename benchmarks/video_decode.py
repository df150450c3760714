"""Side-by-side: 8 frames sampled with ``uniform`` by the transformers-docs recipe, decord
``get_batch`` and mmplug's ``pyav`` decoder, on the fixture clips and on a long clip.

    python benchmarks/video_decode.py [--runs 5] [--minutes 10] [--cache /tmp/mmplug-bench]

Prints medians of ``--runs`` runs, speed ratios and whether the frames are identical
to the recipe's; then decode + preprocess time of 8 frames of demo.mp4 with and
without scaling inside the colour conversion. Each mmplug run uses a fresh decoder
(no cached packet index) through ``mmplug.core.media.read_video`` (probe + sample + read);
each decord run opens a new reader.
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import av
import numpy as np

from mmplug.core.media import read_video, shortest_edge_size
from mmplug.plugins.video.pyav_decoder import PyAVDecoder
from mmplug.plugins.video.samplers import UniformSampler

ROOT = Path(__file__).resolve().parents[1]
MEDIA = ROOT.parent / "shared" / "fixtures" / "media"
CLIPS = ("sample_demo_1.mp4", "sample_demo_3.mp4", "sample_demo_9.mp4", "demo.mp4")
FRAMES = 8


# --------------------------------------------------------------------------- the three readers
def recipe(path: Path) -> np.ndarray:
    """``read_video_pyav`` as the transformers docs use it with Video-LLaVA."""
    container = av.open(str(path))
    total = container.streams.video[0].frames
    indices = np.arange(0, total, total / FRAMES).astype(int)
    frames = []
    container.seek(0)
    for i, frame in enumerate(container.decode(video=0)):
        if i > indices[-1]:
            break
        if i >= indices[0] and i in indices:
            frames.append(frame)
    container.close()
    return np.stack([f.to_ndarray(format="rgb24") for f in frames])


def decord_batch(path: Path) -> np.ndarray:
    from decord import VideoReader, cpu

    reader = VideoReader(str(path), ctx=cpu(0))
    total = len(reader)
    return reader.get_batch(np.arange(0, total, total / FRAMES).astype(int).tolist()).asnumpy()


def mmplug_pyav(path: Path) -> np.ndarray:
    """``read_video``: probe, sample and read with the file opened once."""
    return read_video(path, PyAVDecoder(), UniformSampler(FRAMES)).frames


def mmplug_probe_then_read(path: Path, scaled: bool) -> np.ndarray:
    """probe, then read (scaled so the shorter side is 224 when ``scaled``)."""
    decoder = PyAVDecoder()
    info = decoder.probe(path)
    size = shortest_edge_size(info.height, info.width, 224) if scaled else None
    return decoder.read(path, UniformSampler(FRAMES).indices(info), size=size).frames


# --------------------------------------------------------------------------- helpers
def timed(fns: dict, runs: int) -> dict[str, tuple[float, object]]:
    """Median seconds and last result of each function; the functions take turns in every
    run, so a busy machine slows them alike."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    results: dict[str, object] = {}
    for _ in range(runs):
        for name, fn in fns.items():
            start = time.perf_counter()
            results[name] = fn()
            times[name].append(time.perf_counter() - start)
    return {name: (statistics.median(times[name]), results[name]) for name in fns}


def long_clip(cache: Path, minutes: float) -> Path:
    """A 640x360 h264 clip, 30 fps, keyframe every 2 s, written once (ultrafast, cycling pattern)."""
    path = cache / f"long-{minutes:g}min-640x360.mp4"
    if path.exists():
        return path
    cache.mkdir(parents=True, exist_ok=True)
    rate, width, height = 30, 640, 360
    patterns = []
    for k in range(rate * 2):
        y = np.full((height, width), 16 + (k * 3) % 200, np.uint8)
        y[:, (k * 10) % (width - 40):(k * 10) % (width - 40) + 40] = 235
        uv = np.full((height // 2, width // 2), 128, np.uint8)
        patterns.append(np.concatenate([y, uv.reshape(-1, width), uv.reshape(-1, width)]))
    partial = path.with_suffix(".partial.mp4")
    print(f"writing the {minutes:g}-minute clip to {path} (once)...", flush=True)
    with av.open(str(partial), "w") as out:
        stream = out.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "x264-params": f"keyint={2 * rate}:min-keyint={2 * rate}:scenecut=0"}
        for number in range(int(minutes * 60 * rate)):
            frame = av.VideoFrame.from_ndarray(patterns[number % len(patterns)], format="yuv420p")
            frame.pts = number
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    os.replace(partial, path)
    return path


def preprocess(frames: np.ndarray, scaled: bool) -> np.ndarray:
    """CLIP-style: shortest edge 224 (bicubic, unless already scaled), centre crop 224, normalise."""
    from PIL import Image

    mean = np.array([0.48145466, 0.4578275, 0.40821073], np.float32)
    std = np.array([0.26862954, 0.26130258, 0.27577711], np.float32)
    out = []
    for frame in frames:
        if not scaled:
            height, width = shortest_edge_size(frame.shape[0], frame.shape[1], 224)
            frame = np.asarray(Image.fromarray(frame).resize((width, height), Image.Resampling.BICUBIC))
        top, left = (frame.shape[0] - 224) // 2, (frame.shape[1] - 224) // 2
        crop = frame[top:top + 224, left:left + 224].astype(np.float32) / 255.0
        out.append(((crop - mean) / std).transpose(2, 0, 1))
    return np.stack(out)


# --------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/mmplug-bench"))
    parser.add_argument("--media", type=Path, default=MEDIA)
    args = parser.parse_args()
    clips = [args.media / name for name in CLIPS if (args.media / name).exists()]
    clips.append(long_clip(args.cache, args.minutes))
    print(f"cpu cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}, runs: {args.runs} "
          "(medians; the three readers take turns in each run)\n")
    header = f"{'clip':<28}{'recipe':>10}{'decord':>10}{'mmplug':>10}{'recipe/mm':>11}{'decord/mm':>11}  identical"
    print(header)
    print("-" * len(header))
    for path in clips:
        got = timed({"recipe": lambda: recipe(path), "decord": lambda: decord_batch(path),
                     "mmplug": lambda: mmplug_pyav(path)}, args.runs)
        (t_recipe, reference), (t_decord, by_decord), (t_mmplug, by_mmplug) = got.values()
        same = f"mmplug {np.array_equal(by_mmplug, reference)}, decord {np.array_equal(by_decord, reference)}"
        print(f"{path.name[:27]:<28}{t_recipe * 1e3:>8.0f}ms{t_decord * 1e3:>8.0f}ms{t_mmplug * 1e3:>8.0f}ms"
              f"{t_recipe / t_mmplug:>10.2f}x{t_decord / t_mmplug:>10.2f}x  {same}", flush=True)

    demo = args.media / "demo.mp4"
    if demo.exists():
        print("\ndemo.mp4 (2048x1810), 8 frames: decode + CLIP-style preprocess to (8,3,224,224)")
        got = timed({"full": lambda: preprocess(mmplug_probe_then_read(demo, False), scaled=False),
                     "small": lambda: preprocess(mmplug_probe_then_read(demo, True), scaled=True)}, args.runs)
        (t_full, full), (t_small, small) = got.values()
        print(f"  full-resolution RGB, then resize: {t_full * 1e3:8.0f}ms")
        print(f"  scaled inside the conversion:     {t_small * 1e3:8.0f}ms  ({t_full / t_small:.2f}x faster; "
              f"mean |difference| {np.abs(full - small).mean():.4f} in normalised units)")


if __name__ == "__main__":
    main()
