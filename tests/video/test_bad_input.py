"""Broken and odd inputs: every failure is a MediaError naming the file, the backend and the cause."""
from __future__ import annotations

import io

import numpy as np
import pytest

from mmplug.core.errors import MediaError
from mmplug.core.media import failures, read_videos
from mmplug.plugins.video.pyav_decoder import PyAVDecoder
from mmplug.plugins.video.samplers import UniformSampler

# name -> words the cause must contain (what went wrong, in the user's terms)
BAD = {
    "empty": "empty (0 bytes)",
    "cut_header": "Invalid data",
    "text": "holds text",
    "audio_only": "no video stream",
    "missing": "no such file",
    "directory": "is a directory",
}


@pytest.mark.parametrize("name", sorted(BAD))
@pytest.mark.parametrize("call", ["probe", "read"])
def test_bad_files_raise_media_errors(media, pyav, name, call):
    with pytest.raises(MediaError) as caught:
        pyav.probe(media[name]) if call == "probe" else pyav.read(media[name], [0])
    error = caught.value
    assert error.backend == "pyav"
    assert BAD[name] in error.cause
    assert str(media[name]) in str(error) and "[pyav]" in str(error)


@pytest.mark.parametrize("name", ["cut_data", "cut_data_nob"])
def test_truncated_data_is_reported_at_read(media, pyav, name):
    """The header (moov first) survives, the frames after the cut do not."""
    info = pyav.probe(media[name])
    assert info.num_frames == 30
    early = pyav.read(media[name], [0, 1])
    assert early.frames.shape[0] == 2
    with pytest.raises(MediaError, match="truncated") as caught:
        pyav.read(media[name], [0, 29])
    assert "30 frames" in caught.value.cause


def test_index_out_of_range(media, pyav):
    with pytest.raises(MediaError, match=r"out of range: the video has 12 frames"):
        pyav.read(media["mp4"], [3, 12])
    with pytest.raises(MediaError, match="negative"):
        pyav.read(media["mp4"], [-1])
    with pytest.raises(MediaError, match="no frame indices"):
        pyav.read(media["mp4"], [])
    with pytest.raises(MediaError, match="out of range"):
        pyav.read(media["jpg"], [1])


@pytest.mark.parametrize("source,words", [
    (b"", "empty"),
    (io.StringIO("text"), "text mode"),
    (12345, "cannot read a int"),
])
def test_bad_source_objects(pyav, source, words):
    with pytest.raises(MediaError, match=words):
        pyav.probe(source)


def test_batch_keeps_good_items_and_reports_bad_ones(media):
    names = ["mp4", "empty", "rotated", "text", "three", "missing", "jpg"]
    results = read_videos([media[n] for n in names], PyAVDecoder(), UniformSampler(4))
    assert len(results) == len(names)
    bad = dict(failures(results))
    assert sorted(bad) == [1, 3, 5]
    for position, error in bad.items():
        assert str(media[names[position]]) in str(error)
    assert results[0].frames.shape == (4, 48, 64, 3)
    assert results[2].frames.shape == (4, 64, 48, 3)
    np.testing.assert_array_equal(results[4].indices, [0, 0, 1, 2])  # 3 frames, 4 asked: repeats
    assert results[6].frames.shape[0] == 4


def test_batch_on_threads_keeps_order(media):
    names = ["gop", "missing", "mp4", "webm"]
    results = read_videos([media[n] for n in names], PyAVDecoder(), UniformSampler(2), workers=3)
    assert [type(r).__name__ for r in results] == ["DecodedFrames", "MediaError", "DecodedFrames", "DecodedFrames"]
    np.testing.assert_array_equal(results[0].indices, [0, 20])


def test_batch_sampler_errors_are_item_failures(media):
    results = read_videos([media["three"], media["gop"]], PyAVDecoder(), UniformSampler(8, short_video="error"))
    assert isinstance(results[0], MediaError) and "fewer than the 8" in results[0].cause
    assert results[0].backend == "sampler uniform"
    assert results[1].frames.shape[0] == 8
