"""The pyav decoder returns exactly the frames of a plain sequential decode."""
from __future__ import annotations

import io

import numpy as np
import pytest

import media_factory as mf
from mmplug.plugins.video.pyav_decoder import PyAVDecoder
from mmplug.plugins.video.samplers import UniformSampler

MODES = [dict(seek=s, skip_unwanted=k, threads=t) for s in ("auto", "never", "always")
         for k in (True, False) for t in ("auto", 3)]  # "auto" is one thread at 64x48


@pytest.mark.parametrize("clip", ["gop", "gop_nob"])
@pytest.mark.parametrize("mode", MODES, ids=lambda m: "-".join(str(v) for v in m.values()))
def test_every_mode_matches_the_sequential_recipe(media, mode, clip):
    """40 frames, a keyframe every 8, with and without B-frames: sparse, dense, unordered
    and repeated indices."""
    path = media[clip]
    decoder = PyAVDecoder(**mode)
    for indices in ([0, 5, 10, 15, 20, 25, 30, 35], [39], [33, 2, 17, 17, 9], list(range(40))):
        got = decoder.read(path, indices)
        np.testing.assert_array_equal(got.frames, mf.sequential_decode(path, indices))
        assert [mf.frame_number(f) for f in got.frames] == list(indices)
        np.testing.assert_array_equal(got.indices, indices)


def test_random_index_sets_match(media):
    path = media["gop"]
    decoder = PyAVDecoder()
    rng = np.random.default_rng(7)
    for _ in range(5):
        indices = rng.integers(0, 40, size=rng.integers(1, 9))
        np.testing.assert_array_equal(decoder.read(path, indices).frames, mf.sequential_decode(path, indices))


def test_timestamps_are_presentation_times(media):
    got = PyAVDecoder().read(media["gop"], [0, 9, 31])
    np.testing.assert_allclose(got.timestamps, [0.0, 0.9, 3.1])  # written at 10 fps
    assert got.frames.dtype == np.uint8 and got.frames.shape == (3, mf.HEIGHT, mf.WIDTH, 3)


@pytest.mark.parametrize("kind", ["bytes", "fileobj", "offset-fileobj"])
def test_in_memory_sources_read_like_paths(media, kind):
    data = media["gop"].read_bytes()
    source = {"bytes": data, "fileobj": io.BytesIO(data), "offset-fileobj": _at_offset(data)}[kind]
    indices = [3, 30, 12]
    got = PyAVDecoder().read(source, indices)
    np.testing.assert_array_equal(got.frames, mf.sequential_decode(media["gop"], indices))
    if kind != "bytes":
        assert not source.closed, "the caller's file object must stay open"


def _at_offset(data: bytes) -> io.BytesIO:
    stream = io.BytesIO(b"JUNKJUNK" + data)
    stream.seek(8)
    return stream


@pytest.mark.parametrize("name", ["sample_demo_1.mp4", "sample_demo_3.mp4"])
def test_fixture_clips_uniform_8_match_the_recipe(clips, name):
    path = clips / name
    decoder = PyAVDecoder()
    indices = UniformSampler(8).indices(decoder.probe(path))
    np.testing.assert_array_equal(decoder.read(path, indices).frames, mf.sequential_decode(path, indices))


def test_long_gop_clip_seeks_and_stays_exact(clips):
    """demo.mp4 has a keyframe every 100 frames: frames past them come from a seek."""
    path = clips / "demo.mp4"
    decoder = PyAVDecoder(seek="always")
    got = decoder.read(path, [205, 103])
    reference = mf.sequential_decode(path, [205, 103])
    np.testing.assert_array_equal(got.frames, reference)
    assert decoder.index(path).keyframe_before(205) == 200


def test_index_mismatch_falls_back_to_an_exact_sequential_decode(media, monkeypatch, caplog):
    """If decoded frames do not match the packet index, the read is redone from the start."""
    from mmplug.plugins.video import pyav_decoder

    decoder = PyAVDecoder()
    index = decoder.index(media["gop"])
    shifted = pyav_decoder.PacketIndex(index.pts + 1, index.keyframes, index.time_base, True,
                                       _position={int(p) + 1: i for i, p in enumerate(index.pts)})
    monkeypatch.setattr(decoder, "index", lambda source: shifted)
    indices = [4, 22]
    with caplog.at_level("INFO", logger=pyav_decoder.__name__):
        got = decoder.read(media["gop"], indices)
    np.testing.assert_array_equal(got.frames, mf.sequential_decode(media["gop"], indices))
    assert "decoding sequentially instead" in caplog.text


def test_sample_table_index_equals_the_packet_index(media):
    """Without B-frames the mp4 sample table is the index; it must agree with reading the packets."""
    import av

    from mmplug.plugins.video.pyav_index import has_sample_table, index_from_packets, index_from_sample_table

    with av.open(str(media["gop_nob"])) as container:
        stream = container.streams.video[0]
        assert has_sample_table(stream)
        table = index_from_sample_table(container, stream)
    with av.open(str(media["gop"])) as container:
        assert not has_sample_table(container.streams.video[0]), "B-frames reorder: no shortcut"
    with av.open(str(media["gop_nob"])) as container:
        packets = index_from_packets(container, container.streams.video[0])
    np.testing.assert_array_equal(table.pts, packets.pts)
    np.testing.assert_array_equal(table.keyframes, packets.keyframes)
    assert table.keyframes[0] == 0 and len(table.keyframes) > 3, "several keyframes to seek to"


@pytest.mark.parametrize("name", ["gop", "gop_nob", "webm", "mkv", "rotated", "vfr", "gif", "jpg", "three"])
def test_read_sampled_equals_probe_then_read(media, name):
    """The one-open path gives the same info and frames as probe + sampler + read."""
    sampler = UniformSampler(5)
    info, got = PyAVDecoder().read_sampled(media[name], sampler)
    decoder = PyAVDecoder()
    expected_info = decoder.probe(media[name])
    expected = decoder.read(media[name], sampler.indices(expected_info), size=(20, 30))
    assert info == expected_info
    np.testing.assert_array_equal(got.frames, decoder.read(media[name], sampler.indices(info)).frames)
    _, small = PyAVDecoder().read_sampled(media[name], sampler, size=(20, 30))
    np.testing.assert_array_equal(small.frames, expected.frames)
    np.testing.assert_array_equal(small.timestamps, expected.timestamps)


def test_read_sampled_on_a_fixture_clip_matches_the_recipe(clips):
    path = clips / "sample_demo_9.mp4"
    info, got = PyAVDecoder().read_sampled(path, UniformSampler(8))
    assert info.num_frames == 219
    np.testing.assert_array_equal(got.frames, mf.sequential_decode(path, UniformSampler(8).indices(info)))
