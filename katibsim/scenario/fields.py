"""The scenario reader's building blocks: an error collector and readers for single fields.

Every reader takes the collector, the field path and the raw YAML value, records a
:class:`FieldError` at that path when the value is wrong (never raises), and returns the value
it could make of it, or None. A misspelt name gets a "did you mean" from :mod:`difflib`, the way
the experiment loader's unknown-field warnings do.
"""

from __future__ import annotations

import difflib
import math
from typing import Any, Iterable, Mapping

from katibsim.errors import FieldError

__all__ = ["Errors", "close_match", "did_you_mean", "known", "mapping", "number", "one_of", "setting_str"]


class Errors:
    """Collects the FieldErrors of one document (every problem is reported, not only the first)."""

    def __init__(self, file: str | None):
        self.file = file
        self.items: list[FieldError] = []

    def add(self, path: str, message: str, value: Any = None, kind: str = "invalid") -> None:
        self.items.append(FieldError(path=path, message=message, file=self.file, value=_shown(value), kind=kind))

    def required(self, path: str, message: str) -> None:
        self.add(path, message, kind="required")


def _shown(value: Any) -> Any:
    """A value worth quoting in a message: scalars as they are, containers left out (their
    content is what the path points into, and a deep one would flood the terminal)."""
    return value if isinstance(value, (str, int, float, bool)) or value is None else None


_CLOSE_MATCH_LIMIT = 2000  # difflib compares with every choice: a huge sweep's names get the case check only


def close_match(word: Any, choices: Iterable[str]) -> str | None:
    """The known name ``word`` was most likely meant to be (case first, then difflib)."""
    if not isinstance(word, str) or not word:
        return None
    choices = [c for c in choices if isinstance(c, str)]
    lowered = {c.lower(): c for c in choices}
    if word.lower() in lowered:
        return lowered[word.lower()]
    if len(choices) > _CLOSE_MATCH_LIMIT:
        return None
    found = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return found[0] if found else None


def did_you_mean(word: Any, choices: Iterable[str]) -> str:
    """``" (did you mean X?)"`` when ``word`` is close to a known name, else ``""``."""
    match = close_match(word, choices)
    return f" (did you mean {match}?)" if match is not None and match != word else ""


def known(names: Iterable[Any], *, limit: int = 12) -> str:
    """``a, b, c`` for a message, cut after ``limit`` names (a sweep may make thousands)."""
    names = sorted(str(n) for n in names)
    if len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[:limit]) + f", ... ({len(names) - limit} more)"


def setting_str(v: Any) -> str:
    """Katib settings are strings; YAML numbers and booleans become their usual spelling."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def number(e: Errors, path: str, v: Any, *, integer: bool = False, positive: bool = False, nonneg: bool = False) -> Any:
    """A number (an int with ``integer``; a float otherwise), or None after recording why not."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        e.add(path, "must be a number" if not integer else "must be an integer", v)
        return None
    if integer and (isinstance(v, float) and not v.is_integer()):
        e.add(path, "must be an integer", v)
        return None
    if isinstance(v, float) and not math.isfinite(v):
        e.add(path, "must be finite", v)
        return None
    if positive and v <= 0:
        e.add(path, "must be > 0", v)
        return None
    if nonneg and v < 0:
        e.add(path, "must be >= 0", v)
        return None
    return int(v) if integer else float(v)


def mapping(e: Errors, path: str, v: Any, *, allowed: Iterable[str] | None = None) -> Mapping[str, Any] | None:
    """``v`` when it is a mapping (unknown keys recorded, with a did-you-mean), else None."""
    if not isinstance(v, Mapping):
        e.add(path, "must be a mapping", v)
        return None
    if allowed is not None:
        known = sorted(allowed)
        for k in v:
            if k not in known:
                where = f"{path}.{k}" if path else str(k)
                e.add(where, f"unknown field{did_you_mean(k, known)}; expected one of {', '.join(known)}", kind="not-supported")
    return v


def one_of(e: Errors, path: str, v: Any, choices: Iterable[str], *, what: str = "must be one of") -> str | None:
    """``v`` when it is one of the names ``choices`` (a string), else None after recording it."""
    names = list(choices)
    if isinstance(v, str) and v in names:
        return v
    e.add(path, f"{what} {', '.join(names)}{did_you_mean(v, names)}", v)
    return None
