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
