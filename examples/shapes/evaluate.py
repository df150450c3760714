"""Exact-match accuracy of a model on a shapes manifest, per question type, through the real
pipeline (video files -> decoder -> sampler -> processor -> model -> greedy generate).

    python examples/shapes/evaluate.py models/shapes-tiny build/shapes/data/test.jsonl
    python examples/shapes/evaluate.py build/shapes/run/checkpoint-006500 build/shapes/data/test.jsonl --pooled

``--pooled`` reads a checkpoint's pooled media through the output head instead (what a
``bag_of_words`` tower stage taught, without the decoder; direction cannot be read this way).
"""
from __future__ import annotations

import argparse
import json
import time

TASKS = ("shape", "colour", "direction", "count")


def table(rows: dict[str, dict[str, float]], extra: dict[str, dict[str, str]] | None = None) -> str:
    """A markdown table: one row per model, accuracy per task (and any ``extra`` columns)."""
    extra = extra or {}
    columns = list(next(iter(extra.values()), {}))
    lines = ["| run | " + " | ".join(TASKS) + " | all |" + "".join(f" {c} |" for c in columns),
             "|---|" + "---|" * (len(TASKS) + 1 + len(columns))]
    for name, accuracy in rows.items():
        cells = [f"{100 * accuracy[t]:.1f}%" if t in accuracy else "-" for t in (*TASKS, "all")]
        lines.append(f"| {name} | " + " | ".join(cells) + " |" + "".join(f" {extra[name][c]} |" for c in columns))
    return "\n".join(lines)


def accuracy(pipeline, manifest: str, batch_size: int = 8) -> dict[str, float]:
    from mmplug.core.training import evaluate, read_manifest

    report = evaluate(pipeline, read_manifest(manifest), batch_size=batch_size)
    return {**report.as_dict(), "all": report.accuracy()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a checkpoint directory (e.g. models/shapes-tiny)")
    parser.add_argument("manifest", help="a held-out manifest written by shapes_data.py")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--pooled", action="store_true", help="the bag_of_words readout, not generation")
    args = parser.parse_args(argv)
    import torch

    from mmplug.core.pipeline import Pipeline

    torch.set_num_threads(1)
    start = time.perf_counter()
    pipeline = Pipeline.from_pretrained(args.model)
    if args.pooled:
        from mmplug.core.training import read_manifest
        from mmplug.core.training.objectives import pooled_readout

        result = pooled_readout(pipeline, read_manifest(args.manifest))
    else:
        result = accuracy(pipeline, args.manifest)
    print(json.dumps(result) if args.json else table({args.model: result}))
    print(f"({time.perf_counter() - start:.0f}s)")


if __name__ == "__main__":
    main()
