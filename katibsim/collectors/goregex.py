"""Katib's metric filters are Go regular expressions: compile and run them with RE2, Go's engine family.

Go's ``regexp`` is an RE2 implementation: the same syntax (Perl flags: ASCII ``\\w``/``\\d``/
``\\b``, ``\\s`` without ``\\v``, ``\\pL``, ``\\Q...\\E``, ``(?U)``, ``{,n}`` as a literal) and the
same guarantee, matching in time linear in the text, whatever the filter. katibsim uses Google's
C++ RE2 (package ``google-re2``) on the line's UTF-8 bytes, as Go matches a string's bytes, so a
filter like ``(.*)(.*)(.*)(.*)=(y)`` cannot backtrack for ever on a long line.

Where the two implementations differ, Go's answer is kept: ``\\C`` (one byte) is refused as Go
refuses it, and RE2's error texts are given Go's wording (``invalid nested repetition operator``
...), because Katib's webhook rejects a filter Go cannot compile (katib.md §2.2, §6.2).
:func:`find_all_submatch` reproduces ``Regexp.FindAllStringSubmatch(s, -1)``, including how it
steps over empty matches.
"""

from __future__ import annotations

from dataclasses import dataclass

import re2

from katibsim.errors import InputError

# Katib's DefaultFilter (pkg/metricscollector/v1beta1/common/const.go, since v0.13): name=value.
DEFAULT_FILTER = r"([\w|-]+)\s*=\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)"


class GoRegexError(InputError):
    """A filter Katib's webhook would reject, or one katibsim cannot reproduce."""

    def __init__(self, pattern: str, reason: str, *, katib_rejects: bool = True):
        self.pattern = pattern
        self.reason = reason
        self.katib_rejects = katib_rejects
        who = "Katib rejects this filter" if katib_rejects else "katibsim cannot emulate this Go regexp"
        super().__init__(f"{who}: {pattern!r}: {reason}")


@dataclass(frozen=True)
class GoRegex:
    """A compiled Go regexp: the original text and the RE2 program that runs it on UTF-8 bytes."""

    source: str
    compiled: re2._Regexp

    @property
    def groups(self) -> int:
        return self.compiled.groups


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # RE2 would print every refusal to stderr; the error is ours to report
    return options


# RE2's error texts -> Go's regexp/syntax ErrorCode texts for the same problem.
_GO_WORDING = (
    ("bad repetition operator", "invalid nested repetition operator"),
    ("no argument for repetition operator", "missing argument to repetition operator"),
    ("invalid perl operator", "invalid or unsupported Perl syntax"),
    ("invalid repetition size", "invalid repeat count"),
    ("missing )", "missing closing )"),
    ("missing ]", "missing closing ]"),
    ("trailing \\", "trailing backslash at end of expression"),
    ("invalid named capture group", "invalid named capture"),
)


def _go_reason(message: str) -> tuple[str, bool]:
    """Go's wording of an RE2 refusal, and whether Go refuses it too."""
    if "pattern too large" in message:
        return "the expression is too large for RE2's memory budget (Go's limit differs)", False
    code, sep, arg = message.partition(": ")
    for ours, go in _GO_WORDING:
        if code == ours:
            code = go
            break
    return (f"{code}: `{arg}`" if sep else code), True


def _go_only_refusals(pattern: str) -> str | None:
    """What Go refuses that C++ RE2 accepts: ``\\C`` (match one byte), outside ``\\Q...\\E``."""
    i, n = 0, len(pattern)
    while i < n:
        if pattern[i] != "\\":
            i += 1
            continue
        if i + 1 < n and pattern[i + 1] == "Q":
            end = pattern.find("\\E", i + 2)
            i = n if end < 0 else end + 2
            continue
        if i + 1 < n and pattern[i + 1] == "C":
            return "invalid escape sequence: `\\C`"
        i += 2
    return None


def compile_go(pattern: str) -> GoRegex:
    """Compile a Katib filter (Go RE2 syntax).

    Raises :class:`GoRegexError` when Go would reject it (Katib's webhook then refuses the
    Experiment with "invalid filter").
    """
    refused = _go_only_refusals(pattern)
    if refused:
        raise GoRegexError(pattern, refused)
    try:
        compiled = re2.compile(pattern.encode("utf-8", "replace"), _options())
    except re2.error as err:
        text = err.args[0] if err.args else str(err)
        reason, go_rejects = _go_reason(text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text))
        raise GoRegexError(pattern, reason, katib_rejects=go_rejects) from None
    return GoRegex(source=pattern, compiled=compiled)


def _rune_width(lead: int) -> int:
    return 1 if lead < 0x80 else 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4


def find_all_submatch(regex: GoRegex, s: str) -> list[tuple[int, int, list[str]]]:
    """``FindAllStringSubmatch(s, -1)`` with positions: (start, end, [whole, group1, ...]).

    Positions are indexes into ``s`` (characters). Groups that did not take part are "" (Go),
    not None. Go skips an empty match that touches the previous match and then moves on by one
    character; the loop below follows Go (``regexp.go: allMatches``).
    """
    data = s.encode("utf-8", "replace")
    ascii_only = len(data) == len(s)
    to_char = _OffsetMap(data) if not ascii_only else None
    result: list[tuple[int, int, list[str]]] = []
    pos = 0
    prev_end = -1
    end_of_text = len(data)
    pat = regex.compiled
    while pos <= end_of_text:
        m = pat.search(data, pos)
        if m is None:
            break
        start, end = m.span()
        accept = True
        if end == pos:  # an empty match right here
            if start == prev_end:
                accept = False
            pos += _rune_width(data[pos]) if pos < end_of_text else 1
        else:
            pos = end
        prev_end = end
        if accept:
            found = [m.group(0)] + [g if g is not None else b"" for g in m.groups()]
            texts = [g.decode("utf-8", "replace") for g in found]
            if to_char is not None:
                start, end = to_char(start), to_char(end)
            result.append((start, end, texts))
    return result


class _OffsetMap:
    """Byte offsets of a UTF-8 text -> character offsets, for offsets that mostly increase."""

    def __init__(self, data: bytes):
        self.data = data
        self.byte = 0
        self.char = 0

    def __call__(self, offset: int) -> int:
        if offset < self.byte:
            self.byte, self.char = 0, 0
        self.char += len(self.data[self.byte : offset].decode("utf-8", "replace"))
        self.byte = offset
        return self.char


# Katib's validator: "two top subexpressions are required" is really this regexp (validator.go),
# which only asks for two "(...)" pairs anywhere in the text. Run by RE2 too: it is linear.
_TWO_BRACKETS = re2.compile(rb".*\(.*\).*\(.*\).*", _options())


def has_two_subexpressions(pattern: str) -> bool:
    """Katib's (loose) check on a metricsFormat entry; Go's ``.`` stops at newlines."""
    return _TWO_BRACKETS.search(pattern.encode("utf-8", "replace")) is not None
