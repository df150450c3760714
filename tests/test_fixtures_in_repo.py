"""The reference data lives in the repository: no test reads outside it, and the facts that
tests/fixtures/README.md states about the clips are what the files hold."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from fixture_paths import FIXTURES, MEDIA

TESTS = Path(__file__).resolve().parent


def test_no_test_names_a_folder_outside_the_repository():
    offenders = [str(path.relative_to(TESTS)) for path in TESTS.rglob("*.py")
                 if path.name != Path(__file__).name and re.search(r"""["']shared["']|\.\./shared""", path.read_text())]
    assert not offenders, f"tests must read tests/fixtures, not ../shared: {offenders}"


def test_fixtures_stay_small():
    total = sum(path.stat().st_size for path in FIXTURES.rglob("*") if path.is_file())
    assert total < 6_000_000, f"tests/fixtures holds {total / 1e6:.1f} MB"


def _readme_clip_facts() -> list[tuple[str, int, float, tuple[int, int], int]]:
    rows = re.findall(r"^\| (\S+\.mp4) \| (\d+) \| ([\d.]+) \| (\d+)x(\d+) \| (\d+)", (FIXTURES / "README.md").read_text(),
                      re.MULTILINE)
    return [(name, int(frames), float(fps), (int(w), int(h)), int(keys)) for name, frames, fps, w, h, keys in rows]


def test_readme_lists_every_clip():
    assert sorted(row[0] for row in _readme_clip_facts()) == sorted(path.name for path in MEDIA.glob("*.mp4"))


@pytest.mark.parametrize("facts", _readme_clip_facts(), ids=lambda facts: facts[0])
def test_readme_clip_facts_hold(facts):
    av = pytest.importorskip("av")
    name, frames, fps, size, keyframes = facts
    with av.open(str(MEDIA / name)) as container:
        stream = container.streams.video[0]
        packets = [packet for packet in container.demux(stream) if packet.size]
        got = (len(packets), round(float(stream.average_rate), 3), (stream.width, stream.height),
               sum(packet.is_keyframe for packet in packets))
    assert got == (frames, fps, size, keyframes)
