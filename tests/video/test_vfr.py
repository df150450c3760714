"""Variable frame rate: the ``fps`` sampler picks frames by presentation time, not by index."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import media_factory as mf
from mmplug.core.errors import MediaError
from mmplug.core.interfaces.video import VideoInfo
from mmplug.plugins.video.pyav_decoder import PyAVDecoder
from mmplug.plugins.video.samplers import FpsSampler, nearest_frames

#: When each frame is shown (ms): a burst, then pauses (as a phone writes when the scene is still).
TIMES_MS = [0, 40, 80, 120, 160, 200, 240, 280, 1000, 1040, 2000, 2040, 2080]


@pytest.fixture(scope="module")
def vfr_clips(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("vfr")
    return {
        "mp4": mf.write_vfr_video(root / "vfr.mp4", TIMES_MS),  # sample table, no reordering
        "mp4 with b-frames": mf.write_vfr_video(root / "vfr_b.mp4", TIMES_MS, b_frames=2),
        "mkv": mf.write_vfr_video(root / "vfr.mkv", TIMES_MS),  # no sample table: packets indexed
    }


def nearest_by_hand(times_s) -> list[int]:
    """For each promised time, the frame of TIMES_MS shown nearest to it (the earlier on a tie)."""
    shown = np.asarray(TIMES_MS) / 1000
    out = []
    for t in times_s:
        gaps = np.abs(shown - t)
        out.append(int(np.flatnonzero(gaps <= gaps.min() + 1e-9)[0]))
    return out


@pytest.mark.parametrize("kind", ["mp4", "mp4 with b-frames", "mkv"])
@pytest.mark.parametrize("fps,max_frames", [(4, 32), (10, 32), (2, 3)])
def test_fps_sampler_returns_the_frames_nearest_to_its_times(vfr_clips, kind, fps, max_frames):
    path = vfr_clips[kind]
    sampler = FpsSampler(fps=fps, max_frames=max_frames)
    info, frames = PyAVDecoder().read_sampled(path, sampler)  # what pipelines call
    promised = sampler.times(info, len(frames.indices))
    expected = nearest_by_hand(promised)
    assert frames.indices.tolist() == expected
    # the frames themselves say which they are, and their timestamps are the written ones
    assert [mf.frame_number(f) for f in frames.frames] == expected
    np.testing.assert_allclose(frames.timestamps, np.asarray(TIMES_MS)[expected] / 1000, atol=1e-3)


@pytest.mark.parametrize("kind,count", [("mp4", "fast"), ("mp4 with b-frames", "fast"), ("mkv", "exact")])
def test_probe_then_indices_chooses_the_same_frames(vfr_clips, kind, count):
    """The general path (probe, sampler, read). An mkv has no frame count: count="fast" estimates it
    from duration x fps without reading packets, which cannot see the variable rate; "exact" can."""
    decoder = PyAVDecoder(count=count)
    info = decoder.probe(vfr_clips[kind])
    assert info.variable_fps and info.num_frames == len(TIMES_MS)
    np.testing.assert_allclose(info.frame_times, np.asarray(TIMES_MS) / 1000, atol=1e-3)
    sampler = FpsSampler(fps=4)
    indices = sampler.indices(info)
    assert indices.tolist() == nearest_by_hand(sampler.times(info, len(indices)))
    assert [mf.frame_number(f) for f in decoder.read(vfr_clips[kind], indices).frames] == indices.tolist()


def test_picking_by_index_would_miss_on_this_clip(vfr_clips):
    """The clip is irregular enough that index arithmetic (the old rule) picks far-off frames."""
    info = PyAVDecoder().probe(vfr_clips["mp4"])
    sampler = FpsSampler(fps=4)
    promised = sampler.times(info, sampler.wanted(info))
    by_index = np.floor(promised * info.fps + 1e-6).astype(int)
    shown = np.asarray(TIMES_MS) / 1000
    by_time = nearest_by_hand(promised)
    assert by_index.tolist() != by_time
    assert (np.abs(shown[by_index] - promised) - np.abs(shown[by_time] - promised)).max() > 0.5


def test_constant_rate_video_samples_the_same_with_or_without_frame_times(media):
    decoder = PyAVDecoder()
    info, _ = decoder.read_sampled(media["gop"], FpsSampler(fps=3))
    assert info.frame_times is not None and not info.variable_fps
    for fps in (1, 3, 7, 10):
        sampler = FpsSampler(fps=fps, max_frames=100)
        assert sampler.indices(info).tolist() == sampler.indices(dataclasses.replace(info, frame_times=None)).tolist()


def test_variable_rate_without_frame_times_is_an_error_not_a_guess():
    info = VideoInfo(num_frames=10, fps=7.0, duration=1.5, width=64, height=48, variable_fps=True, source="v.mp4")
    with pytest.raises(MediaError, match="variable frame rate but its decoder gave no frame times") as caught:
        FpsSampler(fps=2).indices(info)
    assert caught.value.source == "v.mp4"


def test_nearest_frames_ties_go_to_the_earlier_frame():
    times = np.array([0.0, 0.1, 0.2, 0.5])
    got = nearest_frames(times, np.array([0.0, 0.05, 0.149, 0.151, 0.35, 0.36, 9.0]))
    assert got.tolist() == [0, 0, 1, 2, 2, 3, 3]


def test_decord_keeps_pyavs_frame_times(vfr_clips):
    pytest.importorskip("decord")
    from mmplug.plugins.video.decord_decoder import DecordDecoder

    sampler = FpsSampler(fps=4)
    info = DecordDecoder().probe(vfr_clips["mp4"])
    assert info.frame_times is not None
    frames = DecordDecoder().read(vfr_clips["mp4"], sampler.indices(info))
    expected = nearest_by_hand(sampler.times(info, sampler.wanted(info)))
    assert [mf.frame_number(f) for f in frames.frames] == expected
