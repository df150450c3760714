"""Limits on rendering a chat template, whose source is code from whoever made the checkpoint.

One render may run for ``max_render_seconds`` and build ``max_output_chars`` characters (the
``jinja`` chat template's options; defaults in ``options.py``, listed in docs/troubleshooting.md).
"Build" counts the prompt and every string or list made on the way:

- time is checked at every loop iteration and every call (function, macro, method, filter);
- sizes are checked *before* anything is allocated for ``*``, ``+``, ``**``, ``%`` and ``~``, for
  captured output (``{% set %}...{% endset %}``, macros, call blocks) and for the arguments of
  the filters and ``str`` methods that multiply text (center, indent, join, replace, format...);
- every value a filter or call returns, and the prompt as it streams out, are checked after.

A breach raises :class:`LimitExceeded`; the template reports it with its file name. Outside a
render (e.g. while compiling) the checks refuse everything, so that nothing that goes through
them is folded into a constant at compile time.
"""
from __future__ import annotations

import contextvars
import functools
import inspect
import re
import string
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Mapping

from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.filters import make_attrgetter
from jinja2.runtime import LoopContext
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import generate_lorem_ipsum
from jinja2.visitor import NodeTransformer

from mmplug.plugins.text.options import DEFAULT_MAX_OUTPUT_CHARS, DEFAULT_MAX_RENDER_SECONDS

_SIZED = (str, bytes, list, tuple, dict, set, frozenset)
_PRINTF = re.compile(r"%(?:\([^)]*\))?[#0 +\-]*(\*|\d+)?(?:\.(\*|\d*))?[hlL]?([a-zA-Z%])")


@dataclass(frozen=True)
class TemplateLimits:
    """How long one render may run and how many characters (or list items) it may build."""

    max_render_seconds: float = DEFAULT_MAX_RENDER_SECONDS
    max_output_chars: int = DEFAULT_MAX_OUTPUT_CHARS


class LimitExceeded(Exception):
    """A render went past a limit (the template turns it into a ProcessorError naming its file)."""


@dataclass(frozen=True)
class _Budget:
    limits: TemplateLimits
    deadline: float


_ACTIVE: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar("mmplug_template_budget", default=None)


@contextmanager
def rendering(limits: TemplateLimits) -> Iterator[None]:
    """Run the template code inside the block under ``limits`` (one budget per render)."""
    token = _ACTIVE.set(_Budget(limits, time.monotonic() + limits.max_render_seconds))
    try:
        yield
    finally:
        _ACTIVE.reset(token)


def _budget() -> _Budget:
    budget = _ACTIVE.get()
    if budget is None:
        raise LimitExceeded("template code runs only inside a render")
    return budget


def tick() -> None:
    """Stop the render once its time is up."""
    budget = _budget()
    if time.monotonic() > budget.deadline:
        raise LimitExceeded(f"rendering ran longer than max_render_seconds={budget.limits.max_render_seconds}")


def need(size: int, what: str) -> None:
    """Refuse to build ``what`` of ``size`` characters (or items, or bits of a number)."""
    limit = _budget().limits.max_output_chars
    if size > limit:
        raise LimitExceeded(f"{what} would be {size} long, over max_output_chars={limit}")


def check_result(value: Any) -> Any:
    """``value``, if it is within the limit (strings, lists, dicts by length; ints by bits)."""
    if isinstance(value, _SIZED):
        need(len(value), f"a {type(value).__name__}")
    elif isinstance(value, int):
        need(value.bit_length(), "a number (in bits)")
    return value


def bounded_join(pieces: Iterable[str], what: str) -> str:
    """``"".join(pieces)``, stopped as soon as the text grows past the limit."""
    out, total = [], 0
    for piece in pieces:
        total += len(piece)
        need(total, what)
        out.append(piece)
    return "".join(out)


class Ticking:
    """An iterable that checks the render's time before each item (keeps ``len()`` if it has one)."""

    def __init__(self, iterable: Any):
        self._iterable = iterable

    def __len__(self) -> int:
        return len(self._iterable)

    def __iter__(self) -> Iterator[Any]:
        for item in self._iterable:
            tick()
            yield item


# ----------------------------------------------------------------------------- arguments
def _arg(args: tuple, kwargs: Mapping[str, Any], index: int, name: str, default: Any) -> Any:
    return args[index] if len(args) > index else kwargs.get(name, default)


def _check_format(length: int, fields: int, numbers: list[int], values: Iterable[Any], what: str) -> None:
    """A format string of ``length`` with ``fields`` fields, widths/precisions ``numbers``, over ``values``."""
    for number in numbers:
        need(number, f"a width or precision in {what}")
    longest = max((len(str(value)) for value in values), default=0)
    need(length + fields * (longest + max(numbers, default=0)), what)


def check_printf(fmt: str, values: Any, what: str = "a %-formatted string") -> None:
    """``fmt % values``, before it is built."""
    pool = list(values.values()) if isinstance(values, Mapping) else list(values) if isinstance(
        values, tuple) else [values]
    fields, numbers = 0, []
    for match in _PRINTF.finditer(fmt):
        if match.group(3) == "%":
            continue
        fields += 1
        numbers += [int(n) for n in match.group(1, 2) if n and n != "*"]
        if "*" in match.group(1, 2):
            numbers += [v for v in pool if type(v) is int]
    _check_format(len(fmt), fields, numbers, pool, what)


def check_str_format(fmt: str, args: tuple, kwargs: Mapping[str, Any]) -> None:
    """``fmt.format(*args, **kwargs)``, before it is built."""
    pool = list(args) + list(kwargs.values())
    fields, numbers = 0, []
    for _, field, spec, _ in string.Formatter().parse(fmt):
        if field is None:
            continue
        fields += 1
        numbers += [int(n) for n in re.findall(r"\d+", spec or "")]
        if "{" in (spec or ""):  # a nested field: the width comes from the arguments
            numbers += [v for v in pool if type(v) is int]
    _check_format(len(fmt), fields, numbers, pool, "str.format output")


def _items(value: Any, attribute: Any, environment: Any) -> list[Any]:
    items = list(value)
    return items if attribute is None else [make_attrgetter(environment, attribute)(item) for item in items]


def _joined(separator: Any, items: list[Any]) -> int:
    return sum(len(str(item)) for item in items) + len(separator) * max(len(items) - 1, 0)


def _replaced(text: Any, old: Any, new: Any, count: Any) -> int:
    hits = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    return len(text) + hits * max(len(new) - len(old), 0)


# ----------------------------------------------------------------------------- calls and methods
def _str_method(owner: Any, name: str, args: tuple, kwargs: dict[str, Any]) -> tuple[tuple, dict[str, Any]]:
    what = f"str.{name}() output"
    if name in ("center", "ljust", "rjust", "zfill"):
        need(max(len(owner), _arg(args, kwargs, 0, "width", 0)), what)
    elif name == "expandtabs":
        need(len(owner) + owner.count("\t" if isinstance(owner, str) else b"\t")
             * max(_arg(args, kwargs, 0, "tabsize", 8), 0), what)
    elif name == "join" and args:
        items = list(args[0])
        need(_joined(owner, items), what)
        args = (items,) + args[1:]
    elif name == "replace" and len(args) >= 2:
        need(_replaced(owner, args[0], args[1], _arg(args, kwargs, 2, "count", -1)), what)
    elif name == "translate" and args:
        table = args[0]
        values = table.values() if isinstance(table, Mapping) else table if isinstance(table, (list, tuple)) else ()
        need(len(owner) * max([len(v) for v in values if isinstance(v, (str, bytes))] + [1]), what)
    elif name == "format" and isinstance(owner, str):
        check_str_format(owner, args, kwargs)
    elif name == "format_map" and isinstance(owner, str) and args and isinstance(args[0], Mapping):
        check_str_format(owner, (), args[0])
    return args, kwargs


def check_call(obj: Any, args: tuple, kwargs: dict[str, Any]) -> tuple[tuple, dict[str, Any]]:
    """(args, kwargs) to call ``obj`` with, after refusing calls that would build too much."""
    target = getattr(obj, "__wrapped__", obj)  # str.format arrives wrapped by the sandbox
    owner, name = getattr(target, "__self__", None), getattr(target, "__name__", "")
    if isinstance(owner, (str, bytes)):
        return _str_method(owner, name, args, kwargs)
    if type(owner) is int and name == "to_bytes":
        need(_arg(args, kwargs, 0, "length", 1), "int.to_bytes() output")
    elif isinstance(obj, LoopContext) and args:  # loop(children) of a recursive loop
        args = (Ticking(args[0]),) + args[1:]
    elif target is generate_lorem_ipsum:
        need(_arg(args, kwargs, 0, "n", 5) * _arg(args, kwargs, 3, "max", 100) * 16, "lipsum() output")
    return args, kwargs


def check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse ``left operator right`` if its result would be over the limit."""
    if operator == "*":
        for sequence, times in ((left, right), (right, left)):
            if isinstance(sequence, (str, bytes, list, tuple)) and isinstance(times, int):
                need(len(sequence) * max(times, 0), "a repeated string or list")
                return
        if isinstance(left, int) and isinstance(right, int):
            need(left.bit_length() + right.bit_length(), "a product (in bits)")
    elif operator == "+":
        if isinstance(left, (str, bytes, list, tuple)) and isinstance(right, (str, bytes, list, tuple)):
            need(len(left) + len(right), "a concatenation")
    elif operator == "**":
        if isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
            need(left.bit_length() * right, "a power (in bits)")
    elif operator == "%" and isinstance(left, str):
        check_printf(left, right)


# ----------------------------------------------------------------------------- filters
def _filter_center(a: dict[str, Any]) -> None:
    need(max(len(str(a["value"])), a["width"]), "center output")


def _filter_indent(a: dict[str, Any]) -> None:
    width = a["width"] if isinstance(a["width"], int) else len(str(a["width"]))
    need(len(str(a["s"])) + (str(a["s"]).count("\n") + 1) * width, "indent output")


def _filter_join(a: dict[str, Any]) -> None:
    a["value"] = list(a["value"])
    need(_joined(a["d"], _items(a["value"], a["attribute"], a["eval_ctx"].environment)), "join output")


def _filter_sum(a: dict[str, Any]) -> None:
    a["iterable"] = list(a["iterable"])
    if isinstance(a["start"], (list, tuple)):
        items = _items(a["iterable"], a["attribute"], a["environment"])
        need(len(a["start"]) + sum(len(i) for i in items if isinstance(i, (list, tuple))), "sum of lists")


def _filter_wordwrap(a: dict[str, Any]) -> None:
    text, wrap = str(a["s"]), a["wrapstring"] or a["environment"].newline_sequence
    need(len(text) + (len(text) + 1) * len(wrap), "wordwrap output")


#: Filters whose output can be much larger than their input: a check on the bound arguments.
FILTER_CHECKS: dict[str, Callable[[dict[str, Any]], None]] = {
    "center": _filter_center,
    "indent": _filter_indent,
    "join": _filter_join,
    "sum": _filter_sum,
    "wordwrap": _filter_wordwrap,
    "replace": lambda a: need(_replaced(str(a["s"]), str(a["old"]), str(a["new"]), a["count"]), "replace output"),
    "format": lambda a: check_printf(str(a["value"]), a["kwargs"] or a["args"], "format output"),
    "batch": lambda a: need(a["linecount"], "batch size"),
    "slice": lambda a: need(a["slices"], "slice count"),
}


def limited_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` checked: time before, its arguments (``FILTER_CHECKS``) and its result."""
    check = FILTER_CHECKS.get(name)
    signature = inspect.signature(func) if check else None

    @functools.wraps(func)  # keeps jinja's pass_context / pass_eval_context marks
    def limited(*args: Any, **kwargs: Any) -> Any:
        tick()
        if signature is not None:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            check(bound.arguments)
            args, kwargs = bound.args, bound.kwargs
        return check_result(func(*args, **kwargs))

    return limited


# ----------------------------------------------------------------------------- environment
class LimitHooks(Extension):
    """Template-side hooks that :func:`insert_checks` puts into the compiled code."""

    def _iterate(self, iterable: Any) -> Ticking:
        return Ticking(iterable)

    def _concat(self, *values: Any) -> str:
        texts = [str(value) for value in values]
        need(sum(map(len, texts)), "a ~ concatenation")
        return "".join(texts)


class _InsertChecks(NodeTransformer):
    def __init__(self, identifier: str):
        self.identifier = identifier

    def _hook(self, name: str, args: list[nodes.Expr], lineno: int) -> nodes.Call:
        return nodes.Call(nodes.ExtensionAttribute(self.identifier, name), args, [], None, None, lineno=lineno)

    def visit_For(self, node: nodes.For) -> nodes.For:
        node = self.generic_visit(node)
        node.iter = self._hook("_iterate", [node.iter], node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Call:
        node = self.generic_visit(node)
        return self._hook("_concat", node.nodes, node.lineno)


def insert_checks(tree: nodes.Template, environment: "LimitedEnvironment") -> nodes.Template:
    """The parsed template with a time check in every ``for`` loop and sized ``~`` concatenations."""
    tree = _InsertChecks(LimitHooks.identifier).visit(tree)
    tree.set_environment(environment)
    return tree


def _limited_concat(pieces: Iterable[str]) -> str:
    pieces = list(pieces)
    need(sum(map(len, pieces)), "captured template output")
    return "".join(pieces)


class LimitedEnvironment(ImmutableSandboxedEnvironment):
    """The immutable sandbox with the checks above on calls, operators, filters and captured output."""

    intercepted_binops = frozenset({"*", "+", "**", "%"})
    concat = staticmethod(_limited_concat)

    def __init__(self, **options: Any):
        extensions = list(options.pop("extensions", ())) + [LimitHooks]
        super().__init__(extensions=extensions, **options)
        self.filters = _LimitedFilters(self.filters)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        tick()
        check_binop(operator, left, right)
        return check_result(super().call_binop(context, operator, left, right))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 - as jinja
        tick()
        args, kwargs = check_call(__obj, args, kwargs)
        return check_result(super().call(__context, __obj, *args, **kwargs))


class _LimitedFilters(dict):
    """The filter table; every filter put in it (now or later) is wrapped by :func:`limited_filter`."""

    def __init__(self, filters: Mapping[str, Callable[..., Any]]):
        super().__init__()
        for name, func in filters.items():
            self[name] = func

    def __setitem__(self, name: str, func: Callable[..., Any]) -> None:
        super().__setitem__(name, limited_filter(name, func))
