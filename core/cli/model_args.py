"""Options shared by the commands that run a model (``ask``, ``chat``)."""
from __future__ import annotations

import argparse
import sys
from typing import Any

from mmplug.core.dtypes import DTYPE_NAMES


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", "-m", required=True,
                        help="checkpoint directory or Hub id (trained weights), or a preset / config file "
                             "(random weights, for smoke tests)")
    parser.add_argument("--video", action="append", default=[], metavar="PATH", help="a video (repeatable)")
    parser.add_argument("--image", action="append", default=[], metavar="PATH", help="an image (repeatable)")
    parser.add_argument("--device", help="e.g. cpu, cuda, cuda:1")
    parser.add_argument("--dtype", choices=DTYPE_NAMES)
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config field (repeatable)")
    parser.add_argument("--max-new-tokens", type=int, default=128)
    parser.add_argument("--temperature", type=float, help="sample with this temperature (default: greedy)")
    parser.add_argument("--top-k", type=int, default=0)
    parser.add_argument("--top-p", type=float, default=1.0)
    parser.add_argument("--seed", type=int)


def generation_options(args: argparse.Namespace) -> dict[str, Any]:
    """The GenerationConfig fields the flags ask for (``--temperature`` turns sampling on)."""
    options: dict[str, Any] = {"max_new_tokens": args.max_new_tokens, "top_k": args.top_k, "top_p": args.top_p,
                               "seed": args.seed}
    if args.temperature is not None:
        options.update(do_sample=True, temperature=args.temperature)
    return options


def check_generation_flags(args: argparse.Namespace) -> None:
    """Raise a one-line GenerationOptionsError naming the flags (``--temperature 0``: omit
    ``--temperature`` for greedy decoding) before anything slow happens; never imports torch."""
    from mmplug.core.generation.config import GenerationConfig, Spelling

    flags = {name: "--" + name.replace("_", "-") for name in ("max_new_tokens", "temperature", "top_k", "top_p", "seed")}
    GenerationConfig.from_options(generation_options(args), Spelling(flags, "add --temperature T"))


def load_pipeline(args: argparse.Namespace) -> Any:
    """A checkpoint (directory with config.json, or a Hub id) or a preset/config file (random
    weights, initialised from ``--seed`` when given). The generation flags are checked first,
    so a bad one fails before the model loads."""
    check_generation_flags(args)
    from mmplug.core.cli.model_source import source_kind
    from mmplug.core.pipeline import Pipeline

    model = args.model
    if source_kind(model) != "checkpoint":
        print(f"note: {model} is a config, so the weights are random (load a checkpoint for real answers)",
              file=sys.stderr)
        seed = [f"runtime.seed={args.seed}"] if args.seed is not None else []
        return Pipeline.from_config(model, seed + args.overrides, device=args.device, dtype=args.dtype)
    return Pipeline.from_pretrained(model, device=args.device, dtype=args.dtype, overrides=args.overrides or None)
