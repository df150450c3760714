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
    """The plugin listing as plain data (what ``--json`` prints). Every part and preset says
    whether it can be built (``usable``) and, if not, why (``problem``); names withdrawn
    because their plugin's hook failed midway are listed too."""
    from mmplug.registry import Kind

    def origin(provenance):
        return {"plugin": provenance.plugin, "distribution": provenance.distribution, "version": provenance.version}

    def state(problem):
        return {"usable": problem is None, "problem": None if problem is None else str(problem.error)}

    def parts_of(kind_name: str) -> list[dict]:
        specs = {s.name: s for s in registry.parts(kind_name)}
        withdrawn = {u.name: u for u in registry.unusable(kind_name) if u.name not in specs}
        rows = [{"kind": kind_name, "name": n, "summary": specs[n].summary, **origin(specs[n].provenance),
                 **state(registry.problem(kind_name, n))} for n in specs]
        rows += [{"kind": kind_name, "name": n, "summary": "", **origin(u.provenance), **state(u)}
                 for n, u in withdrawn.items()]
        return sorted(rows, key=lambda row: row["name"])

    presets = {p.name: p for p in registry.presets()}
    withdrawn_presets = {u.name: u for u in registry.unusable("preset") if u.name not in presets}
    return {
        "parts": [row for k in ([kind] if kind else [k.value for k in Kind]) for row in parts_of(k)],
        "presets": sorted([{"name": n, "summary": p.summary, **origin(p.provenance),
                            **state(registry.problem("preset", n))} for n, p in presets.items()]
                          + [{"name": n, "summary": "", **origin(u.provenance), **state(u)}
                             for n, u in withdrawn_presets.items()], key=lambda row: row["name"]),
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

    def entry(item, width) -> list[str]:
        summary = f"{item['summary']}  " if item["summary"] else ""
        row = [f"  {item['name']:<{width}}  {summary}[{origin(item)}]"]
        return row if item.get("usable", True) else row + [f"  {'':<{width}}  UNUSABLE: {item['problem']}"]

    rows: list[str] = []
    kinds: dict[str, list[dict]] = {}
    for part in data["parts"]:
        kinds.setdefault(part["kind"], []).append(part)
    for kind, parts in kinds.items():
        rows.append(f"{kind}:")
        width = max(len(p["name"]) for p in parts)
        for part in parts:
            rows += entry(part, width)
    if data["presets"]:
        rows.append("presets:")
        width = max(len(p["name"]) for p in data["presets"])
        for preset in data["presets"]:
            rows += entry(preset, width)
    if data["failures"]:
        rows.append("failed to load or register (what they provide is missing or UNUSABLE above):")
        for failure in data["failures"]:
            rows.append(f"  {failure['plugin']} [{origin(failure)}]: {failure['error']}")
    return "\n".join(rows) if rows else "no plugins installed"
