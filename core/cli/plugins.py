"""``mmplug plugins``: every installed part by kind, presets, and plugins that failed to load."""
from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("plugins", help="list installed plugins by kind",
                                   description="List every installed part by kind, with the "
                                               "distribution that provides it, and plugins that failed to load.")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--kind", help="only this kind (e.g. projector)")
    parser.set_defaults(handler=run)


def listing(registry, kind: str | None = None) -> dict:
    """The plugin listing as plain data (what ``--json`` prints)."""
    def origin(provenance):
        return {"plugin": provenance.plugin, "distribution": provenance.distribution, "version": provenance.version}

    return {
        "parts": [{"kind": s.kind.value, "name": s.name, "summary": s.summary, **origin(s.provenance)}
                  for s in registry.parts(kind)],
        "presets": [{"name": p.name, "summary": p.summary, **origin(p.provenance)} for p in registry.presets()],
        "failures": [{"error": f.error, **origin(f.provenance)} for f in registry.failures],
    }


def run(args: argparse.Namespace) -> int:
    from mmplug.registry import Kind, get_registry

    registry = get_registry()
    kind = Kind.parse(args.kind).value if args.kind else None
    data = listing(registry, kind)
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    print(format_listing(data))
    return 0


def format_listing(data: dict) -> str:
    def origin(item):
        dist = item["distribution"] or f"plugin {item['plugin']}"
        return f"{dist} {item['version']}" if item["version"] else dist

    rows: list[str] = []
    kinds: dict[str, list[dict]] = {}
    for part in data["parts"]:
        kinds.setdefault(part["kind"], []).append(part)
    for kind, parts in kinds.items():
        rows.append(f"{kind}:")
        width = max(len(p["name"]) for p in parts)
        for part in parts:
            rows.append(f"  {part['name']:<{width}}  {part['summary']}  [{origin(part)}]")
    if data["presets"]:
        rows.append("presets:")
        width = max(len(p["name"]) for p in data["presets"])
        for preset in data["presets"]:
            rows.append(f"  {preset['name']:<{width}}  {preset['summary']}  [{origin(preset)}]")
    if data["failures"]:
        rows.append("failed to load (their parts are unavailable):")
        for failure in data["failures"]:
            rows.append(f"  {failure['plugin']} [{origin(failure)}]: {failure['error']}")
    return "\n".join(rows) if rows else "no plugins installed"
