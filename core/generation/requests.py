"""Turning user requests (questions + media, or chat messages) into processor inputs.

A question without placeholders is wrapped in a user message with one entry per image and
video, rendered with the pipeline's chat template (generation prompt added). A prompt that
already holds ``<image>``/``<video>`` placeholders is used as written (``template=False``).

In a batch each sample is prepared on its own: a sample whose media or prompt is bad gets
an error that names its index ("sample 2: clip.mp4 [pyav]: ..."), and with
``errors="return"`` the other samples go on.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Sequence

from mmplug.core.errors import MmplugError, ProcessorError
from mmplug.core.generation.media import load_image, load_video


#: What a batch does when one sample fails: raise its error, or return it in that sample's output.
ERROR_MODES = ("raise", "return")


@dataclass
class Request:
    """One sample: the rendered prompt and its decoded media, or the ``error`` that stopped it
    (``prompt`` is then the question as given, if it could not be rendered)."""

    prompt: str
    images: list[Any] = field(default_factory=list)
    videos: list[Any] = field(default_factory=list)
    error: MmplugError | None = None


def in_sample(error: MmplugError, index: int) -> MmplugError:
    """``error`` with its message prefixed by the sample it belongs to ("sample 2: ..."); its
    type is kept (``except MediaError`` still catches it) and ``error.sample`` is set. A message
    that names "sample 0" because the sample was processed alone is renamed."""
    error.sample = index
    error.args = (f"sample {index}: {str(error).removeprefix('sample 0: ')}", *error.args[1:])
    return error


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
                   timings: dict[str, float], errors: str = "raise") -> list[Request]:
    """Decode media and render prompts for every sample; adds ``decode_s`` to ``timings``.

    A sample that fails (an mmplug error) raises, named by its index in a batch; with
    ``errors="return"`` its Request carries the error instead."""
    if errors not in ERROR_MODES:
        raise ProcessorError(f"errors={errors!r}: use 'raise' or 'return'")
    image_groups = per_sample(images, len(prompts), "images")
    video_groups = per_sample(videos, len(prompts), "videos")
    timings["decode_s"] = 0.0
    requests = []
    for index, (text, sample_images, sample_videos) in enumerate(zip(prompts, image_groups, video_groups)):
        try:
            requests.append(build_request(pipeline, text, sample_images, sample_videos, template=template,
                                          timings=timings))
        except MmplugError as exc:
            error = in_sample(exc, index) if len(prompts) > 1 else exc
            if errors == "raise":
                raise error
            requests.append(Request(text, error=error))
    return requests


def build_request(pipeline: Any, text: str, images: list[Any], videos: list[Any], *, template: bool,
                  timings: dict[str, float]) -> Request:
    """One sample: its media decoded (time added to ``timings["decode_s"]``), its prompt rendered."""
    start = time.perf_counter()
    images = [load_image(item) for item in images]
    videos = [decode_video(pipeline, item) for item in videos]
    timings["decode_s"] += time.perf_counter() - start
    if template:
        text = pipeline.processor.apply_chat_template([user_message(text, len(images), len(videos))],
                                                      add_generation_prompt=True)
    return Request(text, images, videos)


def decode_video(pipeline: Any, item: Any) -> Any:
    return load_video(item, pipeline.video_decoder, pipeline.frame_sampler, pipeline.processor.image_processor)


def encode_requests(pipeline: Any, requests: list[Request], timings: dict[str, float]) -> Any:
    """Processor inputs (left padded) on the model's device; adds ``preprocess_s``."""
    start = time.perf_counter()
    inputs = pipeline.processor([r.prompt for r in requests], images=[r.images for r in requests],
                                videos=[r.videos for r in requests], padding=True, padding_side="left")
    timings["preprocess_s"] = time.perf_counter() - start
    return inputs.to(pipeline.device)
