"""Katib's trial success and failure conditions: the GJSON subset Katib's defaults and docs use.

Katib decides a trial's job status with two GJSON paths over the job object (reference
``docs/katib-behaviour.md`` §3.9 step 4): ``failureCondition`` first, then ``successCondition``; a path
*matches* when its result is a JSON object or a non-empty array (the first element is then the
condition whose ``reason`` and ``message`` are copied). The defaults (§1.2) are::

    status.conditions.#(type=="Complete")#|#(status=="True")#     # Job (Complete / Failed)
    status.conditions.#(type=="Succeeded")#|#(status=="True")#    # TFJob, PyTorchJob, ...

and Katib's examples add ``status.[@this].#(phase=="Succeeded")#`` (Argo Workflows) and
Tekton's ``...#(type=="Succeeded")#|#(status=="False")#``.

Supported, with GJSON's meaning: dotted keys (``\\`` escapes a dot), array indexes (``conditions.0``),
``#`` (an array's length, or a map over its elements when more path follows), queries
``#(path op value)`` (first match) and ``#(path op value)#`` (all matches; a following ``.path``
applies to each match, a ``|path`` to the array as a whole), with ``==``, ``!=``, ``<``,
``<=``, ``>``, ``>=``, ``%`` (glob ``*``/``?``), ``!%``, or no operator (the key exists);
multipaths ``[a,b]`` and the ``@this`` modifier. Anything else (other modifiers, ``{...}``
objects, key wildcards, nested queries, literals) raises :class:`ConditionSyntaxError` naming the
expression and the column, instead of silently never matching.
"""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Mapping

from katibsim.errors import KatibsimError

# Katib's defaults (pkg/apis/controller/experiments/v1beta1/constants.go), by trial kind (§1.2).
_DEFAULT = 'status.conditions.#(type=="{t}")#|#(status=="True")#'
DEFAULT_CONDITIONS: dict[str, tuple[str, str]] = {
    "Job": (_DEFAULT.format(t="Complete"), _DEFAULT.format(t="Failed")),
    "TrainJob": (_DEFAULT.format(t="Complete"), _DEFAULT.format(t="Failed")),
    **{k: (_DEFAULT.format(t="Succeeded"), _DEFAULT.format(t="Failed"))
       for k in ("TFJob", "PyTorchJob", "XGBoostJob", "MPIJob")},
}


class ConditionSyntaxError(KatibsimError):
    """A success/failure condition outside the GJSON subset katibsim evaluates (exit 1: a spec problem)."""

    exit_code = 1

    def __init__(self, expression: str, column: int, message: str, field: str | None = None):
        self.expression = expression
        self.column = column
        self.field = field
        where = f"{field}: " if field else ""
        super().__init__(
            f"{where}{message} at column {column + 1} of {expression!r}; katibsim evaluates the GJSON subset that "
            "Katib's defaults and docs use: dotted keys, array indexes, #, #(...) and #(...)# queries with ==, !=, "
            "<, <=, >, >=, %, !%, the pipe |, [multi,paths] and @this"
        )


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()


# -- the parsed form ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Key:
    name: str


@dataclass(frozen=True)
class Count:
    """``#``: the length of an array, or (with more path) a map over its elements."""


@dataclass(frozen=True)
class Query:
    path: "Path | None"  # None: the element itself (``#(=="x")``)
    op: str  # "" means: the key exists
    value: Any
    all: bool


@dataclass(frozen=True)
class Multi:
    paths: tuple["Path", ...]


@dataclass(frozen=True)
class This:
    pass


Segment = Key | Count | Query | Multi | This


@dataclass(frozen=True)
class Step:
    segment: Segment
    pipe: bool  # reached through "|" (applies to the whole value) rather than "."


@dataclass(frozen=True)
class Path:
    steps: tuple[Step, ...]


_OPS = ("==", "!=", "<=", ">=", "!%", "<", ">", "%")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")


class _Parser:
    def __init__(self, text: str, field: str | None):
        self.text = text
        self.field = field

    def fail(self, column: int, message: str) -> ConditionSyntaxError:
        return ConditionSyntaxError(self.text, column, message, self.field)

    def parse(self) -> Path:
        if not self.text.strip():
            raise self.fail(0, "an empty condition")
        path, end = self.path(0, stop=())
        if end != len(self.text):
            raise self.fail(end, f"unexpected {self.text[end]!r}")
        return path

    def path(self, i: int, stop: tuple[str, ...]) -> tuple[Path, int]:
        steps: list[Step] = []
        pipe = False
        text = self.text
        while True:
            seg, i = self.segment(i)
            steps.append(Step(seg, pipe))
            if i >= len(text) or text[i] in stop:
                return Path(tuple(steps)), i
            if text[i] == ".":
                pipe = False
            elif text[i] == "|":
                pipe = True
            else:
                raise self.fail(i, f"unexpected {text[i]!r}")
            i += 1
            if i >= len(text):
                raise self.fail(i - 1, "a path that ends with a separator")

    def segment(self, i: int) -> tuple[Segment, int]:
        text = self.text
        c = text[i] if i < len(text) else ""
        if c == "#":
            if text.startswith("#(", i):
                return self.query(i)
            j = i + 1
            if j < len(text) and text[j] not in ".|,]":
                raise self.fail(j, "'#' must stand alone between separators")
            return Count(), j
        if c == "[":
            return self.multipath(i)
        if c == "@":
            m = re.match(r"@(\w*)", text[i:])
            name = m.group(1) if m else ""
            if name != "this":
                raise self.fail(i, f"the modifier @{name} is not supported")
            j = i + len(m.group(0))
            if j < len(text) and text[j] == ":":
                raise self.fail(j, "modifier arguments are not supported")
            return This(), j
        if c in "{!":
            raise self.fail(i, "JSON objects and literals in paths are not supported")
        if c == "":
            raise self.fail(i, "a missing key")
        return self.key(i)

    def key(self, i: int) -> tuple[Key, int]:
        text = self.text
        out: list[str] = []
        while i < len(text) and text[i] not in ".|,]":
            ch = text[i]
            if ch == "\\":
                if i + 1 >= len(text):
                    raise self.fail(i, "a dangling escape")
                out.append(text[i + 1])
                i += 2
                continue
            if ch in "*?":
                raise self.fail(i, "key wildcards are not supported")
            if ch in "()#[]{}@!=<>%\"":
                raise self.fail(i, f"{ch!r} inside a key")
            out.append(ch)
            i += 1
        if not out:
            raise self.fail(i, "an empty key")
        return Key("".join(out)), i

    def multipath(self, i: int) -> tuple[Multi, int]:
        text = self.text
        i += 1
        paths: list[Path] = []
        while True:
            p, i = self.path(i, stop=(",", "]"))
            paths.append(p)
            if i >= len(text):
                raise self.fail(len(text) - 1, "an unclosed '['")
            if text[i] == "]":
                return Multi(tuple(paths)), i + 1
            i += 1  # ","

    def _close(self, start: int) -> int:
        """Index of the ')' closing the '(' at ``start``, skipping quoted strings."""
        text = self.text
        depth, i, quote = 0, start, False
        while i < len(text):
            ch = text[i]
            if quote:
                if ch == "\\":
                    i += 1
                elif ch == '"':
                    quote = False
            elif ch == '"':
                quote = True
            elif ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
                if depth == 0:
                    return i
            i += 1
        raise self.fail(start, "an unclosed '#('")

    def query(self, i: int) -> tuple[Query, int]:
        text = self.text
        close = self._close(i + 1)
        body_start = i + 2
        body = text[body_start:close]
        if "#(" in body:
            raise self.fail(body_start + body.index("#("), "nested queries are not supported")
        # The key runs up to the first operator character outside a quoted string.
        j = 0
        while j < len(body) and body[j] not in "=!<>%":
            if body[j] == '"':
                raise self.fail(body_start + j, "a quoted key")
            j += 1
        key_text = body[:j].strip()
        rest = body[j:].strip()
        if "~" in body:
            raise self.fail(body_start + body.index("~"), "the ~ (truthy) comparisons are not supported")
        op = next((o for o in _OPS if rest.startswith(o)), "")
        if rest and not op:
            raise self.fail(body_start + j, f"unknown operator in {rest!r}")
        value: Any = None
        if op:
            raw = rest[len(op):].strip()
            value = self.literal(raw, body_start + j + len(op))
            if op in ("%", "!%") and not isinstance(value, str):
                raise self.fail(body_start + j, f"{op} compares with a quoted pattern")
        path = None
        if key_text:
            sub = _Parser(key_text, self.field)
            try:
                path, _ = sub.path(0, stop=())
            except ConditionSyntaxError as exc:
                raise self.fail(body_start + exc.column, str(exc).split(" at column")[0].split(": ", 1)[-1]) from None
        elif not op:
            raise self.fail(body_start, "an empty query")
        end = close + 1
        every = end < len(text) and text[end] == "#"
        return Query(path, op, value, every), end + (1 if every else 0)

    def literal(self, raw: str, column: int) -> Any:
        if not raw:
            raise self.fail(column, "a comparison without a value")
        if raw.startswith('"'):
            try:
                value = json.loads(raw)
            except json.JSONDecodeError:
                raise self.fail(column, f"a malformed string {raw}") from None
            if not isinstance(value, str):
                raise self.fail(column, f"a malformed string {raw}")
            return value
        if raw in ("true", "false"):
            return raw == "true"
        if raw == "null":
            return None
        if _NUMBER.fullmatch(raw):
            return float(raw)
        raise self.fail(column, f"a value that is not a JSON string, number, true, false or null: {raw!r}")


@lru_cache(maxsize=256)
def _parse_cached(expression: str) -> Path:
    return _Parser(expression, None).parse()


def parse(expression: str, *, field: str | None = None) -> Path:
    """The parsed form of ``expression``; raises ConditionSyntaxError outside the subset."""
    try:
        return _parse_cached(expression)
    except ConditionSyntaxError as exc:
        if field is None:
            raise
        raise ConditionSyntaxError(exc.expression, exc.column, str(exc).split(" at column")[0], field) from None


# -- evaluation -------------------------------------------------------------------------------------


def _compare(value: Any, op: str, expected: Any) -> bool:
    if op == "":
        return value is not MISSING
    if value is MISSING:
        return False
    if expected is None:
        return (value is None) == (op == "==") if op in ("==", "!=") else False
    if isinstance(expected, bool):
        if not isinstance(value, bool):
            return False
        return (value == expected) == (op == "==") if op in ("==", "!=") else False
    if isinstance(expected, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        v = float(value)
    elif isinstance(expected, str):
        if not isinstance(value, str):
            return False
        v = value  # type: ignore[assignment]
        if op == "%":
            return fnmatch.fnmatchcase(v, expected)
        if op == "!%":
            return not fnmatch.fnmatchcase(v, expected)
    else:  # pragma: no cover - the parser only makes the types above
        return False
    return {
        "==": v == expected, "!=": v != expected, "<": v < expected, "<=": v <= expected,
        ">": v > expected, ">=": v >= expected,
    }.get(op, False)


def _segment(seg: Segment, value: Any, rest_mapped: Path | None) -> Any:
    if isinstance(seg, This):
        return value
    if isinstance(seg, Key):
        if isinstance(value, Mapping):
            return value.get(seg.name, MISSING)
        if isinstance(value, list) and seg.name.isdigit():
            k = int(seg.name)
            return value[k] if k < len(value) else MISSING
        return MISSING
    if isinstance(seg, Count):
        if not isinstance(value, list):
            return MISSING
        if rest_mapped is None:
            return len(value)
        return [r for r in (_eval(rest_mapped, v) for v in value) if r is not MISSING]
    if isinstance(seg, Query):
        if not isinstance(value, list):
            return MISSING
        hits = [v for v in value
                if _compare(v if seg.path is None else _eval(seg.path, v), seg.op, seg.value)]
        if not seg.all:
            return hits[0] if hits else MISSING
        if rest_mapped is None:
            return hits
        return [r for r in (_eval(rest_mapped, v) for v in hits) if r is not MISSING]
    if isinstance(seg, Multi):
        return [r for r in (_eval(p, value) for p in seg.paths) if r is not MISSING]
    raise AssertionError(seg)  # pragma: no cover


def _eval(path: Path, value: Any) -> Any:
    steps = path.steps
    i = 0
    while i < len(steps):
        seg = steps[i].segment
        maps = isinstance(seg, Count) or (isinstance(seg, Query) and seg.all)
        # After "#" or "#(...)#", the path up to the next pipe applies to each element (GJSON).
        j = i + 1
        while j < len(steps) and not steps[j].pipe:
            j += 1
        if maps and j > i + 1:
            value = _segment(seg, value, Path(tuple(Step(s.segment, False) for s in steps[i + 1:j])))
            i = j
        else:
            value = _segment(seg, value, None)
            i += 1
        if value is MISSING:
            return MISSING
    return value


def evaluate(expression: str, obj: Any) -> Any:
    """The GJSON result of ``expression`` over ``obj`` (a JSON-like value); MISSING when none."""
    return _eval(parse(expression), obj)


def match(expression: str, obj: Any) -> Mapping[str, Any] | None:
    """Katib's test: the matched condition when the result is an object or a non-empty array.

    Returns the object (for an array, its first element when that is an object, else ``{}``),
    or None when the expression does not match.
    """
    result = evaluate(expression, obj)
    if isinstance(result, Mapping):
        return result
    if isinstance(result, list) and result:
        first = result[0]
        return first if isinstance(first, Mapping) else {}
    return None


__all__ = [
    "DEFAULT_CONDITIONS", "ConditionSyntaxError", "MISSING", "parse", "evaluate", "match",
]
