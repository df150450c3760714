"""mkdocs hook: give mkdocstrings a source tree shaped like the installed package.

The repository keeps ``core/``, ``plugins/`` and ``registry/`` at the top level and
installs them as ``mmplug.core`` etc.; mkdocstrings reads sources statically, so
this hook links them under ``build/docs-src/mmplug/`` (the path mkdocs.yml names).
"""
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "build" / "docs-src" / "mmplug"


def on_startup(command, dirty):
    SOURCE.mkdir(parents=True, exist_ok=True)
    for folder in ("core", "plugins", "registry"):
        link = SOURCE / folder
        if not link.is_symlink():
            link.symlink_to(ROOT / folder, target_is_directory=True)


CONFIG_MARKER = "<!-- generated:config-reference -->"


def on_page_markdown(markdown, page, config, files):
    """Replace the marker on the configuration reference page with tables built from the
    option models of the plugins installed at build time."""
    if CONFIG_MARKER not in markdown:
        return markdown
    return markdown.replace(CONFIG_MARKER, config_reference())


def config_reference() -> str:
    from mmplug.core.config import MultimodalConfig, RuntimeConfig
    from mmplug.core.options import NoOptions
    from mmplug.registry import Kind, get_registry

    registry = get_registry()
    lines = ["## Core sections", "", *model_table("multimodal", MultimodalConfig),
             *model_table("runtime", RuntimeConfig)]
    for kind in Kind:
        specs = registry.parts(kind)
        if not specs:
            continue
        lines += [f"## {kind.value}", ""]
        for spec in specs:
            title = f"`{spec.name}` ({spec.provenance.describe()})"
            lines += model_table(title, spec.load_options() or NoOptions, spec.summary)
    return "\n".join(lines)


def model_table(title: str, model, summary: str = "") -> list[str]:
    lines = [f"### {title}", ""]
    if summary:
        lines += [summary, ""]
    if not model.model_fields:
        return lines + ["No options.", ""]
    lines += ["| option | type | default | description |", "|---|---|---|---|"]
    for name, field in model.model_fields.items():
        annotation = getattr(field.annotation, "__name__", None) or str(field.annotation).replace("typing.", "")
        default = "required" if field.is_required() else f"`{field.get_default(call_default_factory=True)!r}`"
        description = (field.description or "").replace("|", "\\|").replace("\n", " ")
        lines.append(f"| `{name}` | {annotation.replace('|', '&#124;')} | {default.replace('|', '&#124;')} "
                     f"| {description} |")
    return lines + [""]
