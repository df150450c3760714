"""The processor: prompts and media -> model inputs (ids, masks, pixels, labels).

Built by ``mmplug.core.builder.build_processor`` from the configured tokenizer,
image processor and chat template, with the placeholder geometry the vision
parts declare; also constructible directly::

    Processor(tokenizer=tok, image_processor=clip, chat_template=tpl,
              config=MultimodalConfig(), tokens_per_image=256, tokens_per_frame=257)
"""
from __future__ import annotations

from typing import Any, Sequence

from mmplug.core.config import MultimodalConfig
from mmplug.core.errors import ConfigError, ConfigIssue, MmplugError, ProcessorError
from mmplug.core.interfaces.image import ImageProcessor
from mmplug.core.interfaces.text import ChatTemplate, Tokenizer
from mmplug.core.processor import placeholders
from mmplug.core.processor.batching import IGNORE_INDEX, ProcessorOutput, batch_sequences
from mmplug.core.processor.labels import labels_for
from mmplug.core.processor.streaming import StreamingDetokenizer

IMAGE_TOKEN, VIDEO_TOKEN = "<image>", "<video>"


def _resolve_id(configured: int | None, fallback: int | None, key: str, what: str) -> int:
    if configured is not None:
        return configured
    if fallback is not None:
        return fallback
    raise ConfigError([ConfigIssue(f"multimodal.{key}", (
        f"not set and the tokenizer has no {what}; set multimodal.{key} to the id of the {what}"))])


def _is_nested(media: Any, batch: int) -> bool:
    """Per-sample media lists: one list (or tuple) per sample."""
    return (isinstance(media, (list, tuple)) and len(media) == batch and len(media) > 0
            and all(isinstance(m, (list, tuple)) for m in media))


class Processor:
    """Text + images + videos -> ``input_ids``, ``attention_mask``, ``pixel_values_*`` (and ``labels``).

    Each ``<image>`` expands to ``tokens_per_image`` ids; each ``<video>`` to
    ``frames x tokens_per_frame (+ tokens_per_video_extra)`` ids, counted per video, so videos with different
    frame counts can share a batch (their pixels then come back as a list).
    """

    def __init__(self, *, tokenizer: Tokenizer, image_processor: ImageProcessor | None = None,
                 chat_template: ChatTemplate | None = None, config: MultimodalConfig | None = None,
                 tokens_per_image: int, tokens_per_frame: int, tokens_per_video_extra: int = 0):
        if tokens_per_image < 1 or tokens_per_frame < 1:
            raise ConfigError([ConfigIssue("vision_encoder", (
                f"tokens per image ({tokens_per_image}) and per frame ({tokens_per_frame}) must be >= 1"))])
        self.tokenizer = tokenizer
        self.image_processor = image_processor
        self.chat_template = chat_template
        self.config = config or MultimodalConfig()
        self.tokens_per_image = int(tokens_per_image)
        self.tokens_per_frame = int(tokens_per_frame)
        self.tokens_per_video_extra = int(tokens_per_video_extra)
        self.image_token_id = _resolve_id(self.config.image_token_id, tokenizer.token_to_id(IMAGE_TOKEN),
                                          "image_token_id", f"{IMAGE_TOKEN} token")
        self.video_token_id = _resolve_id(self.config.video_token_id, tokenizer.token_to_id(VIDEO_TOKEN),
                                          "video_token_id", f"{VIDEO_TOKEN} token")
        self.pad_token_id = _resolve_id(self.config.pad_token_id, tokenizer.pad_token_id,
                                        "pad_token_id", "pad token")

    # ------------------------------------------------------------------ prompts
    def apply_chat_template(self, messages: Sequence[dict[str, Any]], *, add_generation_prompt: bool = False) -> str:
        """One conversation -> prompt string (the tokenizer's special tokens are template variables)."""
        return self._template("apply_chat_template").render(
            messages, add_generation_prompt=add_generation_prompt, **self.tokenizer.special_tokens_map)

    def _template(self, what: str) -> ChatTemplate:
        if self.chat_template is None:
            raise ProcessorError(f"{what} needs a chat template; add a 'chat_template' section to the pipeline "
                                 "(e.g. name: jinja, path: <processor dir>) or pass chat_template=")
        return self.chat_template

    def _encode(self, texts: list[str], add_special_tokens: bool) -> list[list[int]]:
        return [list(ids) for ids in self.tokenizer.encode_batch(texts, add_special_tokens=add_special_tokens)]

    # ------------------------------------------------------------------ inference batches
    def __call__(self, text: str | Sequence[str], images: Any = None, videos: Any = None, *, padding: bool = True,
                 padding_side: str = "left", return_tensors: str | None = "pt",
                 add_special_tokens: bool = True) -> ProcessorOutput:
        """Prompts (with ``<image>``/``<video>`` placeholders) and media -> model inputs.

        ``images``: one image or a flat list in prompt order across the batch (PIL,
        numpy/torch (H,W,C) uint8), or one list per sample. ``videos``: decoded frame
        stacks (T,H,W,3) uint8, flat in prompt order or one list per sample.
        Left padding (generation) by default; ``padding_side="right"`` for training.
        """
        texts = [text] if isinstance(text, str) else list(text)
        if not texts or not all(isinstance(t, str) for t in texts):
            raise ProcessorError("text must be a string or a non-empty list of strings")
        ids = self._encode(texts, add_special_tokens)
        return self._assemble(ids, None, images, videos, padding, padding_side, return_tensors)

    # ------------------------------------------------------------------ training batches
    def training_batch(self, conversations: Sequence[Sequence[dict[str, Any]]], images: Any = None,
                       videos: Any = None, *, padding: bool = True, padding_side: str = "right",
                       return_tensors: str | None = "pt", add_special_tokens: bool = True) -> ProcessorOutput:
        """Chat conversations (with assistant turns) -> inputs plus ``labels``.

        Only assistant text (as the chat template marks it) is learned; prompt, media
        and padding positions are -100. Media arguments as for ``__call__``.
        """
        template = self._template("training_batch")
        variables = self.tokenizer.special_tokens_map
        media_ids = frozenset({self.image_token_id, self.video_token_id})
        all_ids, all_labels = [], []
        for sample, messages in enumerate(conversations):
            text, spans = template.render_with_spans(messages, add_generation_prompt=False, **variables)
            ids, offsets = self.tokenizer.encode_with_offsets(text, add_special_tokens=add_special_tokens)
            labels = labels_for(ids, offsets, spans, media_ids)
            if all(label == IGNORE_INDEX for label in labels):
                raise ProcessorError(f"sample {sample}: no assistant text to learn; every conversation needs at "
                                     "least one non-empty assistant turn")
            all_ids.append(list(ids))
            all_labels.append(labels)
        if not all_ids:
            raise ProcessorError("training_batch needs at least one conversation")
        return self._assemble(all_ids, all_labels, images, videos, padding, padding_side, return_tensors)

    # ------------------------------------------------------------------ media
    def _assign(self, media: Any, ids: list[list[int]], token_id: int, kind: str, token: str,
                is_single: Any) -> tuple[list[Any], list[range]]:
        """Flat media list and, per sample, the indices of its media (checked against placeholders)."""
        found = [placeholders.count(row, token_id) for row in ids]
        if media is None:
            for sample, n in enumerate(found):
                placeholders.check_sample(sample, n, 0, kind, token)
            return [], [range(0)] * len(ids)
        if _is_nested(media, len(ids)) and not is_single(media):
            flat, ranges = [], []
            for sample, (group, n) in enumerate(zip(media, found)):
                placeholders.check_sample(sample, n, len(group), kind, token)
                ranges.append(range(len(flat), len(flat) + len(group)))
                flat.extend(group)
            return flat, ranges
        flat = [media] if is_single(media) else list(media)
        return flat, placeholders.assign_media(found, len(flat), kind, token)

    def _pixels(self, images: list[Any]) -> Any:
        if not images:
            return None
        if self.image_processor is None:
            raise ProcessorError("images were given but the processor has no image processor")
        pixels = self.image_processor(images)
        if pixels.shape[0] != len(images):
            raise ProcessorError(f"{len(images)} image(s) gave {pixels.shape[0]} pixel rows; pass images as a list "
                                 "of (H,W,C) images (frame stacks (T,H,W,3) go in 'videos')")
        return pixels

    def _video_pixels(self, videos: list[Any]) -> list[Any]:
        if videos and self.image_processor is None:
            raise ProcessorError("videos were given but the processor has no image processor")
        out = []
        for index, video in enumerate(videos):
            if getattr(video, "ndim", None) != 4:
                raise ProcessorError(f"video {index}: expected decoded frames (T,H,W,3), got "
                                     f"{getattr(video, 'shape', type(video).__name__)}")
            try:
                out.append(self.image_processor(video))
            except MmplugError as exc:
                raise ProcessorError(f"video {index}: {exc}") from exc
        return out

    def _assemble(self, ids: list[list[int]], labels: list[list[int]] | None, images: Any, videos: Any,
                  padding: bool, padding_side: str, return_tensors: str | None) -> ProcessorOutput:
        def single_image(m: Any) -> bool:
            return not isinstance(m, (list, tuple))

        def single_video(m: Any) -> bool:
            return getattr(m, "ndim", None) == 4

        flat_images, image_ranges = self._assign(images, ids, self.image_token_id, "image", IMAGE_TOKEN,
                                                 single_image)
        flat_videos, video_ranges = self._assign(videos, ids, self.video_token_id, "video", VIDEO_TOKEN,
                                                 single_video)
        image_pixels = self._pixels(flat_images)
        video_pixels = self._video_pixels(flat_videos)
        rows, label_rows = [], []
        for sample, row in enumerate(ids):
            lengths = {
                self.image_token_id: [self.tokens_per_image] * len(image_ranges[sample]),
                self.video_token_id: [video_pixels[v].shape[0] * self.tokens_per_frame + self.tokens_per_video_extra
                                      for v in video_ranges[sample]],
            }
            rows.append(placeholders.expand(row, lengths))
            if labels is not None:
                label_rows.append(placeholders.expand_labels(row, labels[sample], lengths, IGNORE_INDEX))
        data = batch_sequences(rows, label_rows if labels is not None else None, pad_id=self.pad_token_id,
                               padding=padding, padding_side=padding_side, return_tensors=return_tensors)
        output = ProcessorOutput(data)
        if image_pixels is not None:
            output["pixel_values_images"] = image_pixels
        if video_pixels:
            output["pixel_values_videos"] = _stack_videos(video_pixels)
        return output

    # ------------------------------------------------------------------ decoding
    def decode(self, ids: Any, *, skip_special_tokens: bool = False) -> str:
        """Text of one id sequence (list or 1-D tensor)."""
        ids = ids.tolist() if hasattr(ids, "tolist") else ids
        return self.tokenizer.decode(ids, skip_special_tokens=skip_special_tokens)

    def batch_decode(self, rows: Any, *, skip_special_tokens: bool = False) -> list[str]:
        """Texts of a (B,S) tensor or a list of id lists."""
        rows = rows.tolist() if hasattr(rows, "tolist") else rows
        return [self.decode(row, skip_special_tokens=skip_special_tokens) for row in rows]

    def stream_decoder(self, *, skip_special_tokens: bool = True) -> StreamingDetokenizer:
        """A token-by-token detokenizer that never emits a broken UTF-8 character."""
        return StreamingDetokenizer(self.tokenizer, skip_special_tokens=skip_special_tokens)


def _stack_videos(videos: list[Any]) -> Any:
    """(V,T,3,H,W) when every video has the same shape, else the list of (T_i,3,H,W)."""
    import torch

    if len({tuple(v.shape) for v in videos}) == 1:
        return torch.stack(videos)
    return list(videos)
