"""The subset of Go's ``text/template`` that Katib v1alpha3 trial templates use, and nothing more.

Katib v1alpha3 renders ``spec.trialTemplate.goTemplate.rawTemplate`` with Go's ``text/template``
over ``{.Experiment, .Trial, .NameSpace, .HyperParameters}`` (``docs/katib-behaviour.md`` §7.2). Every template in
Katib's v1alpha3 examples uses only these actions, which are implemented with Go's semantics:

- ``{{.}}``, ``{{.Field}}`` and dotted paths ``{{.A.B}}``: print a value. Data are Python values
  standing in for Go ones: a ``dict`` is a struct (an unknown field is an error, as for a Go
  struct), a ``list``/``tuple`` a slice, ``str``/``int``/``bool`` scalars. Printing a slice or
  a struct is refused (Go would print its internal representation).
- ``{{with X}}...{{else}}...{{end}}``: skipped when X is empty (false, 0, "", empty slice),
  otherwise run with dot bound to X.
- ``{{range X}}...{{else}}...{{end}}`` over a slice, dot bound to each element.
- Comments ``{{/* ... */}}``, which must touch the delimiters (or the trim markers), as in Go.
- The trim markers: ``{{- `` removes all trailing white space (space, tab, CR, LF; nothing else)
  from the text immediately before the action, `` -}}`` all leading white space from the text
  after it. The marker needs the space: ``{{-.X}}`` is not a trim marker (Go would lex ``-.X``
  as a number and fail).

Semantics are those of current Go (checked against Go 1.19's text/template, see
tests/spec/test_templates_gotemplate.py). Katib v0.9 images were built with Go 1.14/1.15, which
refused a newline inside an action and so also a newline as the space of a trim marker
(``{{-\\n``); such templates render here but would have failed there.

Anything else Go accepts (``if``, pipelines with ``|``, function calls, variables, literals,
``template``/``define``/``block``, ``break``/``continue``) raises :class:`TemplateError` naming
the construct and its line and column, instead of silently doing something different from Go.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from katibsim.errors import FieldError, SpecError

__all__ = ["Template", "TemplateError", "parse", "render"]

# Go's text/template white space for trimming: exactly these four (lex.go: spaceChars).
_SPACE = " \t\r\n"
_LEFT, _RIGHT = "{{", "}}"
_FIELD_PATH = re.compile(r"\.(?:[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)?")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_UNSUPPORTED_KEYWORDS = {"if", "template", "define", "block", "break", "continue", "nil", "true", "false"}
SUPPORTED = "{{.Field}}, {{with}}, {{range}}, {{else}}, {{end}}, {{/* comments */}} and the {{- -}} trim markers"


class TemplateError(SpecError):
    """A Go template that does not parse or execute, or uses a construct katibsim does not support.

    ``line`` and ``column`` (1-based) locate the action in the template source; ``construct`` names
    the offending construct when it is an unsupported one.
    """

    def __init__(
        self,
        reason: str,
        *,
        line: int | None = None,
        column: int | None = None,
        construct: str | None = None,
        path: str = "",
        file: str | None = None,
    ):
        self.reason = reason
        self.line = line
        self.column = column
        self.construct = construct
        where = f"line {line}, column {column}: " if line is not None else ""
        super().__init__(FieldError(path=path, message=f"{where}{reason}", file=file))


# -- syntax tree -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Text:
    text: str


@dataclass(frozen=True)
class _Print:
    path: tuple[str, ...]  # () is the dot itself
    source: str
    offset: int


@dataclass
class _Block:
    keyword: str  # "with" | "range"
    path: tuple[str, ...]
    source: str
    offset: int
    body: list = field(default_factory=list)
    else_body: list | None = None


@dataclass(frozen=True)
class Template:
    """A parsed template; :meth:`execute` renders it against a data value."""

    nodes: tuple
    source: str
    path: str = ""
    file: str | None = None

    def execute(self, data: Any) -> str:
        out: list[str] = []
        _run(self, list(self.nodes), data, out)
        return "".join(out)


# -- lexing and parsing --------------------------------------------------------------------------


def _position(source: str, offset: int) -> tuple[int, int]:
    line = source.count("\n", 0, offset) + 1
    column = offset - (source.rfind("\n", 0, offset) + 1) + 1
    return line, column


def _error(source: str, offset: int, reason: str, *, path: str, file: str | None, construct: str | None = None) -> TemplateError:
    line, column = _position(source, offset)
    return TemplateError(reason, line=line, column=column, construct=construct, path=path, file=file)


def _has_left_trim(source: str, at: int) -> bool:
    """Go's hasLeftTrimMarker: '-' then one white-space character right after '{{'."""
    return source[at : at + 1] == "-" and len(source) > at + 1 and source[at + 1] in _SPACE


def _at_right_delim(source: str, at: int) -> tuple[bool, bool]:
    """Go's atRightDelim: (is a right delimiter here, with a trim marker ' -}}')."""
    if at + 1 < len(source) and source[at] in _SPACE and source[at + 1] == "-" and source.startswith(_RIGHT, at + 2):
        return True, True
    return source.startswith(_RIGHT, at), False


def _lex(source: str, *, path: str, file: str | None) -> list:
    """Split the source into text pieces (already trimmed) and (body, start, end) actions; drop comments."""
    items: list = []
    start = 0  # beginning of the pending text
    while True:
        x = source.find(_LEFT, start)
        if x < 0:
            if start < len(source):
                items.append(_Text(source[start:]))
            return items
        after = x + len(_LEFT)
        left_trim = _has_left_trim(source, after)
        text = source[start:x]
        if left_trim:
            text = text.rstrip(_SPACE)
        if text:
            items.append(_Text(text))
        body_start = after + (2 if left_trim else 0)
        if source.startswith("/*", body_start):
            end = source.find("*/", body_start + 2)
            if end < 0:
                raise _error(source, x, "unclosed comment", path=path, file=file)
            p = end + 2
            delim, right_trim = _at_right_delim(source, p)
            if not delim:
                raise _error(source, x, "comment ends before closing delimiter", path=path, file=file)
            p += (2 if right_trim else 0) + len(_RIGHT)
            if right_trim:
                p = _skip_space(source, p)
            start = p
            continue
        close = source.find(_RIGHT, body_start)
        if close < 0:
            raise _error(source, x, "unclosed action", path=path, file=file)
        right_trim = close - 2 >= body_start and source[close - 2] in _SPACE and source[close - 1] == "-"
        body = source[body_start : close - 2] if right_trim else source[body_start:close]
        items.append((body, x, close + len(_RIGHT)))
        start = close + len(_RIGHT)
        if right_trim:
            start = _skip_space(source, start)


def _skip_space(source: str, p: int) -> int:
    while p < len(source) and source[p] in _SPACE:
        p += 1
    return p


def _field_path(arg: str) -> tuple[str, ...] | None:
    """``.`` -> (), ``.A.B`` -> ("A", "B"); None when ``arg`` is not a plain field path."""
    if _FIELD_PATH.fullmatch(arg):
        return tuple(p for p in arg.split(".") if p)
    return None


def _describe_unsupported(body: str) -> str:
    """Name the Go construct in an action body katibsim does not implement."""
    b = body.strip()
    if "|" in b:
        return "pipeline '|'"
    if b.startswith("$"):
        return "variable"
    if b.startswith("("):
        return "parenthesized pipeline"
    if b.startswith(("/*", "//")):
        return "comment not touching its delimiters"
    if b == "-":
        return "a lone '-' (trim markers need an action between them)"
    if b.startswith("-") and not b[1:2].isdigit():
        return "'{{-' without white space after '-' (not a trim marker)"
    if b.endswith("-"):
        return "'-}}' without white space before '-' (not a trim marker)"
    if b[:1] in "\"'`" or b[:1].isdigit() or b[:1] in "+-":
        return "literal"
    m = _IDENT.match(b)
    if m:
        word = m.group(0)
        if word in _UNSUPPORTED_KEYWORDS:
            return f"'{word}' action"
        if word in ("with", "range"):
            return f"'{word}' with something other than a field path"
        if word == "else":
            return "'else' with a condition"
        return f"function call '{word}'"
    if b.startswith(".") and len(b.split()) > 1:
        return "arguments after a field"
    return "action"


def parse(source: str, *, path: str = "", file: str | None = None) -> Template:
    """Parse ``source``; raise :class:`TemplateError` (with line and column) when Go would, or on
    a construct outside the supported subset."""
    root: list = []
    stack: list[tuple[_Block, list]] = []  # open blocks and the list their nodes go into
    current = root
    for item in _lex(source, path=path, file=file):
        if isinstance(item, _Text):
            current.append(item)
            continue
        raw, offset, end = item
        body = raw.strip(_SPACE)
        shown = source[offset:end]
        if not body:
            raise _error(source, offset, "missing value for command", path=path, file=file)
        keyword = None
        m = re.match(r"(with|range|end|else)(?=[\s.]|$)", body)
        if m:
            keyword = m.group(1)
        if keyword in ("with", "range"):
            arg = body[len(keyword) :].strip(_SPACE)
            if not arg:
                raise _error(source, offset, f"missing value for {keyword}", path=path, file=file)
            fp = _field_path(arg)
            if fp is None:
                what = _describe_unsupported(arg) if _field_path(arg.split()[0]) is None else "arguments after a field"
                raise _error(
                    source, offset, f"unsupported Go template construct in {shown}: {what}; katibsim supports {SUPPORTED}",
                    path=path, file=file, construct=what,
                )
            block = _Block(keyword=keyword, path=fp, source=shown, offset=offset)
            current.append(block)
            stack.append((block, current))
            current = block.body
            continue
        if keyword == "end":
            if body != "end":
                raise _error(source, offset, f"unexpected {shown}: 'end' takes no arguments", path=path, file=file)
            if not stack:
                raise _error(source, offset, "unexpected {{end}}", path=path, file=file)
            _, current = stack.pop()
            continue
        if keyword == "else":
            if body != "else":
                what = _describe_unsupported(body)
                raise _error(
                    source, offset, f"unsupported Go template construct in {shown}: {what}; katibsim supports {SUPPORTED}",
                    path=path, file=file, construct=what,
                )
            if not stack:
                raise _error(source, offset, "unexpected {{else}}", path=path, file=file)
            block, _parent = stack[-1]
            if block.else_body is not None:
                raise _error(source, offset, "expected end; found {{else}}", path=path, file=file)
            block.else_body = []
            current = block.else_body
            continue
        fp = _field_path(body)
        if fp is None:
            what = _describe_unsupported(body)
            raise _error(
                source, offset, f"unsupported Go template construct {shown}: {what}; katibsim supports {SUPPORTED}",
                path=path, file=file, construct=what,
            )
        current.append(_Print(path=fp, source=shown, offset=offset))
    if stack:
        block, _ = stack[-1]
        raise _error(source, block.offset, f"unexpected EOF: {block.source} has no matching {{{{end}}}}", path=path, file=file)
    return Template(nodes=tuple(root), source=source, path=path, file=file)


# -- execution ----------------------------------------------------------------------------------------


def _type_name(v: Any) -> str:
    if isinstance(v, Mapping):
        return "struct {" + ", ".join(f".{k}" for k in v) + "}"
    if isinstance(v, (list, tuple)):
        return "slice"
    if isinstance(v, bool):
        return "bool"
    return type(v).__name__ if not isinstance(v, str) else "string"


def _lookup(t: Template, node, dot: Any) -> Any:
    value = dot
    for name in node.path:
        if isinstance(value, Mapping):
            if name not in value:
                known = ", ".join(f".{k}" for k in value) or "none"
                raise _error(
                    t.source, node.offset, f"executing {node.source}: can't evaluate field {name} (fields: {known})",
                    path=t.path, file=t.file,
                )
            value = value[name]
        else:
            raise _error(
                t.source, node.offset, f"executing {node.source}: can't evaluate field {name} in type {_type_name(value)}",
                path=t.path, file=t.file,
            )
    return value


def _is_true(v: Any) -> bool:
    """Go's template truth: false, 0, nil and empty strings/slices/maps are empty; structs never."""
    if v is None:
        return False
    if isinstance(v, Mapping):
        return True  # a struct
    if isinstance(v, (bool, int, float, str, list, tuple)):
        return bool(v)
    return True


def _print(t: Template, node: _Print, v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (str, int)):
        return str(v)
    raise _error(
        t.source, node.offset,
        f"executing {node.source}: printing a {_type_name(v)} value is not supported (only strings, integers and booleans)",
        path=t.path, file=t.file,
    )


def _run(t: Template, nodes: list, dot: Any, out: list[str]) -> None:
    for node in nodes:
        if isinstance(node, _Text):
            out.append(node.text)
        elif isinstance(node, _Print):
            out.append(_print(t, node, _lookup(t, node, dot)))
        elif node.keyword == "with":
            v = _lookup(t, node, dot)
            if _is_true(v):
                _run(t, node.body, v, out)
            elif node.else_body is not None:
                _run(t, node.else_body, dot, out)
        else:  # range
            v = _lookup(t, node, dot)
            if v is None:
                v = []  # a nil slice ranges over nothing
            if not isinstance(v, (list, tuple)):
                raise _error(
                    t.source, node.offset, f"executing {node.source}: range can't iterate over a {_type_name(v)}",
                    path=t.path, file=t.file,
                )
            if not v and node.else_body is not None:
                _run(t, node.else_body, dot, out)
            for element in v:
                _run(t, node.body, element, out)


def render(source: str, data: Any, *, path: str = "", file: str | None = None) -> str:
    """Parse and execute ``source`` against ``data`` in one step."""
    return parse(source, path=path, file=file).execute(data)
