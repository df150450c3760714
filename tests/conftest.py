"""Shared fixtures of the framework tests."""
from __future__ import annotations

from pathlib import Path

import pytest

import toy_parts
from mmplug.registry import Registry, use_registry

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO.parent / "shared" / "fixtures"


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
    if not FIXTURES.is_dir():
        pytest.skip(f"shared fixtures not found at {FIXTURES}")
    return FIXTURES
