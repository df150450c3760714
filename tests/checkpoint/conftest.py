"""Fixtures of the checkpoint tests: one tiny random reference model, saved once per session."""
from __future__ import annotations

from pathlib import Path

import pytest

from model.reference import build_pair
from mmplug.registry import discover, use_registry

from .helpers import TINY


@pytest.fixture(scope="session")
def registry():
    """Every built-in plugin (entry points), installed as the process-wide registry."""
    registry = discover()
    with use_registry(registry):
        yield registry


@pytest.fixture(scope="session")
def reference():
    """The transformers VideoLlava reference (fp32, eager attention, random weights)."""
    return build_pair(TINY)[0]


@pytest.fixture(scope="session")
def published(reference, tmp_path_factory) -> Path:
    """The reference saved by transformers 4.56.2 ``save_pretrained`` (layout 1)."""
    directory = tmp_path_factory.mktemp("published")
    reference.save_pretrained(directory)
    return directory
