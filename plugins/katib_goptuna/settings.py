"""Katib's goptuna settings as ``converter.go`` reads them: Go's ``strconv`` rules and messages.

The service parses settings only while building its study. ``ValidateAlgorithmSettings`` builds
one too, but a failure there is reported with gRPC code ``Internal``, which Katib's suggestion
controller treats as *valid*; so a bad value passes validation and then fails every
``GetSuggestions`` call. Unknown setting names are ignored.
"""

from __future__ import annotations

import re

_INT = re.compile(r"^[+-]?[0-9]+$")
_FLOAT = re.compile(r"^[+-]?(?:inf|infinity|nan|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)$", re.IGNORECASE)


def go_atoi(text: str) -> int:
    """Go's ``strconv.Atoi``; raises ValueError with Go's message."""
    if not _INT.match(text):
        raise ValueError(f'strconv.Atoi: parsing "{text}": invalid syntax')
    value = int(text)
    if not -(2**63) <= value < 2**63:
        raise ValueError(f'strconv.Atoi: parsing "{text}": value out of range')
    return value


def go_parse_float(text: str) -> float:
    """Go's ``strconv.ParseFloat(s, 64)``; raises ValueError with Go's message."""
    if not _FLOAT.match(text):
        raise ValueError(f'strconv.ParseFloat: parsing "{text}": invalid syntax')
    return float(text)


def cmaes_options(settings: dict[str, str]) -> tuple[dict[str, object], tuple[str, str] | None]:
    """``random_state``, ``sigma``, ``restart_strategy`` in setting order, as ``toGoptunaSampler``.

    Returns the options read so far and, on the first bad value, ``(setting, Go error)``.
    """
    out: dict[str, object] = {}
    for name, value in settings.items():
        try:
            if name == "random_state":
                out["seed"] = go_atoi(value)
            elif name == "sigma":
                out["sigma"] = go_parse_float(value)
            elif name == "restart_strategy":
                if value in ("ipop", "bipop"):
                    out["restart_strategy"] = value
                elif value != "none":
                    raise ValueError(f"invalid restart_strategy: '{value}'")
        except ValueError as exc:
            return out, (name, str(exc))
    return out, None
