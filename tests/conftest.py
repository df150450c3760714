"""Shared fixtures of the framework tests."""
from __future__ import annotations

from pathlib import Path

import pytest

import toy_parts
from fixture_paths import FIXTURES
from mmplug.registry import Registry, use_registry

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def toy_registry():
    """A registry holding only the toy plugin, installed as the process-wide one."""
    registry = Registry()
    assert registry.add_plugin(toy_parts), registry.failures
    toy_parts.BUILT.clear()
    with use_registry(registry):
        yield registry


@pytest.fixture
def fixtures_dir() -> Path:
    """tests/fixtures (in the repository: a missing fixture fails, it never skips)."""
    return FIXTURES
