"""Built-in text plugin: the ``hf_tokenizers`` tokenizer and the ``jinja`` / ``llava_v1`` chat templates.

Registered through the mmplug entry point group; heavy modules load lazily.
"""
from mmplug.registry import hookimpl

_HERE = "mmplug.plugins.text"


@hookimpl
def mmplug_register_parts(register):
    register("tokenizer", "hf_tokenizers", f"{_HERE}.tokenizer:build_hf_tokenizer",
             options=f"{_HERE}.options:HfTokenizerOptions",
             summary="Hugging Face tokenizer.json (+ config files) run by the tokenizers library")
    register("chat_template", "jinja", f"{_HERE}.jinja_template:build_jinja_template",
             options=f"{_HERE}.options:JinjaTemplateOptions",
             summary="Hugging Face Jinja chat template (chat_template.json/.jinja), sandboxed")
    register("chat_template", "llava_v1", f"{_HERE}.llava_template:build_llava_v1",
             options=f"{_HERE}.options:LlavaV1Options",
             summary="Original Video-LLaVA conversation format: system, USER: ... ASSISTANT: ...</s>")
