"""The ``jinja`` chat template: Hugging Face style templates rendered in a sandbox.

Renders with ``jinja2.sandbox.ImmutableSandboxedEnvironment`` and the same
environment features HF templates rely on: ``trim_blocks``/``lstrip_blocks``,
loop controls, ``{% generation %}`` blocks (they mark assistant text; used for
training labels), ``raise_exception(msg)``, ``strftime_now(fmt)`` and a
``tojson`` filter that keeps non-ASCII characters. A template is code from a
stranger: every render is bounded in time and size (:mod:`.template_limits`).
"""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any, Sequence

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension

from mmplug.core.errors import ConfigError, ConfigIssue, ProcessorError
from mmplug.core.interfaces.text import ChatTemplate
from mmplug.plugins.text.files import read_json
from mmplug.plugins.text.options import JinjaTemplateOptions
from mmplug.plugins.text.template_limits import (LimitedEnvironment, LimitExceeded, TemplateLimits, bounded_join,
                                                 insert_checks, rendering)

#: Private-use characters that bracket ``{% generation %}`` output while spans are recorded.
_OPEN, _CLOSE = "\ue000", "\ue001"
_MARK_VARIABLE = "_mmplug_mark_generation"


class _GenerationBlock(Extension):
    """``{% generation %}...{% endgeneration %}``: plain output, bracketed when spans are wanted."""

    tags = {"generation"}

    def parse(self, parser: Any) -> nodes.Node:
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        call = self.call_method("_bracket", [nodes.ContextReference()])
        return nodes.CallBlock(call, [], [], body).set_lineno(lineno)

    def _bracket(self, context: Any, caller: Any) -> str:
        text = caller()
        return f"{_OPEN}{text}{_CLOSE}" if context.get(_MARK_VARIABLE) else text


def _raise_exception(message: str) -> None:
    raise jinja2.exceptions.TemplateError(message)


def _tojson(value: Any, ensure_ascii: bool = False, indent: int | None = None, separators: Any = None,
            sort_keys: bool = False) -> str:
    encoder = json.JSONEncoder(ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)
    return bounded_join(encoder.iterencode(value), "tojson output")


def _strftime_now(fmt: str) -> str:
    return datetime.now().strftime(fmt)


def make_environment() -> LimitedEnvironment:
    """The sandboxed environment every template is compiled in."""
    env = LimitedEnvironment(trim_blocks=True, lstrip_blocks=True,
                             extensions=[_GenerationBlock, "jinja2.ext.loopcontrols"])
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = _strftime_now
    return env


def split_spans(marked: str) -> tuple[str, list[tuple[int, int]]]:
    """Remove the generation brackets; return the text and the bracketed (start, end) spans."""
    pieces, spans, position, start = [], [], 0, None
    for char in marked:
        if char == _OPEN:
            start = position
        elif char == _CLOSE and start is not None:
            spans.append((start, position))
            start = None
        else:
            pieces.append(char)
            position += 1
    return "".join(pieces), spans


def as_parts(message: dict[str, Any]) -> dict[str, Any]:
    """``content: "text"`` -> ``content: [{"type": "text", "text": "text"}]``; other messages unchanged."""
    content = message.get("content") if isinstance(message, dict) else None
    return {**message, "content": [{"type": "text", "text": content}]} if isinstance(content, str) else message


class JinjaChatTemplate(ChatTemplate):
    """Chat messages -> prompt string through a sandboxed Jinja template.

    ``string_content="text_part"`` turns plain-string message content into one text part
    (templates of multimodal processors iterate over parts); ``"keep"`` passes it unchanged.
    ``limits`` bound each render's time and size; ``origin`` (the file) names the template in errors.
    """

    def __init__(self, source: str, *, origin: str = "<template>", string_content: str = "text_part",
                 limits: TemplateLimits = TemplateLimits()):
        self.source = source
        self.origin = origin
        self.limits = limits
        env = make_environment()
        try:
            tree = env.parse(source)
            self.has_generation_blocks = any(n.name == "_bracket" for n in tree.find_all(nodes.ExtensionAttribute))
            self._template = env.from_string(insert_checks(tree, env))
        except jinja2.TemplateSyntaxError as exc:
            raise ConfigError([ConfigIssue("chat_template", (
                f"{origin}: template syntax error on line {exc.lineno}: {exc.message}"))]) from None
        except (RecursionError, MemoryError, SyntaxError) as exc:  # SyntaxError: Python's limits on the code
            raise ConfigError([ConfigIssue("chat_template", (
                f"{origin}: template cannot be compiled: nested too deeply or too large ({type(exc).__name__})"))
            ]) from None
        self.string_content = string_content

    def _render(self, messages: Sequence[dict[str, Any]], add_generation_prompt: bool,
                variables: dict[str, Any]) -> str:
        if self.string_content == "text_part":
            messages = [as_parts(m) for m in messages]
        try:
            with rendering(self.limits):
                return bounded_join(self._template.generate(messages=list(messages),
                                                            add_generation_prompt=add_generation_prompt, **variables),
                                    "the prompt")
        except LimitExceeded as exc:
            raise ProcessorError(f"chat template {self.origin} stopped: {exc}. A template from a checkpoint is code; "
                                 "if you trust this one, raise chat_template.max_render_seconds / "
                                 "max_output_chars (see docs/troubleshooting.md)") from None
        except jinja2.TemplateError as exc:
            raise ProcessorError(f"chat template {self.origin} rejected the messages: {exc}") from None
        except Exception as exc:  # noqa: BLE001 - template code can raise anything (1/0, huge int to str...)
            raise ProcessorError(f"chat template {self.origin} failed: {type(exc).__name__}: {exc}") from None

    def render(self, messages: Sequence[dict[str, Any]], *, add_generation_prompt: bool = False,
               **variables: Any) -> str:
        """The prompt; ``variables`` (e.g. ``bos_token``) are visible to the template."""
        return self._render(messages, add_generation_prompt, variables)

    def render_with_spans(self, messages: Sequence[dict[str, Any]], *, add_generation_prompt: bool = False,
                          **variables: Any) -> tuple[str, list[tuple[int, int]]]:
        """The prompt and the (start, end) character spans of assistant text to learn.

        The spans are the output of the template's ``{% generation %}`` blocks.
        """
        if not self.has_generation_blocks:
            raise ProcessorError(f"chat template {self.origin} has no {{% generation %}} blocks, so the assistant "
                                 "text cannot be located for labels; wrap assistant content in "
                                 "{% generation %}...{% endgeneration %} or use a template plugin that marks it")
        for index, message in enumerate(messages):
            if _OPEN in str(message) or _CLOSE in str(message):
                raise ProcessorError(f"message {index} contains the private-use characters U+E000/U+E001 that "
                                     "mark assistant spans; remove them")
        marked = self._render(messages, add_generation_prompt, {**variables, _MARK_VARIABLE: True})
        return split_spans(marked)


def _template_file(path: Path) -> Path:
    if path.is_dir():
        for name in ("chat_template.jinja", "chat_template.json"):
            if (path / name).is_file():
                return path / name
        raise ConfigError([ConfigIssue("chat_template.path", (
            f"{path} holds neither chat_template.jinja nor chat_template.json; point 'path' at the file, "
            "or give the template text as 'template'"))])
    if not path.is_file():
        raise ConfigError([ConfigIssue("chat_template.path", f"{path} does not exist")])
    return path


def load_template_source(path: Path) -> tuple[str, str]:
    """(template text, file it came from) for a .jinja/.json file or a directory holding one."""
    file = _template_file(Path(path).expanduser())
    if file.suffix == ".json":
        data = read_json(file, key="chat_template.path")
        source = data.get("chat_template")
        if not isinstance(source, str):
            raise ConfigError([ConfigIssue("chat_template.path", (
                f"{file} has no string 'chat_template' entry (keys: {', '.join(sorted(data)) or 'none'})"))])
        return source, str(file)
    try:
        return file.read_text(encoding="utf-8"), str(file)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([ConfigIssue("chat_template.path", f"cannot read {file}: {exc}")]) from None


def build_jinja_template(options: JinjaTemplateOptions, context: Any = None) -> JinjaChatTemplate:
    """Factory of the ``jinja`` chat template part."""
    limits = TemplateLimits(options.max_render_seconds, options.max_output_chars)
    if options.template is not None:
        return JinjaChatTemplate(options.template, origin="<chat_template.template>",
                                 string_content=options.string_content, limits=limits)
    source, origin = load_template_source(options.path)
    return JinjaChatTemplate(source, origin=origin, string_content=options.string_content, limits=limits)
