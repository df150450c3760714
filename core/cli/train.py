"""``mmplug train CONFIG``: train (or resume) a model from a training config and a JSONL manifest."""
from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train", help="train a model from a training config",
        description="Train a pipeline on a JSONL manifest (see docs/training.md). Metrics go to "
                    "OUTPUT_DIR/metrics.jsonl, checkpoints to OUTPUT_DIR/checkpoint-*, the result to "
                    "OUTPUT_DIR/final (loadable with --model).")
    parser.add_argument("config", help="training config file (.yaml, .json or .toml)")
    parser.add_argument("--resume", action="store_true",
                        help="continue from the newest checkpoint in output_dir (same config)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key, e.g. --set seed=1 --set pipeline.language_model.name=mistral "
                             "(repeatable)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from mmplug.core.training import load_train_config, train

    config = load_train_config(args.config, args.overrides)
    result = train(config, resume=args.resume)
    where = f"; final weights in {result.final_dir}" if result.final_dir else ""
    loss = f"{result.last_loss:.4f}" if result.last_loss is not None else "n/a"
    print(f"trained {result.steps} steps in {result.train_seconds:.0f}s, last loss {loss}{where}")
    return 0
