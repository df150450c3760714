"""``mmplug doctor``: what this machine can run — torch/CUDA, attention backends, video decoders, codecs."""
from __future__ import annotations

import argparse
import json
import platform

#: Codecs worth knowing about for video datasets.
CODECS = ("h264", "hevc", "vp8", "vp9", "av1", "mpeg4", "mjpeg", "gif", "png")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("doctor", help="report what can run on this machine",
                                   description="Torch and CUDA versions, GPUs, which attention backends and "
                                               "video decoders can run here (and why not), which codecs PyAV decodes.")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(handler=run)


def report() -> dict:
    """Everything ``doctor`` prints, as plain data."""
    import torch

    from mmplug.registry import get_registry

    registry = get_registry()
    cuda = torch.cuda.is_available()
    data = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda if cuda else None,
        "gpus": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if cuda else [],
        "attention": _attention(registry, ["cpu/float32"] + (["cuda/bfloat16", "cuda/float16"] if cuda else [])),
        "video_decoders": _decoders(registry),
        "codecs": _codecs(),
        "plugin_failures": [f.describe() for f in registry.failures],
    }
    return data


def _attention(registry, targets: list[str]) -> list[dict]:
    from mmplug.core.errors import MmplugError
    from mmplug.core.interfaces import AttentionRequest

    rows = []
    for name in registry.names("attention"):
        row = {"name": name}
        for target in targets:
            device, dtype = target.split("/")
            try:
                verdict = registry.build("attention", name, {}).availability(
                    AttentionRequest(device=device, dtype=dtype))
                row[target] = "ok" if verdict.ok else verdict.reason
            except MmplugError as exc:
                row[target] = str(exc)
        rows.append(row)
    return rows


def _decoders(registry) -> list[dict]:
    from mmplug.core.errors import MmplugError

    rows = []
    for spec in registry.parts("video_decoder"):
        try:
            verdict = registry.build("video_decoder", spec.name, {}).availability()
            rows.append({"name": spec.name, "status": "ok" if verdict.ok else verdict.reason})
        except (MmplugError, ValueError) as exc:
            rows.append({"name": spec.name, "status": str(exc)})
    return rows


def _codecs() -> dict[str, bool]:
    try:
        import av
    except ImportError:
        return {}
    available = {}
    for name in CODECS:
        try:
            av.codec.Codec(name, "r")
            available[name] = True
        except Exception:  # noqa: BLE001 - PyAV raises several types for unknown codecs
            available[name] = False
    return available


def run(args: argparse.Namespace) -> int:
    data = report()
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    gpus = ", ".join(data["gpus"]) or "none"
    print(f"python {data['python']}, torch {data['torch']}, CUDA {data['cuda'] or 'not available'}, GPUs: {gpus}")
    print("attention backends:")
    for row in data["attention"]:
        cells = "; ".join(f"{target}: {status}" for target, status in row.items() if target != "name")
        print(f"  {row['name']:<18} {cells}")
    print("video decoders:")
    for row in data["video_decoders"]:
        print(f"  {row['name']:<18} {row['status']}")
    codecs = data["codecs"]
    print("PyAV decodes: " + (", ".join(n for n, ok in codecs.items() if ok) or "nothing (PyAV missing)")
          + ("; not: " + ", ".join(n for n, ok in codecs.items() if not ok) if not all(codecs.values()) else ""))
    for failure in data["plugin_failures"]:
        print(f"plugin failed to load: {failure}")
    return 0
