"""read(..., size=(h, w)) scales inside the colour conversion."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from mmplug.core.errors import MediaError
from mmplug.core.media import shortest_edge_size
from mmplug.plugins.video.pyav_decoder import PyAVDecoder


def resized(frames: np.ndarray, size) -> np.ndarray:
    return np.stack([np.asarray(Image.fromarray(f).resize((size[1], size[0]), Image.Resampling.BOX))
                     for f in frames])


@pytest.mark.parametrize("interpolation", ["area", "bilinear", "bicubic"])
def test_scaled_frames_are_close_to_resizing_the_full_frames(media, interpolation):
    decoder = PyAVDecoder(interpolation=interpolation)
    full = decoder.read(media["gop"], [1, 30]).frames
    small = decoder.read(media["gop"], [1, 30], size=(24, 32)).frames
    assert small.shape == (2, 24, 32, 3) and small.dtype == np.uint8
    difference = np.abs(small.astype(int) - resized(full, (24, 32)).astype(int))
    assert difference.mean() < 6, f"mean difference {difference.mean():.2f}"


def test_scaling_a_rotated_clip_gives_the_display_size(media):
    got = PyAVDecoder().read(media["rotated"], [0], size=(32, 24)).frames
    assert got.shape == (1, 32, 24, 3)
    right = got[0][:, -1].mean(0)
    assert right[1] > 150 and right[0] < 90, "still turned upright"


def test_scaling_a_still_image(media):
    got = PyAVDecoder().read(media["png"], [0], size=(12, 16)).frames
    assert got.shape == (1, 12, 16, 3)


def test_bad_size(media):
    with pytest.raises(MediaError, match="size must be"):
        PyAVDecoder().read(media["mp4"], [0], size=(0, 10))


def test_demo_clip_scaled_to_the_processor_size(clips):
    path = clips / "demo.mp4"  # 2048x1810: shorter side 1810 -> 224
    size = shortest_edge_size(1810, 2048, 224)
    assert size == (224, int(224 * 2048 / 1810))
    got = PyAVDecoder().read(path, [0], size=size).frames
    assert got.shape == (1,) + size + (3,)
