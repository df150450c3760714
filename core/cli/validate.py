"""``mmplug validate``: check a pipeline config and show the resolved parts.

Reports every problem at once with its dotted path; on success prints the part tree.
Checking imports no torch (a CPU config validates in well under a second); ``--build`` also
builds the model on the meta device (no memory, no weights: torch is imported), which
catches what only building finds and counts the parameters of every part.
"""
from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("validate", help="check a config and show its parts",
                                   description="Validate a pipeline config: a YAML/JSON/TOML file, a preset name, or "
                                               "a checkpoint (directory or Hub id; only its config files are read).")
    parser.add_argument("source", help="config file, preset name, checkpoint directory or Hub id (what --model takes)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override one field, e.g. --set language_model.num_layers=2 (repeatable)")
    parser.add_argument("--device", help="device to check attention backends for (default: runtime.device)")
    parser.add_argument("--dtype", help="dtype to check for (default: runtime.dtype)")
    parser.add_argument("--allow-code", action="store_true",
                        help="allow 'module:attr' part names, which import code")
    parser.add_argument("--build", action="store_true",
                        help="also build the model on the meta device (imports torch) and count its parameters")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from mmplug.core.cli.model_source import resolve_source
    from mmplug.core.errors import ConfigError

    try:
        resolved = resolve_source(args.source, args.overrides, device=args.device, dtype=args.dtype,
                                  allow_code=args.allow_code)
        tree = part_tree(resolved, build=args.build)
    except ConfigError as exc:
        if args.json:
            print(json.dumps({"valid": False, "errors": [
                {"path": i.path, "message": i.message} for i in exc.issues]}, indent=2))
        else:
            print(f"{args.source}: {exc}")
        return 1
    if args.json:
        print(json.dumps({"valid": True, **tree}, indent=2))
    else:
        print(f"{args.source}: valid")
        print(format_tree(tree))
    return 0


#: The sections a model is assembled from (the rest are processing parts).
MODEL_SECTIONS = ("vision_encoder", "projector", "language_model")


def part_tree(resolved, *, build: bool = False) -> dict:
    """Each resolved part with its plugin, provenance, attention and wiring; with ``build`` the
    model is built on the meta device and each model part gets its parameter count."""
    counts: dict[str, int] = {}
    total = None
    if build and all(s in resolved.parts for s in MODEL_SECTIONS):
        from mmplug.core.builder import assemble_model, build_model_parts, count_parameters

        parts = build_model_parts(resolved, device="meta", dtype=resolved.config.runtime.dtype)
        counts = {section: count_parameters(part) for section, part in parts.items()}
        total = count_parameters(assemble_model(parts, resolved))
    rows = []
    for section, part in resolved.parts.items():
        row = {"section": section, "name": part.spec.name, "provided_by": part.spec.provenance.describe()}
        if part.attention:
            row["attention"] = part.attention
        if section in counts:
            row["parameters"] = counts[section]
        if section in resolved.wiring:
            row["wiring"] = resolved.wiring[section]
        rows.append(row)
    return {"built": build, "parameters": total, "parts": rows}


def format_tree(tree: dict) -> str:
    total = tree["parameters"]
    if total is not None:
        headline = f"pipeline ({total:,} parameters)"
    elif tree["built"]:
        headline = "pipeline (no model sections)"
    else:
        headline = "pipeline (add --build to build it on the meta device and count its parameters)"
    lines = [headline]
    width = max((len(r["section"]) for r in tree["parts"]), default=0)
    for i, row in enumerate(tree["parts"]):
        branch = "└─" if i == len(tree["parts"]) - 1 else "├─"
        extra = []
        if "parameters" in row:
            extra.append(f"{row['parameters']:,} parameters")
        if "wiring" in row:
            extra.append(", ".join(f"{k}={v}" for k, v in row["wiring"].items()))
        if "attention" in row:
            extra.append(f"attention: {row['attention']}")
        details = f"  ({'; '.join(extra)})" if extra else ""
        lines.append(f"{branch} {row['section']:<{width}}  {row['name']} [{row['provided_by']}]{details}")
    return "\n".join(lines)
