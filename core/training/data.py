"""Manifest samples -> training batches: decoded media (cached once), a seeded data order,
and the processor's ``training_batch`` (labels on assistant text only)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from mmplug.core.generation.media import load_image, load_video
from mmplug.core.generation.requests import user_message
from mmplug.core.progress import progress
from mmplug.core.training.manifest import Sample


class MediaCache:
    """Decoded media by path: videos as sampled frames (T,H,W,3) uint8 (through the pipeline's
    decoder and frame sampler), images as (H,W,3) uint8. Decoded once when ``keep``."""

    def __init__(self, pipeline: Any, *, keep: bool = True):
        self.pipeline = pipeline
        self.keep = keep
        self._items: dict[Path, np.ndarray] = {}

    def video(self, path: Path) -> np.ndarray:
        return self._get(path, lambda: load_video(path, self.pipeline.video_decoder, self.pipeline.frame_sampler,
                                                  self.pipeline.processor.image_processor))

    def image(self, path: Path) -> np.ndarray:
        return self._get(path, lambda: np.asarray(load_image(path).convert("RGB")))

    def _get(self, path: Path, load: Any) -> np.ndarray:
        item = self._items.get(path)
        if item is None:
            item = load()
            if self.keep:
                self._items[path] = item
        return item

    def preload(self, samples: Sequence[Sample]) -> None:
        """Decode every sample's media now (a progress bar on terminals)."""
        for sample in progress(samples, description="decoding media"):
            for path in sample.videos:
                self.video(path)
            for path in sample.images:
                self.image(path)


def with_media_placeholders(sample: Sample) -> list[dict[str, Any]]:
    """The sample's turns, its first user turn carrying the media parts (as at inference)."""
    turns = [dict(turn) for turn in sample.conversations]
    first_user = next(i for i, turn in enumerate(turns) if turn["role"] == "user")
    content = turns[first_user]["content"]
    if isinstance(content, str):
        turns[first_user] = user_message(content, len(sample.images), len(sample.videos))
    return turns


class DataOrder:
    """Seeded epochs: a fresh permutation of ``size`` samples per epoch, position saved for resume."""

    def __init__(self, size: int, seed: int, epoch: int = 0, position: int = 0):
        self.size, self.seed = size, seed
        self.epoch, self.position = epoch, position
        self._order = self._permutation(epoch)

    def _permutation(self, epoch: int) -> np.ndarray:
        return np.random.default_rng([self.seed, epoch]).permutation(self.size)

    def take(self, count: int) -> list[int]:
        """The next ``count`` sample indices (crossing into the next epoch as needed)."""
        out = []
        while len(out) < count:
            if self.position == self.size:
                self.epoch, self.position = self.epoch + 1, 0
                self._order = self._permutation(self.epoch)
            out.append(int(self._order[self.position]))
            self.position += 1
        return out


def training_batch(processor: Any, media: MediaCache, samples: Sequence[Sample]) -> Any:
    """Processor output (input_ids, attention_mask, labels, pixel values) of ``samples``."""
    conversations = [with_media_placeholders(s) for s in samples]
    images = [[media.image(p) for p in s.images] for s in samples]
    videos = [[media.video(p) for p in s.videos] for s in samples]
    return processor.training_batch(conversations, images=images if any(images) else None,
                                    videos=videos if any(videos) else None, padding_side="right")
