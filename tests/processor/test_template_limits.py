"""A chat template is code from a stranger: every render is bounded in time and in size, and a
template past a limit is stopped with an error naming its file, before it allocates the huge value.

No wall-clock assertion: time limits are set small and the tests check that the render stops;
sizes are checked with tracemalloc (a refused value is never allocated)."""
from __future__ import annotations

import json
import tracemalloc

import pytest
from jinja2.sandbox import ImmutableSandboxedEnvironment

from mmplug.core.errors import ConfigError, ProcessorError
from mmplug.plugins.text.jinja_template import JinjaChatTemplate, load_template_source
from mmplug.plugins.text.template_limits import TemplateLimits

LIMITS = TemplateLimits(max_render_seconds=0.2, max_output_chars=1_000_000)
#: For the size checks: a time limit no loaded machine reaches first (they must refuse on size).
SIZE_ONLY = TemplateLimits(max_render_seconds=60, max_output_chars=1_000_000)
#: Allocation a refused render may make (the limit is 1 M characters; the hostile values are >= 100 M).
PEAK_BYTES = 32 * 1024 * 1024
MESSAGES = [{"role": "user", "content": "hi"}]

#: Templates that would run (almost) forever.
ENDLESS = {
    "nested range loops": "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
    "nested loops over a list": "{% set l = range(100000)|list %}{% for a in l %}{% for b in l %}{% endfor %}"
                                "{% endfor %}",
    "loops in a macro": "{% macro m() %}{% for i in range(100000) %}{% endfor %}{% endmacro %}"
                        "{% for i in range(100000) %}{{ m() }}{% endfor %}",
}

#: Templates that would build gigabytes; each names what it was refused for.
HUGE = {
    "string multiplication": ("{{ 'a' * 4000000000 }}", "repeated string"),
    "list multiplication": ("{{ [1] * 4000000000 }}", "repeated string or list"),
    "power": ("{{ 9 ** (9 ** 9) }}", "power"),
    "squaring in a loop": ("{% set ns = namespace(x=3) %}{% for i in range(40) %}{% set ns.x = ns.x * ns.x %}"
                           "{% endfor %}", "product"),
    "doubling with ~": ("{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}"
                        "{% endfor %}", "concatenation"),
    "doubling with +": ("{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}"
                        "{% endfor %}", "concatenation"),
    "captured block": ("{% set s %}{% for i in range(100000) %}" + "L" * 1000 + "{% endfor %}{% endset %}",
                       "captured"),
    "macro output": ("{% macro m() %}{% for i in range(100000) %}" + "L" * 1000 + "{% endfor %}{% endmacro %}"
                     "{{ m()|length }}", "captured"),
    "the prompt itself": ("{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}", "the prompt"),
    "center filter": ("{{ 'a'|center(4000000000) }}", "center"),
    "str.ljust": ("{{ 'a'.ljust(4000000000) }}", "ljust"),
    "indent filter": ("{{ ('\n' * 100000)|indent(100000) }}", "indent"),
    "join filter": ("{{ range(100000)|join('x' * 100000) }}", "join"),
    "str.join": ("{{ ('x' * 100000).join(['a'] * 100000) }}", "join"),
    "replace filter": ("{{ ('a' * 100000)|replace('a', 'b' * 100000) }}", "replace"),
    "str.replace": ("{{ ('a' * 100000).replace('a', 'b' * 100000) }}", "replace"),
    "str.translate": ("{{ ('a' * 100000).translate({97: 'b' * 100000}) }}", "translate"),
    "str.expandtabs": ("{{ ('\t' * 100000).expandtabs(100000) }}", "expandtabs"),
    "printf width": ("{{ '%0999999999d' % 1 }}", "width"),
    "printf repeats": ("{{ ('%(a)s' * 10000) % {'a': 'x' * 100000} }}", "formatted"),
    "format filter": ("{{ '%0999999999d'|format(1) }}", "width"),
    "str.format width": ("{{ '{:999999999}'.format(1) }}", "width"),
    "str.format nested width": ("{{ '{:{w}}'.format(1, w=999999999) }}", "width"),
    "wordwrap": ("{{ ('a ' * 100000)|wordwrap(1, wrapstring='x' * 100000) }}", "wordwrap"),
    "sum of lists": ("{{ ([range(1000)|list] * 100000)|sum(start=[]) }}", "sum"),
    "batch padding": ("{{ [1]|batch(4000000000, 'x')|list }}", "batch"),
    "tojson indent": ("{{ (range(1000)|list)|tojson(indent=100000) }}", "tojson"),
    "lipsum": ("{{ lipsum(n=100000) }}", "lipsum"),
    "int.to_bytes": ("{{ (1).to_bytes(4000000000, 'big') }}", "to_bytes"),
}


def write_template(tmp_path, source: str):
    path = tmp_path / "chat_template.jinja"
    path.write_text(source, encoding="utf-8")
    return load_template_source(tmp_path)


@pytest.mark.parametrize("case", list(ENDLESS))
def test_endless_templates_are_stopped_naming_the_file(tmp_path, case):
    source, origin = write_template(tmp_path, ENDLESS[case])
    template = JinjaChatTemplate(source, origin=origin, limits=LIMITS)
    with pytest.raises(ProcessorError, match="max_render_seconds=0.2") as error:
        template.render(MESSAGES)
    assert str(tmp_path / "chat_template.jinja") in str(error.value)


@pytest.mark.parametrize("case", list(HUGE))
def test_huge_values_are_refused_before_they_are_allocated(tmp_path, case):
    source, what = HUGE[case]
    source, origin = write_template(tmp_path, source)
    template = JinjaChatTemplate(source, origin=origin, limits=SIZE_ONLY)
    tracemalloc.start()
    try:
        with pytest.raises(ProcessorError, match="max_output_chars=1000000") as error:
            template.render(MESSAGES)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(tmp_path / "chat_template.jinja") in str(error.value) and what in str(error.value)
    assert peak < PEAK_BYTES, f"{case}: {peak} bytes allocated before the refusal"


def test_the_same_operations_at_a_normal_size_render_as_before():
    source = ("{{ 'ab' * 3 }}|{{ [1, 2] * 2 }}|{{ 2 ** 10 }}|{{ 'a' ~ 1 ~ 'b' }}|{{ 'x' + 'y' }}|{{ '%03d' % 7 }}|"
              "{{ '{:>4}'.format('z') }}|{{ 'q'|center(5) }}|{{ ['a', 'b']|join(', ') }}|{{ 'aa'|replace('a', 'bc') }}|"
              "{{ {'k': [1]}|tojson(indent=2) }}|{{ [[1], [2]]|sum(start=[]) }}|{% set s %}{% for i in range(3) %}"
              "{{ i }}{% endfor %}{% endset %}{{ s }}|{% for m in messages %}{{ loop.index }}/{{ loop.length }}"
              "{{ m['content'] }}{% endfor %}")
    messages = [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]
    out = JinjaChatTemplate(source, string_content="keep", limits=LIMITS).render(messages)
    plain = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    plain.filters["tojson"] = lambda value, indent=None: json.dumps(value, indent=indent)
    assert out == plain.from_string(source).render(messages=messages, add_generation_prompt=False)
    assert out == ("ababab|[1, 2, 1, 2]|1024|a1b|xy|007|   z|  q  |a, b|bcbc|"
                   '{\n  "k": [\n    1\n  ]\n}|[1, 2]|012|1/2a2/2b')


def test_a_long_but_legitimate_prompt_fits_the_default_limits():
    template = JinjaChatTemplate("{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}",
                                 string_content="keep")
    messages = [{"role": "user", "content": "word " * 20000}] * 20  # 2 M characters
    assert len(template.render(messages)) == 20 * (len("user: ") + 100000 + 1)


def test_limits_are_options_of_the_jinja_template(registry, tmp_path):
    source = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    template = registry.build("chat_template", "jinja", {"template": source, "max_render_seconds": 0.05})
    with pytest.raises(ProcessorError, match=r"<chat_template.template> stopped.*max_render_seconds=0.05"):
        template.render(MESSAGES)
    small = registry.build("chat_template", "jinja", {"template": "{{ 'x' * 11 }}", "max_output_chars": 10})
    with pytest.raises(ProcessorError, match="max_output_chars=10"):
        small.render(MESSAGES)


@pytest.mark.parametrize("source, cause", [("{{ 1 / 0 }}", "ZeroDivisionError"), ("{{ 10 ** 10000 }}", "ValueError"),
                                           ("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "RecursionError")])
def test_other_failures_of_template_code_name_the_template(source, cause):
    with pytest.raises(ProcessorError, match=f"chat template <template> failed: {cause}"):
        JinjaChatTemplate(source).render(MESSAGES)


@pytest.mark.parametrize("source", ["{{ " + "(" * 2000 + "1" + ")" * 2000 + " }}", "{% if 1 %}" * 200 + "{% endif %}" * 200])
def test_templates_too_deep_to_compile_name_the_template(source):
    with pytest.raises(ConfigError, match="<template>: template cannot be compiled: nested too deeply"):
        JinjaChatTemplate(source)
