"""The optional decord decoder: same frames as the recipe, clear message when missing."""
from __future__ import annotations

import sys

import numpy as np
import pytest

import media_factory as mf
from mmplug.core.errors import BackendUnavailableError, MediaError
from mmplug.registry import discover


@pytest.fixture
def decord_decoder():
    pytest.importorskip("decord", reason="decord is an optional extra")
    return discover().build("video_decoder", "decord", {})


def test_missing_decord_is_explained(monkeypatch):
    from mmplug.plugins.video.decord_decoder import DecordDecoder

    monkeypatch.setitem(sys.modules, "decord", None)  # import decord now raises ImportError
    availability = DecordDecoder.availability()
    assert not availability.ok and 'pip install "mmplug[decord]"' in availability.reason
    with pytest.raises(BackendUnavailableError, match=r'mmplug\[decord\]'):
        discover().build("video_decoder", "decord", {})


def test_decord_matches_the_recipe(media, decord_decoder):
    for name in ("gop", "webm"):
        indices = [7, 0, 9, 9]
        got = decord_decoder.read(media[name], indices)
        np.testing.assert_array_equal(got.frames, mf.sequential_decode(media[name], indices))
        np.testing.assert_array_equal(got.indices, indices)


def test_decord_on_a_fixture_clip(clips, decord_decoder):
    path = clips / "sample_demo_3.mp4"
    info = decord_decoder.probe(path)
    assert info.num_frames == 146
    indices = np.arange(0, 146, 146 / 4).astype(int)
    np.testing.assert_array_equal(decord_decoder.read(path, indices).frames, mf.sequential_decode(path, indices))


def test_decord_sends_what_it_cannot_read_to_pyav(media, decord_decoder):
    got = decord_decoder.read(media["rotated"], [1])
    assert got.frames.shape == (1, mf.WIDTH, mf.HEIGHT, 3)
    assert decord_decoder.read(media["gif"], [2]).frames.shape == (1, 48, 64, 3)
    assert decord_decoder.probe(media["jpg"]).frame_count_source == "image"
    strict = discover().build("video_decoder", "decord", {"other_media": "error"})
    with pytest.raises(MediaError, match="rotated by -90"):
        strict.read(media["rotated"], [1])


def test_decord_errors_are_media_errors(media, decord_decoder):
    for name in ("empty", "text", "missing", "cut_data"):
        with pytest.raises(MediaError) as caught:
            decord_decoder.read(media[name], [0, 29] if name == "cut_data" else [0])
        assert str(media[name]) in str(caught.value)
        assert caught.value.backend.startswith("decord")
