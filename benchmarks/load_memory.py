"""Peak memory of loading a checkpoint: mmplug vs transformers 4.56.2, side by side.

Writes a random Video-LLaVA-shaped checkpoint of ~2.6 GB in float32 once (CLIP 4 x 512 towers,
Llama 10 x 2048 decoder, vocab 32064) with mmplug's save_pretrained (published layout), then
loads it in a fresh subprocess per side and dtype and prints each process's peak RSS (VmHWM,
whole process, imports included) against the target 1.15 x loaded weights + 400 MB. transformers
leaves same-dtype weights memory-mapped (paged in on first use), so the last column gives the
peak after every weight has been read once.

    python benchmarks/load_memory.py [--dir /tmp/ckpt] [--keep] [--dtypes float32 bfloat16]
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLIP = {"hidden_size": 512, "intermediate_size": 2048, "num_layers": 4, "num_heads": 8,
        "image_size": 224, "patch_size": 14}
LLAMA = {"hidden_size": 2048, "intermediate_size": 5504, "num_layers": 10, "num_heads": 16,
         "num_kv_heads": 16, "vocab_size": 32064, "rms_norm_eps": 1e-5}
MB = 1024 * 1024


def config() -> dict:
    return {"vision_encoder": {"name": "clip", **CLIP}, "video_encoder": {"name": "clip", **CLIP},
            "projector": {"name": "mlp2x_gelu"}, "language_model": {"name": "llama", **LLAMA},
            "attention": {"name": "sdpa"},
            "multimodal": {"image_token_id": 32000, "video_token_id": 32001, "pad_token_id": 32002}}


def write_checkpoint(directory: Path) -> int:
    """Random fp32 weights saved by mmplug; returns the number of parameters."""
    import torch

    from mmplug.core.checkpoint import save_pretrained
    from mmplug.core.pipeline import Pipeline

    torch.manual_seed(0)
    pipe = Pipeline.from_config(config())
    save_pretrained(pipe.model, pipe.resolved, directory)
    return sum(p.numel() for p in pipe.model.parameters())


def peak_rss() -> tuple[int, int]:
    """(VmHWM, VmRSS) of this process in bytes."""
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmHWM", "VmRSS")):
            values[line.split(":")[0]] = int(line.split()[1]) * 1024
    return values["VmHWM"], values["VmRSS"]


def child(side: str, directory: str, dtype: str) -> None:
    """Load in this (fresh) process and print JSON: peak RSS, baseline RSS, weights bytes, seconds."""
    import torch

    if side == "transformers":
        from transformers import VideoLlavaForConditionalGeneration
    else:
        from mmplug.core.pipeline import Pipeline
    base = peak_rss()[1]
    start = time.perf_counter()
    if side == "transformers":
        model = VideoLlavaForConditionalGeneration.from_pretrained(directory, torch_dtype=getattr(torch, dtype))
    else:
        model = Pipeline.from_pretrained(directory, dtype=dtype).model
    seconds = time.perf_counter() - start
    params = {id(p): p for p in model.parameters()}.values()
    weights = sum(t.numel() * t.element_size() for t in params)
    peak = peak_rss()[0]
    with torch.no_grad():  # read every weight once: lazily mapped files page in here
        for p in params:
            p.sum()
    print(json.dumps({"peak": peak, "touched": peak_rss()[0], "base": base, "weights": weights,
                      "seconds": seconds}))


def measure(side: str, directory: Path, dtype: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", side, str(directory), dtype], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, help="where to write the checkpoint (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the checkpoint afterwards")
    parser.add_argument("--dtypes", nargs="+", default=["float32", "bfloat16"])
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    directory = args.dir or Path(tempfile.mkdtemp(prefix="mmplug-load-memory-"))
    try:
        if not (directory / "config.json").is_file():
            count = write_checkpoint(directory)
            print(f"wrote {count / 1e6:.0f} M parameters to {directory}")
        size = sum(p.stat().st_size for p in directory.glob("*.safetensors"))
        print(f"checkpoint: {size / MB:.0f} MiB float32")
        print(f"{'dtype':<9} {'side':<13} {'weights':>9} {'target':>9} {'peak RSS':>9} {'baseline':>9} "
              f"{'peak/target':>11} {'load s':>7} {'peak after reading weights':>27}")
        for dtype in args.dtypes:
            for side in ("mmplug", "transformers"):
                r = measure(side, directory, dtype)
                target = 1.15 * r["weights"] + 400 * MB
                print(f"{dtype:<9} {side:<13} {r['weights'] / MB:>7.0f}MB {target / MB:>7.0f}MB "
                      f"{r['peak'] / MB:>7.0f}MB {r['base'] / MB:>7.0f}MB {r['peak'] / target:>11.2f} "
                      f"{r['seconds']:>7.1f} {r['touched'] / MB:>25.0f}MB")
    finally:
        if not args.keep:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
