"""checked_suggest's shortcuts check no less: FastFeasible never passes what SearchSpace.problems rejects
(nor what SearchSpace.coerce would change), and its keys are SearchSpace.key of each assignment."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import numpy as np

from katibsim.algorithm import Algorithm, FastFeasible, FastKey, ObjectiveInfo, checked_suggest
from katibsim.errors import ContractError
from katibsim.spec.space import Parameter, ParameterType, SearchSpace

SPACE = SearchSpace((
    Parameter("x", ParameterType.DOUBLE, -1.5, 2.0),
    Parameter("k", ParameterType.INT, 0, 10),
    Parameter("opt", ParameterType.CATEGORICAL, values=("sgd", "adam")),
))

values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.floats(-2, 3), st.integers(-3, 12), st.booleans(),
    st.sampled_from(["sgd", "adam", "SGD", "", "1.0"]), st.none(), st.just(1.0 + 1e-12), st.just(-1.5),
)
names = st.sampled_from(["x", "k", "opt", "other"])


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(names, values, max_size=4))
def test_fast_feasible_never_passes_an_infeasible_assignment(a):
    if FastFeasible(SPACE)(a):
        assert SPACE.problems(a) == []
        # ...and coerce leaves every value as it is (checked_suggest then only copies them).
        coerced = SPACE.coerce(a)
        assert coerced == a and all(type(coerced[k]) is type(a[k]) for k in a)
        assert list(coerced) == list(SPACE.names)


def test_fast_feasible_passes_the_plain_cases_and_stands_aside_for_the_rest():
    fast = FastFeasible(SPACE)
    assert fast({"x": 0.5, "k": 3, "opt": "adam"})
    assert fast({"x": -1.5, "k": 10, "opt": "sgd"})  # the bounds themselves
    for a in ({"x": 0.5, "k": 3}, {"x": 0.5, "k": 3, "opt": "adam", "y": 1}, {"x": 1, "k": 3, "opt": "adam"},
              {"x": 0.5, "k": 3.0, "opt": "adam"}, {"x": math.nan, "k": 3, "opt": "adam"},
              {"x": 2.5, "k": 3, "opt": "adam"}, {"x": 0.5, "k": True, "opt": "adam"}):
        assert not fast(a)
    # Steps, discrete lists and log scales of ints are left to SearchSpace.problems.
    for p in (Parameter("s", ParameterType.DOUBLE, 0.0, 1.0, step=0.1), Parameter("d", ParameterType.DISCRETE, values=("1", "2"))):
        assert not FastFeasible(SearchSpace((p,))).usable


class Fixed(Algorithm):
    name = "fixed"

    def __init__(self, space, answers):
        super().__init__(space, ObjectiveInfo("loss", maximize=False))
        self.answers = answers

    def suggest(self, trials, count):
        return self.answers[:count]


def test_keys_are_the_space_keys_and_infeasible_answers_still_fail():
    answers = [{"x": 0.25, "k": 2, "opt": "sgd"}, {"x": 1, "k": 2, "opt": "adam"}]  # an int for a double: allowed, coerced
    r = checked_suggest(Fixed(SPACE, answers), [], 2)
    assert r.keys == tuple(SPACE.key(a) for a in r.assignments) == (("0.25", "2", "sgd"), ("1.0", "2", "adam"))
    with pytest.raises(ContractError, match="is outside"):
        checked_suggest(Fixed(SPACE, [{"x": 2.5, "k": 2, "opt": "sgd"}]), [], 1)


KEY_SPACE = SearchSpace(SPACE.parameters + (
    Parameter("d", ParameterType.DISCRETE, values=("16", "0.5", "1e-3")),
    Parameter("s", ParameterType.DOUBLE, 0.0, 1.0, step=0.1),
))
key_values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 20), st.booleans(), st.sampled_from(["sgd", "adam"]),
    st.floats(-2, 2).map(np.float64), st.integers(0, 9).map(np.int64), st.sampled_from([16, 0.5, 0.001, 1e-3]),
)


@settings(max_examples=400, deadline=None)
@given(st.fixed_dictionaries({p.name: key_values for p in KEY_SPACE}))
def test_fast_key_is_space_key(a):
    def outcome(f):
        try:
            return f(a)
        except Exception as exc:  # noqa: BLE001 - the same exception type is part of "the same"
            return type(exc)

    assert outcome(FastKey(KEY_SPACE)) == outcome(KEY_SPACE.key)
