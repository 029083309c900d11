"""Katib's metric filters are Go (RE2) regular expressions: compile them for Python's ``re``.

The translation keeps Go's meaning where the two dialects differ in ways a metrics filter can
meet: ASCII ``\\w``/``\\d``/``\\b``; ``\\s`` without ``\\v``; ``\\z``; ``\\Q...\\E``; POSIX
classes like ``[[:digit:]]``; ``(?<name>...)``; ``{,n}`` being a literal; octal escapes.
Constructs Go refuses (look-around, back-references, possessive and atomic groups) are refused
here with Go's reason, because Katib's webhook rejects such a filter (§2.2, §6.2).
:func:`find_all_submatch` reproduces ``Regexp.FindAllStringSubmatch(s, -1)``, including how it
steps over empty matches.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

from katibsim.errors import InputError

# Katib's DefaultFilter (pkg/metricscollector/v1beta1/common/const.go, since v0.13): name=value.
DEFAULT_FILTER = r"([\w|-]+)\s*=\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)"
# The filter before v0.13 and in v1alpha3 (no exponent, no leading "."), for documentation.
LEGACY_DEFAULT_FILTER = r"([\w|-]+)\s*=\s*((-?\d+)(\.\d+)?)"

_GO_SPACE_CLASS = r"\t\n\f\r "
_POSIX = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "ascii": r"\x00-\x7f",
    "blank": r"\t ",
    "cntrl": r"\x00-\x1f\x7f",
    "digit": "0-9",
    "graph": r"!-~",
    "lower": "a-z",
    "print": r" -~",
    "punct": r"!-/:-@\[-`{-~",
    "space": r"\t\n\v\f\r ",
    "upper": "A-Z",
    "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}


class GoRegexError(InputError):
    """A filter Katib's webhook would reject, or one katibsim cannot reproduce in Python."""

    def __init__(self, pattern: str, reason: str, *, katib_rejects: bool = True):
        self.pattern = pattern
        self.reason = reason
        self.katib_rejects = katib_rejects
        who = "Katib rejects this filter" if katib_rejects else "katibsim cannot emulate this Go regexp"
        super().__init__(f"{who}: {pattern!r}: {reason}")


@dataclass(frozen=True)
class GoRegex:
    """A compiled Go regexp: the original text, its Python translation, and its group count."""

    source: str
    python: str
    compiled: re.Pattern[str]

    @property
    def groups(self) -> int:
        return self.compiled.groups


_QUANT = re.compile(r"[*+?]|\{(\d+)(?:,(\d*))?\}")


def _escape(p: str, i: int, in_class: bool) -> tuple[str, int]:
    """Translate the escape at ``p[i] == "\\"``; return (python text, next index)."""
    if i + 1 >= len(p):
        raise GoRegexError(p, "trailing backslash at end of expression")
    e = p[i + 1]
    if e == "Q":
        end = p.find("\\E", i + 2)
        literal = p[i + 2 :] if end < 0 else p[i + 2 : end]
        return "".join(re.escape(ch) for ch in literal), len(p) if end < 0 else end + 2
    if e in "pP":
        raise GoRegexError(p, "Unicode classes (\\p, \\P) cannot be expressed in Python's re", katib_rejects=False)
    if e == "s":
        return (_GO_SPACE_CLASS if in_class else f"[{_GO_SPACE_CLASS}]"), i + 2
    if e == "S" and not in_class:
        return f"[^{_GO_SPACE_CLASS}]", i + 2
    if e == "z" and not in_class:
        return r"\Z", i + 2
    if e in "01234567":
        j = i + 2
        while j < len(p) and j < i + 4 and p[j] in "01234567":
            j += 1
        if e != "0" and j == i + 2:
            raise GoRegexError(p, f"invalid escape sequence: `\\{e}` (Go has no back-references)")
        code = int(p[i + 1 : j], 8)
        return ("\\x%02x" % code if code < 256 else "\\u%04x" % code), j
    if e == "x" and p.startswith("{", i + 2):
        end = p.find("}", i + 3)
        digits = p[i + 3 : end] if end > 0 else ""
        if not re.fullmatch(r"[0-9A-Fa-f]+", digits) or int(digits, 16) > 0x10FFFF:
            raise GoRegexError(p, f"invalid escape sequence: `{p[i : end + 1 if end > 0 else len(p)]}`")
        return "\\U%08x" % int(digits, 16), end + 1
    if e.isalnum() and e not in ("aftnrvx" + ("dDwWsS" if in_class else "dDwWsSbBA")):
        raise GoRegexError(p, f"invalid escape sequence: `\\{e}`")
    return p[i : i + 2], i + 2


def _translate(p: str) -> str:
    out: list[str] = []
    i, n = 0, len(p)
    after_quantifier = False
    while i < n:
        c = p[i]
        if c == "\\":
            text, i = _escape(p, i, in_class=False)
            out.append(text)
            after_quantifier = False
            continue
        if c == "[":
            i = _translate_class(p, i, out)
            after_quantifier = False
            continue
        if c == "(" and p.startswith("(?", i):
            rest = p[i + 2 :]
            if rest[:1] in ("=", "!", ">", "#") or rest[:2] in ("<=", "<!"):
                raise GoRegexError(p, f"invalid or unsupported Perl syntax: `(?{rest[:2] if rest[:1] == '<' else rest[:1]}`")
            if rest.startswith("<"):
                out.append("(?P<")  # Go 1.22 also takes (?<name>...); Python 3.11 does not
                i += 3
                continue
            flags = re.match(r"[imsU-]*", rest).group(0)
            if "U" in flags:
                raise GoRegexError(p, "the ungreedy flag (?U) cannot be expressed in Python's re", katib_rejects=False)
        m = _QUANT.match(p, i) if c in "*+?{" else None
        if c == "{" and m is None:
            out.append(r"\{")  # a brace that is not a repetition is a literal in Go
            i += 1
            continue
        if m is not None:
            if after_quantifier:
                raise GoRegexError(p, f"invalid nested repetition operator: `{p[max(0, i - 1) : m.end()]}`")
            for num in (m.group(1), m.group(2)):
                if num and int(num) > 1000:
                    raise GoRegexError(p, f"invalid repeat count: `{m.group(0)}`")
            out.append(m.group(0))
            i = m.end()
            if p.startswith("?", i):  # lazy form
                out.append("?")
                i += 1
            after_quantifier = True
            continue
        out.append(c)
        after_quantifier = False
        i += 1
    return "".join(out)


def _translate_class(p: str, i: int, out: list[str]) -> int:
    """Translate the bracket expression starting at ``p[i] == "["``; return the index after it."""
    start = i
    out.append("[")
    i += 1
    if p.startswith("^", i):
        out.append("^")
        i += 1
    first = True
    while i < len(p):
        c = p[i]
        if c == "]" and not first:
            out.append("]")
            return i + 1
        first = False
        if c == "\\":
            text, i = _escape(p, i, in_class=True)
            out.append(text)
            continue
        if c == "[" and p.startswith("[:", i):
            end = p.find(":]", i + 2)
            name = p[i + 2 : end] if end > 0 else ""
            if end > 0 and re.fullmatch(r"\^?[a-z]+", name):
                cls = _POSIX.get(name.lstrip("^"))
                if cls is None:
                    raise GoRegexError(p, f"invalid character class range: `[:{name}:]`")
                if name.startswith("^"):
                    raise GoRegexError(p, f"a negated POSIX class `[:{name}:]` inside a set cannot be expressed in Python's re", katib_rejects=False)
                out.append(cls)
                i = end + 2
                continue
        # Escape what Python would read as a nested set or a future set operation.
        out.append("\\" + c if c in "[&~|]" else c)
        i += 1
    raise GoRegexError(p, f"missing closing ]: `{p[start:]}`")


def compile_go(pattern: str) -> GoRegex:
    """Compile a Katib filter (Go RE2 syntax) into an equivalent Python pattern.

    Raises :class:`GoRegexError` when Go would reject it (Katib's webhook then refuses the
    Experiment with "invalid filter") or when Python cannot express it.
    """
    python = _translate(pattern)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compiled = re.compile(python, re.ASCII)
    except re.error as err:
        # Go applies a flag group like "a(?i)b" to the rest of the expression; Python 3.11 only
        # takes flags at the start. Everything else Python refuses, Go refuses too.
        python_only = "global flags not at the start" in str(err)
        raise GoRegexError(pattern, str(err), katib_rejects=not python_only) from None
    return GoRegex(source=pattern, python=python, compiled=compiled)


def find_all_submatch(regex: GoRegex, s: str) -> list[tuple[int, int, list[str]]]:
    """``FindAllStringSubmatch(s, -1)`` with positions: (start, end, [whole, group1, ...]).

    Groups that did not take part are "" (Go), not None. Go skips an empty match that touches
    the previous match and then moves on by one character, where Python's ``finditer`` would
    retry at the same place; the loop below follows Go.
    """
    result: list[tuple[int, int, list[str]]] = []
    pos = 0
    prev_end = -1
    pat = regex.compiled
    while pos <= len(s):
        m = pat.search(s, pos)
        if m is None:
            break
        start, end = m.span()
        accept = True
        if end == pos:  # an empty match right here
            if start == prev_end:
                accept = False
            pos += 1
        else:
            pos = end
        prev_end = end
        if accept:
            result.append((start, end, [m.group(0)] + [g if g is not None else "" for g in m.groups()]))
    return result


# Katib's validator: "two top subexpressions are required" is really this regexp (validator.go),
# which only asks for two "(...)" pairs anywhere in the text.
_TWO_BRACKETS = re.compile(r".*\(.*\).*\(.*\).*")


def has_two_subexpressions(pattern: str) -> bool:
    """Katib's (loose) check on a metricsFormat entry; Go's ``.`` stops at newlines like Python's."""
    return _TWO_BRACKETS.search(pattern) is not None
