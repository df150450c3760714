"""Backbone swaps on the shapes recipe: each variant is one config line changed from
examples/shapes/train.yaml; prints a markdown table of held-out accuracy and training time.

    python examples/shapes/experiments.py --steps 600 --out build/shapes/experiments

``--steps`` shortens every run to the same budget (the table says which; it is shared by the
recipe's stages in their proportions), so the rows compare.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from evaluate import accuracy, table  # noqa: E402

#: name -> the one pipeline override that makes the variant (None: the recipe as is).
VARIANTS = {
    "baseline (llama, mlp2x_gelu, 8 frames)": None,
    "(a) mistral decoder": "language_model.name=mistral",
    "(b) pooled 2x2 projector": "projector.name=pooled_mlp2x_gelu",
    "(c) 4 frames": "frame_sampler.num_frames=4",
    "(d) siglip tower": "vision_encoder.name=siglip",
    "(e) qwen2 decoder": "language_model.name=qwen2",
}


def recipe_for(steps: int | None, threads: int | None, output_dir: Path) -> dict:
    """examples/shapes/train.yaml as a dict, with ``steps`` (all stages together, shared in the
    recipe's proportions) and torch ``threads`` replaced when given, writing no checkpoint."""
    data = yaml.safe_load((HERE / "train.yaml").read_text(encoding="utf-8"))
    if steps:
        total = sum(stage["steps"] for stage in data["stages"])
        for stage in data["stages"]:
            stage["steps"] = max(2, round(steps * stage["steps"] / total))
            stage["warmup_steps"] = min(stage.get("warmup_steps", 0), stage["steps"] // 10)
    if threads:
        data["threads"] = threads
    data.update(output_dir=str(output_dir), save_every=0, save_final=False)
    return data


def run_variant(name: str, override: str | None, steps: int | None, threads: int | None, out: Path,
                test_manifest: str) -> dict:
    from mmplug.core.training import load_train_config, train

    data = recipe_for(steps, threads, out / name.split(" ")[0].strip("()"))
    overrides = [f"pipeline.{override}"] if override else None
    config = load_train_config(data, overrides)
    started = time.perf_counter()
    result = train(config)
    scores = accuracy(result.pipeline, test_manifest)
    return {"accuracy": scores, "train_s": result.train_seconds, "total_s": time.perf_counter() - started,
            "steps": result.steps, "last_loss": result.last_loss, "override": override}


def finished_run(run_dir: Path, test_manifest: str) -> dict:
    """The baseline row from a finished ``mmplug train examples/shapes/train.yaml`` run (its
    ``final`` weights evaluated here, steps/loss/time from its metrics.jsonl), so the shipped
    model's own run is not trained a second time."""
    from mmplug.core.pipeline import Pipeline
    from mmplug.core.training.metrics import read_metrics

    records = read_metrics(run_dir / "metrics.jsonl")
    if not records or not (run_dir / "final").is_dir():
        raise SystemExit(f"{run_dir}: not a finished training run (needs metrics.jsonl and final/)")
    last = records[-1]
    scores = accuracy(Pipeline.from_pretrained(run_dir / "final"), test_manifest)
    return {"accuracy": scores, "train_s": last["elapsed_s"], "total_s": None, "steps": last["step"],
            "last_loss": last["loss"], "override": None}


def report(results: dict) -> str:
    extra = {name: {"change": f"`{r['override']}`" if r["override"] else "-", "steps": str(r["steps"]),
                    "train time": f"{r['train_s'] / 60:.1f} min", "final loss": f"{r['last_loss']:.3f}"}
             for name, r in results.items()}
    return table({name: r["accuracy"] for name, r in results.items()}, extra)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None, help="steps per run, all stages (default: the recipe's)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads per run (default: the recipe's; 1 when runs share the CPU)")
    parser.add_argument("--out", type=Path, default=Path("build/shapes/experiments"))
    parser.add_argument("--test", default="build/shapes/data/test.jsonl")
    parser.add_argument("--only", nargs="*", help="run only variants whose name contains one of these")
    parser.add_argument("--merge", nargs="*", type=Path, default=[],
                        help="also report results.json of these earlier --out folders (runs in parallel)")
    parser.add_argument("--report-only", action="store_true", help="print the table, train nothing")
    parser.add_argument("--baseline-run", type=Path, help=(
        "take the baseline row from this finished `mmplug train examples/shapes/train.yaml` output_dir "
        "instead of training the baseline again"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    results_file = args.out / "results.json"
    results = json.loads(results_file.read_text()) if results_file.is_file() else {}
    baseline = next(iter(VARIANTS))
    if args.baseline_run:
        results[baseline] = finished_run(args.baseline_run, args.test)
        results_file.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    for name, override in VARIANTS.items():
        if args.report_only or (args.only and not any(word in name for word in args.only)) or \
                (name == baseline and args.baseline_run):
            continue
        results[name] = run_variant(name, override, args.steps, args.threads, args.out, args.test)
        results_file.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    for folder in args.merge:
        results.update(json.loads((folder / "results.json").read_text()))
    ordered = {name: results[name] for name in VARIANTS if name in results}
    print(report(ordered))


if __name__ == "__main__":
    main()
