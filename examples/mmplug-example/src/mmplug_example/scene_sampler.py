"""A content-aware frame sampler: frames right after the largest changes between thumbnails."""
from __future__ import annotations

import numpy as np

from mmplug.core.interfaces import FrameSampler, VideoInfo
from mmplug_example.options import SceneChangeOptions


class SceneChangeSampler(FrameSampler):
    """Short videos repeat frames (never blank ones), like the built-in samplers."""

    short_video_policy = "repeat"

    def __init__(self, options: SceneChangeOptions):
        self.options = options

    def indices(self, info: VideoInfo) -> np.ndarray:
        """Without access to the content: uniform positions."""
        return np.arange(self.options.num_frames) * info.num_frames // self.options.num_frames

    def select(self, info: VideoInfo, peek) -> np.ndarray:
        k = self.options.num_frames
        count = min(self.options.candidates, info.num_frames)
        if info.num_frames <= k or count < 2:
            return self.indices(info)
        candidates = np.linspace(0, info.num_frames - 1, count).round().astype(np.int64)
        thumbs = peek(candidates, (self.options.thumbnail, self.options.thumbnail)).astype(np.float32)
        change = np.abs(np.diff(thumbs, axis=0)).mean(axis=(1, 2, 3))  # (count-1,)
        cuts = candidates[1:][np.argsort(-change, kind="stable")[: k - 1]]
        chosen = np.unique(np.concatenate([[0], cuts]))
        if len(chosen) < k:  # top up with uniform frames not chosen yet
            extra = [i for i in self.indices(info) if i not in set(chosen.tolist())]
            chosen = np.unique(np.concatenate([chosen, extra[: k - len(chosen)]]))
        return np.sort(chosen)[:k].astype(np.int64)


def build(options: SceneChangeOptions, context) -> SceneChangeSampler:
    return SceneChangeSampler(options)
