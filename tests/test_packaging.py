"""Packaging: the wheel installs everything under the mmplug namespace and ships its data."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "--no-build-isolation", "-q", "-w", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    if result.returncode != 0:
        pytest.fail(f"wheel build failed:\n{result.stdout}\n{result.stderr}")
    [path] = out.glob("mmplug-*.whl")
    return path


def test_wheel_has_no_generic_top_level_packages(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {name.split("/")[0] for name in names}
    assert not top_level & {"core", "plugins", "registry"}, sorted(top_level)
    assert {n for n in top_level if not n.endswith(".dist-info")} == {"mmplug"}
    for module in ("mmplug/core/__init__.py", "mmplug/plugins/__init__.py", "mmplug/registry/__init__.py",
                   "mmplug/core/interfaces/vision.py", "mmplug/core/cli/main.py"):
        assert module in names


def test_wheel_ships_presets_and_entry_points(wheel):
    archive = zipfile.ZipFile(wheel)
    names = archive.namelist()
    assert "mmplug/plugins/presets/video-llava-7b.yaml" in names
    assert "mmplug/plugins/presets/data/video-llava-processor/tokenizer.json" in names
    [entry_points] = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    text = archive.read(entry_points).decode()
    assert "[mmplug]" in text and "presets = mmplug.plugins.presets" in text
    assert "mmplug = mmplug.core.cli.main:main" in text
