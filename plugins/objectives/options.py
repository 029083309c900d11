"""Checking and coercing objective options (from scenario YAML or the CLI) into typed values.

Options arrive as keyword arguments that may be strings (``noise: "0.1"`` in YAML, ``noise=0.1`` on
a command line); a wrong key or value is a :class:`SpecError` at the scenario path
``objective.options.<key>`` naming the objective, the option and what was expected (the plugin host
reports unknown option names the same way), never a bare ``TypeError``. A point without the
objective's inputs is a :class:`SpecError` at ``objective.inputs``.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Mapping

import numpy as np

from katibsim.errors import FieldError, SpecError
from katibsim.objective import ObjectiveInput


def option_error(objective: str, key: str, message: str, value: Any = None) -> SpecError:
    """A bad option: ``objective.options.<key>: Invalid value: <v>: objective <name>: <message>``."""
    return SpecError(FieldError(f"objective.options.{key}", f"objective {objective}: {message}", value=value))


def input_error(objective: str, message: str, value: Any = None) -> SpecError:
    """A point the objective cannot evaluate (missing or non-numeric inputs)."""
    return SpecError(FieldError("objective.inputs", f"objective {objective}: {message}", value=value))


def check_known(objective: str, options: Mapping[str, Any], allowed: Iterable[str]) -> None:
    """Reject option names the objective does not know (typos would otherwise be silently ignored)."""
    allowed = sorted(allowed)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise SpecError(
            [
                FieldError(
                    f"objective.options.{key}",
                    f"objective {objective}: unknown option {key}; known options: {', '.join(allowed)}",
                    kind="not-supported",
                )
                for key in unknown
            ]
        )


def as_float(
    objective: str,
    key: str,
    value: Any,
    *,
    low: float | None = None,
    low_open: bool = False,
) -> float:
    """A finite float option, at least ``low`` (or strictly above it when ``low_open``)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise option_error(objective, key, "must be a number", value) from None
    if not math.isfinite(v):
        raise option_error(objective, key, "must be finite", value)
    if low is not None and (v <= low if low_open else v < low):
        relation = ">" if low_open else ">="
        raise option_error(objective, key, f"must be {relation} {low}", value)
    return v


def as_int(objective: str, key: str, value: Any, *, low: int) -> int:
    """An integer option of at least ``low`` ("10" and 10.0 are accepted, 10.5 is not)."""
    v = as_float(objective, key, value)
    if v != int(v):
        raise option_error(objective, key, "must be an integer", value)
    if v < low:
        raise option_error(objective, key, f"must be >= {low}", value)
    return int(v)


def as_float_map(
    objective: str, key: str, value: Any, names: Iterable[str]
) -> dict[str, float]:
    """A mapping of input name -> number (``{x1: 1.0}`` in YAML, ``"x1:1.0,x2:0.5"`` on a command line)."""
    if value is None:
        return {}
    if isinstance(value, str):
        parsed: dict[str, str] = {}
        for item in filter(None, (part.strip() for part in value.split(","))):
            name, sep, number = item.rpartition(":")
            if not sep or not name:
                raise option_error(objective, key, "must look like NAME:NUMBER[,NAME:NUMBER...]", value)
            parsed[name.strip()] = number.strip()
        value = parsed
    if not isinstance(value, Mapping):
        raise option_error(objective, key, "must map input names to numbers", value)
    names = list(names)
    out: dict[str, float] = {}
    for name, number in value.items():
        if name not in names:
            raise option_error(objective, f"{key}.{name}", f"unknown input {name}; inputs: {', '.join(names)}", name)
        out[str(name)] = as_float(objective, f"{key}.{name}", number)
    return out


def point_vector(
    objective: str, x: Mapping[str, Any], inputs: tuple[ObjectiveInput, ...]
) -> np.ndarray:
    """The numeric coordinates of ``x`` in the order of ``inputs`` (Katib strings are parsed)."""
    missing = [i.name for i in inputs if i.name not in x]
    if missing:
        raise input_error(
            objective,
            f"missing input(s) {', '.join(missing)}; got {', '.join(map(str, x)) or 'nothing'}; "
            f"expected {', '.join(i.name for i in inputs)}",
        )
    out = np.empty(len(inputs))
    for k, spec in enumerate(inputs):
        raw = x[spec.name]
        try:
            out[k] = float(raw)
        except (TypeError, ValueError):
            raise input_error(objective, f"input {spec.name} must be a number", raw) from None
    return out


def unit_position(value: float, spec: ObjectiveInput) -> float:
    """Where ``value`` sits in the input's range, 0 at ``low`` and 1 at ``high`` (clipped; log inputs in log)."""
    if spec.high <= spec.low:
        return 0.0
    if spec.log and spec.low > 0 and value > 0:
        u = (math.log(value) - math.log(spec.low)) / (math.log(spec.high) - math.log(spec.low))
    else:
        u = (value - spec.low) / (spec.high - spec.low)
    return min(1.0, max(0.0, u))
