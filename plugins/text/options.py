"""Options of the built-in text parts (tokenizer and chat templates).

Pure pydantic: importing this module never imports ``tokenizers``, ``jinja2`` or torch.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from mmplug.core.options import PluginOptions

#: The system prompt of the original Video-LLaVA ``conv_llava_v1`` conversation.
LLAVA_V1_SYSTEM = (
    "A chat between a curious human and an artificial intelligence assistant. "
    "The assistant gives helpful, detailed, and polite answers to the human's questions."
)


class HfTokenizerOptions(PluginOptions):
    """A tokenizer from Hugging Face ``tokenizer.json`` files, run by the ``tokenizers`` library.

    Values left unset come from ``tokenizer_config.json`` / ``special_tokens_map.json``
    next to ``tokenizer.json`` (when ``path`` is a directory).
    """

    path: Path = Field(description="Directory holding tokenizer.json (+ tokenizer_config.json, "
                                   "special_tokens_map.json), or a tokenizer.json file.")
    add_bos_token: bool | None = Field(default=None, description="Prepend BOS when encoding with special tokens.")
    add_eos_token: bool | None = Field(default=None, description="Append EOS when encoding with special tokens.")
    clean_up_tokenization_spaces: bool | None = Field(
        default=None, description="Remove spaces before punctuation when decoding (as transformers does).")
    bos_token: str | None = None
    eos_token: str | None = None
    unk_token: str | None = None
    pad_token: str | None = None


#: Defaults of the limits on one chat template render (docs/troubleshooting.md lists them).
DEFAULT_MAX_RENDER_SECONDS = 5.0
DEFAULT_MAX_OUTPUT_CHARS = 4_000_000


class JinjaTemplateOptions(PluginOptions):
    """A Hugging Face style Jinja chat template; give exactly one of ``path`` or ``template``."""

    path: Path | None = Field(default=None, description="chat_template.json / chat_template.jinja, or a "
                                                        "directory holding one of them.")
    template: str | None = Field(default=None, description="The template source itself.")
    string_content: Literal["text_part", "keep"] = Field(
        default="text_part", description="'text_part': plain-string message content becomes one "
                                         "{'type': 'text'} part; 'keep': the template gets the string.")
    max_render_seconds: float = Field(
        default=DEFAULT_MAX_RENDER_SECONDS, gt=0, description="Longest time one render may run (a template "
                                                              "from a checkpoint is code from its author).")
    max_output_chars: int = Field(
        default=DEFAULT_MAX_OUTPUT_CHARS, ge=1, description="Most characters one render may build: the prompt, "
                                                            "and every string or list made on the way.")

    @model_validator(mode="after")
    def _exactly_one_source(self) -> "JinjaTemplateOptions":
        if (self.path is None) == (self.template is None):
            raise ValueError("give exactly one of 'path' (a chat_template.json/.jinja file or its directory) "
                             "or 'template' (the template text)")
        return self


class LlavaV1Options(PluginOptions):
    """The original Video-LLaVA ``llava_v1`` conversation format."""

    system: str = Field(default=LLAVA_V1_SYSTEM, description="System prompt (a 'system' message overrides it).")
    user_role: str = "USER"
    assistant_role: str = "ASSISTANT"
    separator: str = Field(default=" ", description="Written after each user turn (and the system prompt).")
    assistant_separator: str = Field(default="</s>", description="Written after each assistant turn.")
