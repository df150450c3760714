"""Where the tests' reference data lives: tests/fixtures, inside the repository (see its README)."""
from __future__ import annotations

from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
FIXTURES = REPOSITORY / "tests" / "fixtures"
MEDIA = FIXTURES / "media"
PROCESSOR_DIR = FIXTURES / "video-llava-processor"
SPM_VECTORS = FIXTURES / "llama-spm-vectors"
