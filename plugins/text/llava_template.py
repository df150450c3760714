"""The ``llava_v1`` chat template: the conversation format of the original Video-LLaVA code.

Layout (separator style "two")::

    {system}{sep}USER: {user text}{sep}ASSISTANT: {assistant text}{sep2}USER: ...

and ``ASSISTANT:`` at the end with ``add_generation_prompt``. Media entries of a
message become ``<image>\\n`` / ``<video>\\n`` placeholders before its text (images
first), as the original code puts the image token in front of the first question.
The assistant text plus ``sep2`` (``</s>``) is what training learns.
"""
from __future__ import annotations

from typing import Any, Sequence

from mmplug.core.errors import ProcessorError
from mmplug.core.interfaces.text import ChatTemplate
from mmplug.plugins.text.options import LlavaV1Options

MEDIA_PLACEHOLDERS = {"image": "<image>", "video": "<video>"}


def message_text(message: Any, index: int) -> tuple[str, str]:
    """(role, text with media placeholders first) of one message; ProcessorError if malformed."""
    if not isinstance(message, dict) or "role" not in message or "content" not in message:
        raise ProcessorError(f"message {index} must be a mapping with 'role' and 'content', got {message!r}")
    role, content = message["role"], message["content"]
    if isinstance(content, str):
        return role, content
    if not isinstance(content, (list, tuple)):
        raise ProcessorError(f"message {index}: 'content' must be a string or a list of parts, "
                             f"got {type(content).__name__}")
    media = {"image": [], "video": []}
    texts = []
    for part_index, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in media:
            media[kind].append(MEDIA_PLACEHOLDERS[kind] + "\n")
        elif kind == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        else:
            raise ProcessorError(f"message {index}, part {part_index}: expected {{'type': 'image'|'video'}} or "
                                 f"{{'type': 'text', 'text': str}}, got {part!r}")
    return role, "".join(media["image"] + media["video"]) + " ".join(texts)


class LlavaV1Template(ChatTemplate):
    """USER/ASSISTANT turns after a system prompt, separated by ``sep`` and ``sep2``."""

    def __init__(self, options: LlavaV1Options | None = None):
        self.options = options or LlavaV1Options()

    def render(self, messages: Sequence[dict[str, Any]], *, add_generation_prompt: bool = False,
               **variables: Any) -> str:
        """The prompt string (``variables`` are accepted for interface symmetry and unused)."""
        return self.render_with_spans(messages, add_generation_prompt=add_generation_prompt)[0]

    def render_with_spans(self, messages: Sequence[dict[str, Any]], *, add_generation_prompt: bool = False,
                          **variables: Any) -> tuple[str, list[tuple[int, int]]]:
        """The prompt and the (start, end) spans of each assistant text plus its ``sep2``."""
        o = self.options
        turns = [message_text(m, i) for i, m in enumerate(messages)]
        system = o.system
        if turns and turns[0][0] == "system":
            system = turns.pop(0)[1]
        labels = {"user": o.user_role, "assistant": o.assistant_role}
        separators = {"user": o.separator, "assistant": o.assistant_separator}
        out, spans = system + o.separator, []
        for position, (role, text) in enumerate(turns):
            expected = "user" if position % 2 == 0 else "assistant"
            if role != expected:
                offset = len(messages) - len(turns)
                raise ProcessorError(f"message {position + offset}: role {role!r} where {expected!r} was expected; "
                                     "llava_v1 needs an optional system message, then user and assistant turns "
                                     "alternating, starting with user")
            out += f"{labels[role]}: "
            start = len(out)
            out += text + separators[role]
            if role == "assistant":
                spans.append((start, len(out)))
        if add_generation_prompt:
            if turns and turns[-1][0] == "assistant":
                raise ProcessorError("add_generation_prompt=True after an assistant turn; the next turn must be "
                                     "the user's")
            out += f"{o.assistant_role}:"
        return out, spans


def build_llava_v1(options: LlavaV1Options, context: Any = None) -> LlavaV1Template:
    """Factory of the ``llava_v1`` chat template part."""
    return LlavaV1Template(options)
