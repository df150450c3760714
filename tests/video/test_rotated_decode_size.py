"""decode_oversample (the opt-in fast decode path) on rotated phone clips: the decoder-side
size is computed on the displayed picture, after the rotation."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import media_factory as mf
from mmplug.core.generation.media import load_video
from mmplug.core.interfaces.video import VideoDecoder
from mmplug.core.media import shortest_edge_size
from mmplug.plugins.image.clip import ClipImageProcessor
from mmplug.plugins.image.options import ClipImageOptions
from mmplug.plugins.video.pyav_decoder import PyAVDecoder
from mmplug.plugins.video.samplers import UniformSampler

CODED = (640, 480)  # width, height as stored
HINTED = ClipImageProcessor(ClipImageOptions(size=32, crop_size=32, decode_oversample=2.0))  # decode to edge 64


@pytest.fixture(scope="module")
def phone_clips(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("phone")
    return {rotation: mf.write_video(root / f"rot{rotation}.mp4", 3, size=CODED, rotation=rotation)
            for rotation in (-90, 90, 180, 0)}


@pytest.mark.parametrize("rotation", [-90, 90, 180, 0])
def test_decode_size_follows_the_displayed_picture(phone_clips, rotation):
    path = phone_clips[rotation]
    width, height = CODED[::-1] if rotation in (90, -90) else CODED  # displayed
    expected_shape = shortest_edge_size(height, width, 64)
    decoder = PyAVDecoder()
    frames = load_video(path, decoder, UniformSampler(2), HINTED)
    assert frames.shape == (2, *expected_shape, 3)
    # the same as asking for that size directly, and as the interface's general read_sampled
    indices = UniformSampler(2).indices(decoder.probe(path))
    np.testing.assert_array_equal(frames, decoder.read(path, indices, size=expected_shape).frames)
    general = VideoDecoder.read_sampled(decoder, path, UniformSampler(2),
                                        size=lambda info: HINTED.decode_size(info.height, info.width))[1]
    np.testing.assert_array_equal(frames, general.frames)
    # upright and not squashed: close to the full frame resized by Pillow
    full = decoder.read(path, indices).frames
    resized = np.stack([np.asarray(Image.fromarray(f).resize(expected_shape[::-1], Image.Resampling.BOX))
                        for f in full])
    assert np.abs(frames.astype(int) - resized.astype(int)).mean() < 6


def test_decode_size_with_decord_routes_rotated_clips_right(phone_clips):
    pytest.importorskip("decord")
    from mmplug.plugins.video.decord_decoder import DecordDecoder

    frames = load_video(phone_clips[-90], DecordDecoder(), UniformSampler(2), HINTED)
    assert frames.shape == (2, *shortest_edge_size(640, 480, 64), 3)
