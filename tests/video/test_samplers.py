"""Frame samplers: the published rules, short videos, seeding, caps."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mmplug.core.conformance import check_frame_sampler
from mmplug.core.errors import ConfigError, MediaError
from mmplug.core.interfaces.video import VideoInfo
from mmplug.plugins.video.samplers import (
    AllSampler,
    FpsSampler,
    LinspaceSampler,
    SegmentSampler,
    UniformSampler,
)
from mmplug.registry import discover


def info(frames: int, fps: float = 25.0, duration: float | None = None) -> VideoInfo:
    return VideoInfo(num_frames=frames, fps=fps, duration=frames / fps if duration is None else duration,
                     width=64, height=48, source="clip.mp4")


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 5000), k=st.integers(1, 64))
def test_uniform_is_the_transformers_docs_rule(n, k):
    got = UniformSampler(k).indices(info(n))
    rule = np.arange(0, n, n / k).astype(int)
    assert len(got) == k
    np.testing.assert_array_equal(got, rule[:k])
    assert got.min() >= 0 and got.max() < n


@settings(max_examples=200, deadline=None)
@given(n=st.integers(1, 5000), k=st.integers(1, 64))
def test_linspace_is_the_original_video_llava_rule(n, k):
    got = LinspaceSampler(k).indices(info(n))
    np.testing.assert_array_equal(got, np.linspace(0, n - 1, k, dtype=int))
    assert got.dtype == np.int64


def test_uniform_on_the_docs_clip():
    # sample_demo_1.mp4 has 243 frames; the docs' 8 frames are 243/8 = 30.375 apart
    np.testing.assert_array_equal(UniformSampler(8).indices(info(243)), [0, 30, 60, 91, 121, 151, 182, 212])


@pytest.mark.parametrize("sampler", [UniformSampler(8), LinspaceSampler(8), SegmentSampler(8, seed=0)])
def test_short_videos_repeat_frames_never_pad(sampler):
    got = sampler.indices(info(3))
    assert len(got) == 8 and set(got.tolist()) <= {0, 1, 2}
    assert np.all(np.diff(got) >= 0), "repeats keep the frames in order"
    assert sampler.short_video_policy == "repeat"


@pytest.mark.parametrize("cls", [UniformSampler, LinspaceSampler, SegmentSampler])
def test_short_video_error_policy(cls):
    sampler = cls(8, short_video="error")
    with pytest.raises(MediaError, match="3 frames, fewer than the 8") as caught:
        sampler.indices(info(3))
    assert caught.value.source == "clip.mp4"
    assert len(sampler.indices(info(8))) == 8


def test_no_frames_is_an_error():
    with pytest.raises(MediaError, match="no frames"):
        UniformSampler(8).indices(info(0, duration=0.0))


def test_segment_picks_one_frame_per_segment_reproducibly():
    n, k = 100, 8
    first = SegmentSampler(k, seed=3).indices(info(n))
    again = SegmentSampler(k, seed=3).indices(info(n))
    np.testing.assert_array_equal(first, again)
    bounds = np.linspace(0, n, k + 1)
    assert np.all(first >= np.floor(bounds[:-1])) and np.all(first < bounds[1:])
    sampler = SegmentSampler(k, seed=3)
    draws = {tuple(sampler.indices(info(n))) for _ in range(5)}
    assert len(draws) > 1, "successive calls draw new frames (training augmentation)"
    middle = SegmentSampler(k, jitter=False).indices(info(n))
    np.testing.assert_array_equal(middle, [6, 18, 31, 43, 56, 68, 81, 93])  # floor of each segment's centre


def test_fps_sampler_takes_frames_per_second():
    # 10 s at 25 fps, 2 frames per second -> frames at 0, 0.5 s, 1 s ... -> every 12.5 frames
    got = FpsSampler(fps=2, max_frames=100).indices(info(250))
    np.testing.assert_array_equal(got, np.floor(np.arange(20) * 12.5).astype(int))


def test_fps_sampler_cap_spreads_over_the_whole_video():
    got = FpsSampler(fps=2, max_frames=5).indices(info(250))
    assert len(got) == 5 and got[0] == 0 and got[-1] >= 190
    assert len(FpsSampler(fps=1, min_frames=4, max_frames=8).indices(info(25))) == 4


def test_all_sampler_and_its_cap():
    np.testing.assert_array_equal(AllSampler().indices(info(7)), np.arange(7))
    with pytest.raises(MediaError, match="more than max_frames=5"):
        AllSampler(max_frames=5).indices(info(7))


@pytest.mark.parametrize("name", ["uniform", "linspace", "fps", "segment", "all"])
def test_registered_samplers_conform(name):
    sampler = discover().build("frame_sampler", name, {})
    check_frame_sampler(sampler)
    assert sampler.short_video_policy in ("repeat", "error")


@pytest.mark.parametrize("name,options,where", [
    ("uniform", {"num_frames": 0}, "frame_sampler.num_frames"),
    ("uniform", {"frames": 8}, "frame_sampler.frames"),
    ("fps", {"fps": -1}, "frame_sampler.fps"),
    ("fps", {"max_frames": 4, "min_frames": 9}, "frame_sampler.min_frames"),
    ("segment", {"short_video": "pad"}, "frame_sampler.short_video"),
])
def test_bad_options_name_their_path(name, options, where):
    with pytest.raises(ConfigError) as caught:
        discover().build("frame_sampler", name, options)
    assert where in str(caught.value)
