"""Multi-turn chat: the conversation (and its media) is kept and re-rendered every turn.
A turn that fails (or a stream closed before its end) leaves the conversation as it was."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from mmplug.core.generation.config import GenerationConfig
from mmplug.core.generation.media import load_image
from mmplug.core.generation.requests import as_list, decode_video, user_message
from mmplug.core.generation.runner import GenerationOutput, generate, stream


class Chat:
    """``send`` a question (with media for this turn) and get the answer; earlier turns and
    their media stay in the prompt. ``options`` are defaults for every turn's generation."""

    def __init__(self, pipeline: Any, **options: Any):
        self.pipeline = pipeline
        GenerationConfig(**options)  # bad defaults fail now, not at the first turn
        self.options = options
        self.messages: list[dict[str, Any]] = []
        self.images: list[Any] = []
        self.videos: list[Any] = []

    def _add_turn(self, text: str, images: Any, videos: Any) -> str:
        new_images = [load_image(i) for i in as_list(images)]
        new_videos = [decode_video(self.pipeline, v) for v in as_list(videos)]
        self.messages.append(user_message(text, len(new_images), len(new_videos)))
        self.images += new_images
        self.videos += new_videos
        return self.pipeline.processor.apply_chat_template(self.messages, add_generation_prompt=True)

    def _answer(self, text: str) -> None:
        self.messages.append({"role": "assistant", "content": [{"type": "text", "text": text}]})

    def send(self, text: str, *, images: Any = None, videos: Any = None, **options: Any) -> GenerationOutput:
        """Answer ``text``; the question and the answer join the conversation."""
        with self._whole_turn():
            prompt = self._add_turn(text, images, videos)
            config = GenerationConfig(**{**self.options, **options})
            [output] = generate(self.pipeline, [prompt], self.images, self.videos, config, template=False)
            self._answer(output.text)
        return output

    def stream(self, text: str, *, images: Any = None, videos: Any = None, **options: Any) -> Iterator[str]:
        """Like :meth:`send`, yielding the answer piece by piece."""
        with self._whole_turn():
            prompt = self._add_turn(text, images, videos)
            config = GenerationConfig(**{**self.options, **options})
            pieces = []
            for piece in stream(self.pipeline, prompt, self.images, self.videos, config, template=False):
                pieces.append(piece)
                yield piece
            self._answer("".join(pieces))

    @contextmanager
    def _whole_turn(self) -> Iterator[None]:
        """A turn joins the conversation whole, or not at all (an error, or a stream closed early)."""
        marks = len(self.messages), len(self.images), len(self.videos)
        try:
            yield
        except BaseException:
            del self.messages[marks[0]:], self.images[marks[1]:], self.videos[marks[2]:]
            raise

    def reset(self) -> None:
        """Forget the conversation."""
        self.messages, self.images, self.videos = [], [], []
