"""Chat templates: jinja (parity with transformers, sandbox, spans) and llava_v1 (golden strings)."""
from __future__ import annotations

import pytest

from mmplug.core.errors import ConfigError, ProcessorError
from mmplug.plugins.text.jinja_template import JinjaChatTemplate
from mmplug.plugins.text.llava_template import LlavaV1Template
from mmplug.plugins.text.options import LLAVA_V1_SYSTEM, LlavaV1Options

from .conftest import PROCESSOR_DIR


def user(*parts):
    return {"role": "user", "content": list(parts)}


def assistant(text):
    return {"role": "assistant", "content": [{"type": "text", "text": text}]}


def text(value):
    return {"type": "text", "text": value}


CONVERSATIONS = [
    [user({"type": "video"}, text("Why is this video funny?"))],
    [user({"type": "image"}, text("What is shown?"))],
    [user({"type": "image"}, {"type": "video"}, text("Compare them."))],
    [user(text("Hi")), assistant("Hello! 😀"), user({"type": "video"}, text("And this?"))],
    [{"role": "system", "content": [text("Be brief.")]}, user({"type": "image"}, {"type": "image"}, text("Two"))],
    [user(text("unicode: 中文 \n\n  spaces"))],
]


@pytest.mark.parametrize("index", range(len(CONVERSATIONS)))
@pytest.mark.parametrize("add_generation_prompt", [True, False])
def test_jinja_matches_transformers_processor(template, ref_processor, tokenizer, index, add_generation_prompt):
    messages = CONVERSATIONS[index]
    expected = ref_processor.apply_chat_template(messages, add_generation_prompt=add_generation_prompt)
    assert template.render(messages, add_generation_prompt=add_generation_prompt,
                           **tokenizer.special_tokens_map) == expected


def test_generation_blocks_give_assistant_spans(template):
    messages = [user(text("Hi")), assistant("Hello there."), user(text("More?")), assistant("No.")]
    rendered, spans = template.render_with_spans(messages)
    assert rendered == template.render(messages)
    assert [rendered[a:b] for a, b in spans] == ["Hello there. ", "No. "]


def test_template_without_generation_blocks_cannot_give_spans():
    plain = JinjaChatTemplate("{% for m in messages %}{{ m['content'] }}{% endfor %}", string_content="keep")
    assert plain.render([{"role": "user", "content": "x"}]) == "x"
    with pytest.raises(ProcessorError, match="generation"):
        plain.render_with_spans([{"role": "user", "content": "x"}])


def test_string_content_becomes_a_text_part(template):
    as_string = [{"role": "user", "content": "What is it?"}]
    assert template.render(as_string) == template.render([user(text("What is it?"))]) == "USER: What is it? "


@pytest.mark.parametrize("source", [
    "{{ messages.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{% set x = messages.append(1) %}{{ x }}",
])
def test_sandbox_blocks_unsafe_templates(source):
    with pytest.raises(ProcessorError, match="rejected"):
        JinjaChatTemplate(source).render([user(text("x"))])


def test_template_helpers():
    source = ("{% for m in messages %}{% if m['role'] == 'bad' %}{{ raise_exception('roles must alternate') }}"
              "{% endif %}{{ m | tojson }}{% if loop.index == 1 %}{% break %}{% endif %}{% endfor %}"
              "{{ strftime_now('%Y') | length }}")
    tpl = JinjaChatTemplate(source, string_content="keep")
    out = tpl.render([{"role": "user", "content": "é"}, {"role": "user", "content": "dropped"}])
    assert out == '{"role": "user", "content": "é"}4'
    with pytest.raises(ProcessorError, match="roles must alternate"):
        tpl.render([{"role": "bad", "content": ""}])


def test_template_syntax_error_names_origin(tmp_path, registry):
    bad = tmp_path / "chat_template.jinja"
    bad.write_text("{% for m in messages %}")
    with pytest.raises(ConfigError, match="chat_template.jinja"):
        registry.build("chat_template", "jinja", {"path": str(tmp_path)})


def test_template_options(registry, tmp_path, fixtures):
    with pytest.raises(ConfigError, match="exactly one"):
        registry.build("chat_template", "jinja", {})
    with pytest.raises(ConfigError, match="exactly one"):
        registry.build("chat_template", "jinja", {"path": str(PROCESSOR_DIR), "template": "x"})
    with pytest.raises(ConfigError, match="neither chat_template.jinja nor chat_template.json"):
        registry.build("chat_template", "jinja", {"path": str(tmp_path)})
    (tmp_path / "chat_template.json").write_text('{"template": "x"}')
    with pytest.raises(ConfigError, match="no string 'chat_template'"):
        registry.build("chat_template", "jinja", {"path": str(tmp_path)})
    inline = registry.build("chat_template", "jinja", {"template": "{{ messages | length }}{{ bos_token }}"})
    assert inline.render([user(text("a"))], bos_token="<s>") == "1<s>"


# ---------------------------------------------------------------------- llava_v1
# Golden strings written from the original definition (Video-LLaVA videollava/conversation.py,
# conv_llava_v1: separator style TWO, sep " ", sep2 "</s>", roles USER/ASSISTANT).
SYSTEM = ("A chat between a curious human and an artificial intelligence assistant. "
          "The assistant gives helpful, detailed, and polite answers to the human's questions.")


def test_llava_v1_single_turn_golden(registry):
    llava = registry.build("chat_template", "llava_v1", {})
    messages = [user({"type": "video"}, text("Why is this video funny?"))]
    assert LLAVA_V1_SYSTEM == SYSTEM
    assert llava.render(messages, add_generation_prompt=True) == (
        SYSTEM + " USER: <video>\nWhy is this video funny? ASSISTANT:")


def test_llava_v1_multi_turn_golden_and_spans():
    llava = LlavaV1Template()
    messages = [user({"type": "image"}, text("What is this?")), assistant("A cat."),
                user(text("Color?")), assistant("Black.")]
    rendered, spans = llava.render_with_spans(messages)
    assert rendered == SYSTEM + " USER: <image>\nWhat is this? ASSISTANT: A cat.</s>USER: Color? ASSISTANT: Black.</s>"
    assert [rendered[a:b] for a, b in spans] == ["A cat.</s>", "Black.</s>"]
    assert llava.render(messages[:3], add_generation_prompt=True).endswith("USER: Color? ASSISTANT:")


def test_llava_v1_system_message_and_options():
    custom = LlavaV1Template(LlavaV1Options(system="SYS", assistant_separator="<END>"))
    messages = [{"role": "system", "content": "Be short."}, user(text("Hi")), assistant("Yo")]
    assert custom.render(messages) == "Be short. USER: Hi ASSISTANT: Yo<END>"
    assert custom.render(messages[1:2], add_generation_prompt=True) == "SYS USER: Hi ASSISTANT:"


@pytest.mark.parametrize("messages, needle", [
    ([assistant("first")], "message 0: role 'assistant' where 'user'"),
    ([user(text("a")), user(text("b"))], "message 1: role 'user' where 'assistant'"),
    ([user({"type": "audio"})], "message 0, part 0"),
    ([{"role": "user"}], "message 0 must be a mapping"),
])
def test_llava_v1_rejects_malformed_conversations(messages, needle):
    with pytest.raises(ProcessorError) as info:
        LlavaV1Template().render(messages)
    assert needle in str(info.value)
