"""goptuna's view of a Katib search space (Katib's ``converter.go``) and its value conversions.

Katib's goptuna service turns each parameter into a goptuna distribution, ignoring the
``distribution`` field: a double is ``Uniform`` (``DiscreteUniform`` with a step), an int
``IntUniform`` (``StepIntUniform`` with a step), categorical **and discrete** are ``Categorical``
over the list's strings. Samplers work on goptuna's *internal* floats; ``external`` turns one into
the value Katib sends (goptuna's ``ToExternalRepr``), snapped onto katibsim's feasible space where
goptuna's rounding can step past ``max`` (a step that does not divide ``max - min``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from katibsim.spec.space import Parameter, ParameterType, SearchSpace, Value, parse_number

UNIFORM, DISCRETE_UNIFORM, INT_UNIFORM, STEP_INT_UNIFORM, CATEGORICAL = (
    "Uniform", "DiscreteUniform", "IntUniform", "StepIntUniform", "Categorical")
CONTINUOUS = (UNIFORM, DISCRETE_UNIFORM, INT_UNIFORM, STEP_INT_UNIFORM)


def go_round(x: float) -> float:
    """Go's ``math.Round``: half away from zero (Python's ``round`` rounds half to even)."""
    return math.copysign(math.floor(abs(x) + 0.5), x)


@dataclass(frozen=True)
class Distribution:
    """One goptuna distribution: its kind, bounds (ints for the int kinds), step and choices."""

    name: str  # the Katib parameter
    kind: str
    low: float = 0.0
    high: float = 0.0
    step: float = 0.0
    choices: tuple[str, ...] = ()
    parameter: Parameter | None = None

    def external(self, internal: float) -> Value:
        """goptuna's ``ToExternalRepr`` of an internal float, as a katibsim value of the parameter."""
        p = self.parameter
        assert p is not None
        if self.kind == UNIFORM:
            v: float = internal
        elif self.kind == DISCRETE_UNIFORM:
            v = math.floor((internal - self.low) / self.step + 0.5) * self.step + self.low
        elif self.kind == INT_UNIFORM:
            v = go_round(internal)
        elif self.kind == STEP_INT_UNIFORM:
            v = go_round((internal - self.low) / self.step) * self.step + self.low
        else:
            choice = self.choices[int(internal)]
            return choice if p.type == ParameterType.CATEGORICAL else parse_number(choice)
        return p.snap(v)

    def internal(self, value: Value) -> float:
        """The internal float goptuna derives from a value Katib sends back (``toGoptunaParams``)."""
        if self.kind == CATEGORICAL:
            return float(self.choices.index(self.parameter.format(value)))  # type: ignore[union-attr]
        return float(value)


def distributions(space: SearchSpace) -> dict[str, Distribution]:
    """The goptuna search space of ``space`` (Katib's ``toGoptunaSearchSpace``), by parameter name."""
    out: dict[str, Distribution] = {}
    for p in space:
        if p.type == ParameterType.DOUBLE:
            kind = UNIFORM if p.step is None else DISCRETE_UNIFORM
            out[p.name] = Distribution(p.name, kind, float(p.min), float(p.max), float(p.step or 0.0), parameter=p)
        elif p.type == ParameterType.INT:
            kind = INT_UNIFORM if not p.step else STEP_INT_UNIFORM
            out[p.name] = Distribution(p.name, kind, int(p.min), int(p.max), int(p.step or 1), parameter=p)
        else:
            out[p.name] = Distribution(p.name, CATEGORICAL, choices=tuple(p.values), parameter=p)
    return out


def ordered(dists: dict[str, Distribution]) -> list[str]:
    """goptuna's parameter order: names sorted (Go's ``sort.Strings``, byte order = code-point order)."""
    return sorted(dists)
