"""probe(): frame counts (and how they were found), rates, sizes, rotation, audio."""
from __future__ import annotations

import av
import numpy as np
import pytest

import media_factory as mf
from mmplug.core.conformance import check_video_decoder
from mmplug.plugins.video.pyav_decoder import PyAVDecoder


def decoded_count(path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


@pytest.mark.parametrize("name,frames", [("mp4", 12), ("one", 1), ("three", 3), ("gop", 40), ("gif", 5)])
def test_container_frame_counts(media, pyav, name, frames):
    info = pyav.probe(media[name])
    assert (info.num_frames, info.frame_count_source) == (frames, "metadata")
    assert decoded_count(media[name]) == frames


@pytest.mark.parametrize("name", ["webm", "mkv"])
def test_containers_without_a_count_are_worked_out(media, name):
    assert av.open(str(media[name])).streams.video[0].frames == 0, "the container must not state a count"
    fast = PyAVDecoder().probe(media[name])
    exact = PyAVDecoder(count="exact").probe(media[name])
    assert fast.frame_count_source == "duration"
    assert exact.frame_count_source == "counted"
    assert fast.num_frames == exact.num_frames == decoded_count(media[name]) == 10


def test_webm_reads_all_probed_frames(media, pyav):
    info = pyav.probe(media["webm"])
    got = pyav.read(media["webm"], np.arange(info.num_frames))
    np.testing.assert_array_equal(got.frames, mf.sequential_decode(media["webm"], range(info.num_frames)))
    assert info.codec == "vp9"


def test_rotated_phone_clip_is_turned_upright(media, pyav):
    info = pyav.probe(media["rotated"])
    assert (info.rotation, info.width, info.height) == (-90, mf.HEIGHT, mf.WIDTH)
    got = pyav.read(media["rotated"], [0, 2])
    assert got.frames.shape == (2, mf.WIDTH, mf.HEIGHT, 3)
    # the green top row of the coded picture ends up as the right column when turned clockwise
    right = got.frames[0][:, -2:].reshape(-1, 3).mean(0)
    assert right[1] > 200 and right[0] < 60 and right[2] < 60
    unturned = np.rot90(got.frames, k=1, axes=(1, 2))
    np.testing.assert_array_equal(unturned, mf.sequential_decode(media["rotated"], [0, 2]))
    assert [mf.frame_number(f) for f in unturned] == [0, 2]


def test_portrait_clip(media, pyav):
    info = pyav.probe(media["portrait"])
    assert (info.width, info.height, info.rotation) == (48, 64, 0)
    assert pyav.read(media["portrait"], [3]).frames.shape == (1, 64, 48, 3)


def test_variable_frame_rate(media, pyav):
    info = pyav.probe(media["vfr"])
    assert info.variable_fps and not pyav.probe(media["mp4"]).variable_fps
    assert pyav.index(media["vfr"]).is_variable_rate()
    got = pyav.read(media["vfr"], [2, 3, 5])
    np.testing.assert_allclose(got.timestamps, [0.08, 0.3, 0.9])
    assert [mf.frame_number(f) for f in got.frames] == [2, 3, 5]


def test_audio_is_reported(media, pyav):
    assert pyav.probe(media["audio_video"]).has_audio
    assert not pyav.probe(media["mp4"]).has_audio


def test_gif_is_a_video(media, pyav):
    info = pyav.probe(media["gif"])
    assert info.codec == "gif" and info.num_frames == 5
    np.testing.assert_array_equal(pyav.read(media["gif"], [4, 0]).frames, mf.sequential_decode(media["gif"], [4, 0]))


@pytest.mark.parametrize("name", ["jpg", "png"])
def test_still_image_is_a_one_frame_video(media, pyav, name):
    from PIL import Image

    info = pyav.probe(media[name])
    assert (info.num_frames, info.frame_count_source, info.width, info.height) == (1, "image", 64, 48)
    got = pyav.read(media[name], [0, 0, 0])
    expected = np.asarray(Image.open(media[name]).convert("RGB"))
    assert got.frames.shape == (3, 48, 64, 3)
    np.testing.assert_array_equal(got.frames[2], expected)


def test_exif_orientation_turns_images(media, pyav):
    from PIL import Image, ImageOps

    info = pyav.probe(media["exif"])
    assert (info.rotation, info.width, info.height) == (-90, 48, 64)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(media["exif"])).convert("RGB"))
    np.testing.assert_array_equal(pyav.read(media["exif"], [0]).frames[0], expected)


def test_fixture_clip_metadata(clips, pyav):
    info = pyav.probe(clips / "sample_demo_9.mp4")
    assert (info.num_frames, info.width, info.height) == (219, 596, 336)  # fixtures README
    assert info.fps == pytest.approx(23.976, abs=1e-3) and info.has_audio


def test_conformance(media, pyav):
    for name in ("mp4", "rotated", "jpg", "webm"):
        check_video_decoder(pyav, media[name])
