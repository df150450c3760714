"""Installed-looking plugin distributions for tests: a module plus a ``.dist-info`` folder
with an ``mmplug`` entry point, in a temporary directory put on ``sys.path``."""
from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest


def make_distribution(root: Path, dist: str, version: str, module: str, body: str, ep_name: str | None = None) -> None:
    """Write an installed-looking distribution (module + .dist-info with an mmplug entry point)."""
    (root / f"{module}.py").write_text(textwrap.dedent(body))
    info = root / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[mmplug]\n{ep_name or module} = {module}\n")


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A fresh directory on sys.path for fake distributions (modules named ``fakeplug*``)."""
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [m for m in sys.modules if m.startswith("fakeplug")]:
        del sys.modules[name]
