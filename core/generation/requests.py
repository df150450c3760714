"""Turning user requests (questions + media, or chat messages) into processor inputs.

A question without placeholders is wrapped in a user message with one entry per image and
video, rendered with the pipeline's chat template (generation prompt added). A prompt that
already holds ``<image>``/``<video>`` placeholders is used as written (``template=False``).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Sequence

from mmplug.core.errors import ProcessorError
from mmplug.core.generation.media import load_image, load_video


@dataclass
class Request:
    """One sample: the rendered prompt and its decoded media."""

    prompt: str
    images: list[Any] = field(default_factory=list)
    videos: list[Any] = field(default_factory=list)


def as_list(media: Any) -> list[Any]:
    """None -> [], one item -> [item], a list/tuple -> itself (a list of frames is one video
    only when wrapped: pass ``[[f0, f1, ...]]``)."""
    if media is None:
        return []
    return list(media) if isinstance(media, (list, tuple)) else [media]


def per_sample(media: Any, batch: int, kind: str) -> list[list[Any]]:
    """Media of a batch: one entry per prompt (None, one item, or a list of items)."""
    if media is None:
        return [[] for _ in range(batch)]
    if batch == 1:
        return [as_list(media)]
    if not isinstance(media, (list, tuple)) or len(media) != batch:
        raise ProcessorError(f"{kind}: with {batch} prompts pass one entry per prompt (None for none), e.g. "
                             f"{kind}=[a, None]; got {type(media).__name__}"
                             + (f" of length {len(media)}" if isinstance(media, (list, tuple)) else ""))
    return [as_list(entry) for entry in media]


def user_message(text: str, images: int, videos: int) -> dict[str, Any]:
    content = [{"type": "image"}] * images + [{"type": "video"}] * videos + [{"type": "text", "text": text}]
    return {"role": "user", "content": content}


def build_requests(pipeline: Any, prompts: Sequence[str], images: Any, videos: Any, *, template: bool,
                   timings: dict[str, float]) -> list[Request]:
    """Decode media and render prompts for every sample; adds ``decode_s`` to ``timings``."""
    start = time.perf_counter()
    image_lists = [[load_image(i) for i in group] for group in per_sample(images, len(prompts), "images")]
    video_lists = [[decode_video(pipeline, v) for v in group] for group in per_sample(videos, len(prompts), "videos")]
    timings["decode_s"] = time.perf_counter() - start
    requests = []
    for text, sample_images, sample_videos in zip(prompts, image_lists, video_lists):
        if template:
            text = pipeline.processor.apply_chat_template(
                [user_message(text, len(sample_images), len(sample_videos))], add_generation_prompt=True)
        requests.append(Request(text, sample_images, sample_videos))
    return requests


def decode_video(pipeline: Any, item: Any) -> Any:
    return load_video(item, pipeline.video_decoder, pipeline.frame_sampler, pipeline.processor.image_processor)


def encode_requests(pipeline: Any, requests: list[Request], timings: dict[str, float]) -> Any:
    """Processor inputs (left padded) on the model's device; adds ``preprocess_s``."""
    start = time.perf_counter()
    inputs = pipeline.processor([r.prompt for r in requests], images=[r.images for r in requests],
                                videos=[r.videos for r in requests], padding=True, padding_side="left")
    timings["preprocess_s"] = time.perf_counter() - start
    return inputs.to(pipeline.device)
