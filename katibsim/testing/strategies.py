"""Hypothesis strategies for the conformance kit: Katib search spaces, feasible assignments, histories.

Spaces are written as Katib would receive them (``ParameterSpec`` with string numbers, artefacts
such as ``0.30000000000000004`` included) and parsed by :meth:`SearchSpace.from_specs`, so what
the kit feeds an algorithm is exactly what the host will. Histories mix every trial condition and
the awkward values real experiments produce: NaN, infinities, no value, running trials.
"""

from __future__ import annotations

import math
from typing import Sequence

from hypothesis import strategies as st

from katibsim.algorithm import Capabilities, Metric, Observation, ObjectiveInfo, Trial, TrialCondition
from katibsim.spec.model import FeasibleSpace, ParameterSpec
from katibsim.spec.space import Distribution, ParameterType, SearchSpace, Value

NAMES = ("lr", "--batch_size", "momentum", "optimizer", "num-layers", "dropout", "x", "y", "weight_decay", "z")
CATEGORIES = ("sgd", "adam", "rmsprop", "ftrl", "b b", "ünï", "0.1", "-1")
LOG_DISTRIBUTIONS = (Distribution.LOG_UNIFORM, Distribution.LOG_NORMAL)


def _num(x: float) -> str:
    """A Katib number string: ints without a point, floats by repr (as a user or a tool writes them)."""
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(float(x))


@st.composite
def double_specs(draw, name: str, distributions: Sequence[Distribution], needs_step: bool = False) -> ParameterSpec:
    dist = draw(st.sampled_from(sorted(distributions)))
    if dist in LOG_DISTRIBUTIONS:
        lo = draw(st.sampled_from((1e-5, 1e-3, 0.01, 0.1, 0.5, 1.0, 3.0)))
        hi = lo * draw(st.sampled_from((1.0, 1.5, 10.0, 1000.0)))
    else:
        lo = draw(st.integers(-1000, 1000)) / draw(st.sampled_from((1, 10, 100, 1000)))
        hi = lo + draw(st.sampled_from((0.0, 0.001, 0.1, 1.0, 3.5, 10.0, 1000.0)))
    step = None
    if needs_step or draw(st.booleans()):
        k = draw(st.integers(1, 12))
        step = (hi - lo) / k if hi > lo else 1.0
    return ParameterSpec(
        name,
        "double",
        FeasibleSpace(min=_num(lo), max=_num(hi), step=None if step is None else repr(step), distribution=dist.value),
    )


@st.composite
def int_specs(draw, name: str, distributions: Sequence[Distribution]) -> ParameterSpec:
    dist = draw(st.sampled_from(sorted(distributions)))
    lo = draw(st.integers(1, 100)) if dist in LOG_DISTRIBUTIONS else draw(st.integers(-50, 50))
    hi = lo + draw(st.integers(0, 60))
    step = draw(st.one_of(st.none(), st.integers(1, 7)))
    return ParameterSpec(
        name, "int", FeasibleSpace(min=str(lo), max=str(hi), step=None if step is None else str(step), distribution=dist.value)
    )


@st.composite
def discrete_specs(draw, name: str) -> ParameterSpec:
    nums = draw(
        st.lists(
            st.one_of(st.integers(-100, 100), st.sampled_from((0.5, 0.001, 1e-4, 2.5, -3.25, 16.0))),
            min_size=1,
            max_size=5,
            unique_by=float,
        )
    )
    return ParameterSpec(name, "discrete", FeasibleSpace(list=tuple(_num(n) if isinstance(n, int) else repr(n) for n in nums)))


@st.composite
def categorical_specs(draw, name: str) -> ParameterSpec:
    values = draw(st.lists(st.sampled_from(CATEGORIES), min_size=1, max_size=5, unique=True))
    return ParameterSpec(name, "categorical", FeasibleSpace(list=tuple(values)))


@st.composite
def parameter_specs(draw, name: str, capabilities: Capabilities = Capabilities()) -> ParameterSpec:
    """One ``ParameterSpec`` the algorithm declares it supports."""
    types = sorted(capabilities.parameter_types)
    ptype = draw(st.sampled_from(types))
    dists = sorted(capabilities.distributions) or [Distribution.UNIFORM]
    if ptype == ParameterType.DOUBLE:
        return draw(double_specs(name, dists, capabilities.double_needs_step))
    if ptype == ParameterType.INT:
        return draw(int_specs(name, dists))
    if ptype == ParameterType.DISCRETE:
        return draw(discrete_specs(name))
    return draw(categorical_specs(name))


@st.composite
def search_spaces(
    draw, capabilities: Capabilities = Capabilities(), *, min_params: int = 1, max_params: int = 4
) -> SearchSpace:
    """A search space of 1-4 parameters whose types and distributions the algorithm supports."""
    names = draw(st.lists(st.sampled_from(NAMES), min_size=min_params, max_size=max_params, unique=True))
    specs = [draw(parameter_specs(n, capabilities)) for n in names]
    return SearchSpace.from_specs(specs)


def values(space: SearchSpace, name: str) -> st.SearchStrategy[Value]:
    """Feasible values of one parameter (grid values where the parameter has a step)."""
    p = space[name]
    if p.type == ParameterType.CATEGORICAL:
        return st.sampled_from(p.values)
    if p.type in (ParameterType.DISCRETE,) or p.step is not None:
        return st.sampled_from([p.coerce(v) for v in p.grid_values()])
    lo, hi = p.bounds
    if p.type == ParameterType.INT:
        return st.integers(int(lo), int(hi))
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def assignments(space: SearchSpace) -> st.SearchStrategy[dict[str, Value]]:
    """Feasible assignments of ``space`` (canonical Python types)."""
    return st.fixed_dictionaries({p.name: values(space, p.name) for p in space})


OBJECTIVE = "objective"


def objective_values() -> st.SearchStrategy[float | None]:
    """Mostly ordinary values (so model-based algorithms get to fit), sometimes NaN, inf or none."""
    return _OBJECTIVE_VALUES


_FINITE = st.floats(-1e6, 1e6, allow_nan=False)
_OBJECTIVE_VALUES = st.one_of(_FINITE, _FINITE, _FINITE, _FINITE, st.sampled_from((math.nan, math.inf, -math.inf)),
                              st.none())

# Succeeded trials dominate real histories; every other condition still appears.
CONDITIONS = [TrialCondition.SUCCEEDED] * 6 + [c for c in TrialCondition if c != TrialCondition.SUCCEEDED]

# Built once: a history draws these for every trial, and building (and validating) a strategy costs
# more than drawing from it (most of the kit's time went there).
_CONDITION = st.sampled_from(CONDITIONS)
_CURVE = st.lists(_FINITE, max_size=4)
_START = st.floats(0, 1e5, allow_nan=False)
_DURATION = st.floats(0, 1e4, allow_nan=False)


@st.composite
def _trial_parts(draw, pick: st.SearchStrategy[dict[str, Value]]) -> tuple:
    """Everything of a trial but its name (see :func:`trials`)."""
    condition = draw(_CONDITION)
    assignment = draw(pick)
    value = None
    observation = None
    intermediate: tuple[tuple[int, float], ...] = ()
    if condition in (TrialCondition.SUCCEEDED, TrialCondition.EARLY_STOPPED):
        value = draw(_OBJECTIVE_VALUES)
    if condition in (TrialCondition.RUNNING, TrialCondition.SUCCEEDED, TrialCondition.EARLY_STOPPED):
        curve = draw(_CURVE)
        intermediate = tuple((i + 1, v) for i, v in enumerate(curve))
    if value is not None:
        observation = Observation((Metric(OBJECTIVE, min=value, max=value, latest=value),))
    start = draw(_START)
    end = None if condition.is_active else start + draw(_DURATION)
    return assignment, condition, value, observation, intermediate, start, end


def trials(space: SearchSpace, name: str) -> st.SearchStrategy[Trial]:
    """One trial in any condition with the values Katib can hand an algorithm."""
    return _trial_parts(assignments(space)).map(lambda parts: Trial(name, *parts))


@st.composite
def histories(draw, space: SearchSpace, *, min_size: int = 0, max_size: int = 12) -> tuple[Trial, ...]:
    """A history of trials with unique names, in creation order."""
    n = draw(st.integers(min_size, max_size))
    parts = _trial_parts(assignments(space))  # one strategy for the whole history
    return tuple(Trial(f"trial-{i}", *draw(parts)) for i in range(n))


def objectives() -> st.SearchStrategy[ObjectiveInfo]:
    return st.builds(
        ObjectiveInfo,
        metric_name=st.just(OBJECTIVE),
        maximize=st.booleans(),
        goal=st.one_of(st.none(), st.floats(-10, 10, allow_nan=False)),
    )


@st.composite
def cases(draw, capabilities: Capabilities = Capabilities(), *, max_count: int = 4, max_history: int = 24):
    """(space, objective, history, count): one request an algorithm must answer."""
    space = draw(search_spaces(capabilities))
    history = draw(histories(space, max_size=max_history))
    count = draw(st.integers(1, max_count))
    return space, draw(objectives()), history, count
