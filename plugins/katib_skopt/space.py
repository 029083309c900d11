"""Katib's search-space conversion for skopt, and values both ways.

Katib (``pkg/suggestion/v1beta1/skopt/base_service.py: create_optimizer``):

* int → ``Integer(min, max)``: the step and the distribution are ignored;
* double → ``Real(min, max, "log-uniform")`` **whatever the distribution**: the step is ignored,
  and a range containing 0 (``min <= 0 < max``) makes skopt raise;
* categorical and discrete → ``Categorical(list of strings)``.

Going back, Katib stringifies skopt's values with ``str()``; the host's canonical Python types
have the same ``str()``. Told values go the other way: ``float(str)``, ``int(str)``, the string.
``corrected`` honours the distribution (uniform / normal → a uniform prior, logUniform /
logNormal → log-uniform) for doubles and ints, and gives a parameter with ``min == max`` (which
Katib's webhook accepts and skopt refuses) its one value as a one-category dimension.
"""

from __future__ import annotations

from typing import Any, Mapping

from katibsim.spec.space import Distribution, Parameter, ParameterType, SearchSpace, Value

LOG = (Distribution.LOG_UNIFORM, Distribution.LOG_NORMAL)


def prior_of(p: Parameter, corrected: bool) -> str:
    """The skopt prior Katib (or the corrected service) gives a numeric parameter."""
    if p.type == ParameterType.DOUBLE and not corrected:
        return "log-uniform"
    if corrected and p.distribution in LOG:
        return "log-uniform"
    return "uniform"


def degenerate(p: Parameter) -> bool:
    """An int or double with ``min == max``: one value, which skopt's Integer / Real refuse."""
    return p.type in (ParameterType.INT, ParameterType.DOUBLE) and float(p.min) >= float(p.max)


def dimensions(space: SearchSpace, corrected: bool = False) -> list[Any]:
    """skopt dimensions for ``space``, in parameter order (raises skopt's ValueError as Katib's service does)."""
    from skopt.space import Categorical, Integer, Real

    out: list[Any] = []
    for p in space:
        if corrected and degenerate(p):
            out.append(Categorical([p.format(p.coerce(p.min))], name=p.name))
        elif p.type == ParameterType.INT:
            out.append(Integer(int(p.min), int(p.max), prior=prior_of(p, corrected), name=p.name))
        elif p.type == ParameterType.DOUBLE:
            out.append(Real(float(p.min), float(p.max), prior_of(p, corrected), name=p.name))
        else:
            out.append(Categorical(list(p.values), name=p.name))
    return out


def to_skopt(space: SearchSpace, assignment: Mapping[str, Value], corrected: bool = False) -> list[Any]:
    """A trial's assignment as Katib tells it: ``int(s)``, ``float(s)`` or the string ``s`` of Katib's value string."""
    row: list[Any] = []
    for p in space:
        s = p.format(assignment[p.name])
        if corrected and degenerate(p):
            row.append(p.format(p.coerce(p.min)))
        elif p.type == ParameterType.INT:
            row.append(int(s))
        elif p.type == ParameterType.DOUBLE:
            row.append(float(s))
        else:
            row.append(s)
    return row


def from_skopt(space: SearchSpace, point: list[Any]) -> dict[str, Value]:
    """skopt's point as the assignment Katib creates (``str(value)``), in the host's types.

    A stepped int or double is snapped onto its grid: Katib ignores the step and would create
    the trial off the grid, which the host does not accept as feasible (a documented
    departure, warned about by ``predicted_failures``).
    """
    out: dict[str, Value] = {}
    for p, v in zip(space, point):
        s = str(v)
        if degenerate(p):
            out[p.name] = p.coerce(p.min)
        elif p.type == ParameterType.CATEGORICAL:
            out[p.name] = s
        elif p.type == ParameterType.DISCRETE:
            out[p.name] = p.parse(s)
        else:
            x = p.parse(s)
            out[p.name] = p.snap(float(x)) if p.step is not None and not p.contains(x) else x
    return out
