"""`random`'s speed-ups change no number: prepared samplers draw what Parameter.sample draws, and the
call generators are numpy's ``default_rng([seed, n])``."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from katibsim.algorithm import ObjectiveInfo, Trial, TrialCondition
from katibsim.spec.space import Distribution, Parameter, ParameterType
from katibsim_plugins.random_search import CallGenerators, RandomSearch, sampler
from plugin_helpers import pspec, space_of

OBJ = ObjectiveInfo("loss", maximize=False)

PARAMETERS = [
    Parameter("u", ParameterType.DOUBLE, -5.0, 5.0),
    Parameter("tiny", ParameterType.DOUBLE, 0.1, 0.1000001),
    Parameter("point", ParameterType.DOUBLE, 2.0, 2.0),
    Parameter("lu", ParameterType.DOUBLE, 1e-5, 0.1, distribution=Distribution.LOG_UNIFORM),
    # A log distribution with min <= 0 cannot pass validation; Parameter.sample then stays linear.
    Parameter("lu0", ParameterType.DOUBLE, 0.0, 3.0, distribution=Distribution.LOG_UNIFORM),
    Parameter("i", ParameterType.INT, -3, 7),
    Parameter("i1", ParameterType.INT, 4, 4),
    Parameter("c", ParameterType.CATEGORICAL, values=("sgd", "adam", "ftrl")),
    # Not prepared: Parameter.sample itself.
    Parameter("n", ParameterType.DOUBLE, 0.0, 1.0, distribution=Distribution.NORMAL),
    Parameter("ln", ParameterType.DOUBLE, 0.01, 1.0, distribution=Distribution.LOG_NORMAL),
    Parameter("s", ParameterType.DOUBLE, 0.0, 1.0, step=0.1),
    Parameter("is", ParameterType.INT, 0, 20, step=3),
    Parameter("il", ParameterType.INT, 1, 1000, distribution=Distribution.LOG_UNIFORM),
    Parameter("d", ParameterType.DISCRETE, values=("16", "32", "0.5")),
]


@pytest.mark.parametrize("p", PARAMETERS, ids=lambda p: p.name)
def test_prepared_sampler_draws_what_parameter_sample_draws(p):
    a, b = np.random.default_rng(11), np.random.default_rng(11)
    draw = sampler(p)
    for _ in range(500):
        x, y = draw(a), p.sample(b)
        assert x == y and type(x) is type(y)
    # Same consumption of the stream, too.
    assert a.bit_generator.state == b.bit_generator.state


@settings(max_examples=60, deadline=None)
@given(lo=st.floats(-1e6, 1e6), width=st.floats(0, 1e6), log=st.booleans(), seed=st.integers(0, 2**32))
def test_prepared_double_sampler_property(lo, width, log, seed):
    hi = lo + width
    dist = Distribution.LOG_UNIFORM if log else Distribution.UNIFORM
    p = Parameter("x", ParameterType.DOUBLE, lo, hi, distribution=dist)
    a, b = np.random.default_rng(seed), np.random.default_rng(seed)
    draw = sampler(p)
    assert [draw(a) for _ in range(20)] == [p.sample(b) for _ in range(20)]


def same_generator(g: np.random.Generator, seed: int, n: int) -> bool:
    return g.bit_generator.state == np.random.default_rng([seed, n]).bit_generator.state


@pytest.mark.parametrize("seed", [0, 1, 12345, 2**31, 2**32 - 1, 2**32, 2**40 + 3])
def test_call_generators_are_default_rng_of_seed_and_n(seed):
    gens = CallGenerators(seed)
    # Successive n across block boundaries, a repeat, a step back, a jump, and successive again.
    ns = list(range(0, 2 * CallGenerators.MAX_BLOCK + 900, 9)) + [40, 40, 39, 5000, 5001, 5002, 5066, 5200, 5201,
                                                                   2**32 - 2, 2**32 - 1, 2**32]
    for n in ns:
        g = gens(n)
        assert same_generator(g, seed, n), (seed, n)
        assert g.random(3).tolist() == np.random.default_rng([seed, n]).random(3).tolist()
    assert gens._fast == (seed < 2**32)  # the fast path was taken (and never switched itself off)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), start=st.integers(0, 2**32 - 600), steps=st.lists(st.integers(0, 3), max_size=30))
def test_call_generators_property(seed, start, steps):
    gens = CallGenerators(seed)
    n = start
    for s in [0, *steps]:
        n += s
        assert same_generator(gens(n), seed, n)


def test_random_search_pickles_and_answers_the_same():
    space = space_of(pspec("x", "double", min="-1", max="1"), pspec("k", "int", min="0", max="9"))
    alg = RandomSearch(space, OBJ, {}, 3)
    history: list[Trial] = []
    for _ in range(5):
        for a in alg.suggest(history, 2):
            history.append(Trial(f"t{len(history)}", a, TrialCondition.SUCCEEDED, 0.0))
    for other in (pickle.loads(pickle.dumps(alg)), copy.deepcopy(alg), RandomSearch(space, OBJ, {}, 3)):
        assert other.suggest(history, 3) == alg.suggest(history, 3)
