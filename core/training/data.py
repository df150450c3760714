"""Manifest samples -> training batches: decoded media (cached once), a seeded data order,
and the processor's ``training_batch`` (labels on assistant text only)."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np

from mmplug.core.errors import ProcessorError
from mmplug.core.generation.media import load_video
from mmplug.core.media.image import read_rgb
from mmplug.core.generation.requests import user_message
from mmplug.core.progress import progress
from mmplug.core.training.manifest import Sample


class MediaCache:
    """Decoded media by path: videos as sampled frames (T,H,W,3) uint8 (through the pipeline's
    decoder and frame sampler), images as (H,W,3) uint8 (``read_rgb``: the conversion every
    image path uses). Decoded once when ``keep``."""

    def __init__(self, pipeline: Any, *, keep: bool = True):
        self.pipeline = pipeline
        self.keep = keep
        self._items: dict[Path, np.ndarray] = {}

    def video(self, path: Path) -> np.ndarray:
        return self._get(path, lambda: load_video(path, self.pipeline.video_decoder, self.pipeline.frame_sampler,
                                                  self.pipeline.processor.image_processor))

    def image(self, path: Path) -> np.ndarray:
        return self._get(path, lambda: read_rgb(path))

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
    first_user = next((i for i, turn in enumerate(turns) if turn["role"] == "user"), None)
    if first_user is None:  # read_manifest refuses such lines; a Sample built by hand may still have one
        raise ProcessorError(f"{sample.manifest or 'manifest'} line {sample.line}: no user turn to put the "
                             "media and the question in")
    content = turns[first_user]["content"]
    if isinstance(content, str):
        turns[first_user] = user_message(content, len(sample.images), len(sample.videos))
    return turns


class DataOrder:
    """Seeded epochs: a fresh permutation of ``size`` samples per epoch, position saved for resume.

    With ``groups`` (one hashable key per sample, e.g. :func:`media_group`) and ``batch_size``,
    each epoch's order is cut into batches of samples sharing a key, the batches in random
    order, and :meth:`take` never crosses a batch boundary: a right-padded batch then holds no
    still image padded to a clip's length. Each sample still comes once per epoch; a key's
    last batch may be short.
    """

    def __init__(self, size: int, seed: int, epoch: int = 0, position: int = 0, *,
                 groups: Sequence[Any] | None = None, batch_size: int = 1):
        if groups is not None and len(groups) != size:
            raise ValueError(f"groups has {len(groups)} keys for {size} samples")
        self.size, self.seed = size, seed
        self.groups, self.batch_size = groups, batch_size
        self.epoch, self.position = epoch, position
        self._order, self._batch_ends = self._permutation(epoch)

    def _permutation(self, epoch: int) -> tuple[np.ndarray, frozenset[int]]:
        """The epoch's order and, when grouped, the positions where its batches end."""
        rng = np.random.default_rng([self.seed, epoch])
        order = rng.permutation(self.size)
        if self.groups is None:
            return order, frozenset()
        by_key: dict[Any, list[int]] = {}
        for index in order:
            by_key.setdefault(self.groups[index], []).append(int(index))
        batches = [members[i:i + self.batch_size] for members in by_key.values()
                   for i in range(0, len(members), self.batch_size)]
        batches = [batches[b] for b in rng.permutation(len(batches))]
        ends = np.cumsum([len(batch) for batch in batches])
        return np.asarray([index for batch in batches for index in batch], dtype=np.int64), frozenset(ends.tolist())

    def take(self, count: int) -> list[int]:
        """The next ``count`` sample indices (crossing into the next epoch as needed); grouped,
        fewer when a batch of one key ends first."""
        out = []
        while len(out) < count:
            if self.position == self.size:
                self.epoch, self.position = self.epoch + 1, 0
                self._order, self._batch_ends = self._permutation(self.epoch)
            out.append(int(self._order[self.position]))
            self.position += 1
            if self.position in self._batch_ends:
                break
        return out


def media_group(sample: Sample) -> tuple[int, int, int]:
    """A sample's batching key: its numbers of videos, images and chat turns (what sets its length)."""
    return len(sample.videos), len(sample.images), len(sample.conversations)


def training_batch(processor: Any, media: MediaCache, samples: Sequence[Sample]) -> Any:
    """Processor output (input_ids, attention_mask, labels, pixel values) of ``samples``.

    A ProcessorError (which counts samples of the batch from 0) is raised again naming the
    manifest lines of the batch, in order."""
    conversations = [with_media_placeholders(s) for s in samples]
    images = [[media.image(p) for p in s.images] for s in samples]
    videos = [[media.video(p) for p in s.videos] for s in samples]
    try:
        return processor.training_batch(conversations, images=images if any(images) else None,
                                        videos=videos if any(videos) else None, padding_side="right")
    except ProcessorError as exc:
        lines = ", ".join(f"sample {i} = {s.manifest or 'manifest'} line {s.line}" for i, s in enumerate(samples))
        raise ProcessorError(f"{exc} (in the batch: {lines})") from exc
