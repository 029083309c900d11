"""The test functions: known optima at known places, domains, vectorisation (docs/objectives.md#test-functions)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import minimize, minimize_scalar

from katibsim_plugins.objectives import functions as F
from katibsim_plugins.objectives.synthetic import FUNCTION_OBJECTIVES, FunctionObjective

BY_NAME = {cls.name: cls for cls in FUNCTION_OBJECTIVES}

# (name, reference optimum, its precision, reference minimisers, domain) from docs/objectives.md#test-functions.
REFERENCE = {
    "branin": (0.397887, 1e-6, [(-math.pi, 12.275), (math.pi, 2.275), (9.42478, 2.475)], [(-5, 10), (0, 15)]),
    "hartmann3": (-3.86278, 1e-5, [(0.114614, 0.555649, 0.852547)], [(0, 1)] * 3),
    "hartmann6": (-3.32237, 1e-5, [(0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573)], [(0, 1)] * 6),
    "ackley": (0.0, 1e-9, [(0.0,) * 5], [(-32.768, 32.768)] * 5),
    "rosenbrock": (0.0, 1e-12, [(1.0,) * 4], [(-5, 10)] * 4),
    "levy": (0.0, 1e-12, [(1.0,) * 4], [(-10, 10)] * 4),
    "styblinski-tang": (-39.16617 * 4, 1e-4, [(-2.903534,) * 4], [(-5, 5)] * 4),
    "six-hump-camel": (-1.031628, 1e-6, [(0.0898, -0.7126), (-0.0898, 0.7126)], [(-3, 3), (-2, 2)]),
    "goldstein-price": (3.0, 1e-12, [(0.0, -1.0)], [(-2, 2), (-2, 2)]),
    "seed-1d": (1.401897, 1e-6, [(2.000874,)], [(-2, 10)]),
}


def test_every_objective_has_a_reference():
    assert set(REFERENCE) == set(BY_NAME)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_optimum_matches_the_reference(name):
    obj = BY_NAME[name]()
    value, precision, points, _ = REFERENCE[name]
    assert obj.optimum == pytest.approx(value, abs=max(precision, 1e-12))
    # The reference minimisers (rounded as published) give the reference value to its precision.
    X = np.array(points, dtype=float)
    tolerance = {"six-hump-camel": 1e-4, "seed-1d": 1e-6, "branin": 1e-6}.get(name, 1e-4)
    np.testing.assert_allclose(obj.values(X), value, atol=tolerance)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_optimum_at_gives_the_optimum(name):
    obj = BY_NAME[name]()
    assert obj.optimum_at
    for point in obj.optimum_at:
        assert obj.noise_free(point) == pytest.approx(obj.optimum, abs=1e-9)
        for spec in obj.inputs:
            assert spec.low <= point[spec.name] <= spec.high


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_domain_matches_the_reference(name):
    obj = BY_NAME[name]()
    bounds = REFERENCE[name][3]
    assert [(i.low, i.high) for i in obj.inputs] == [(float(lo), float(hi)) for lo, hi in bounds]
    expected_names = ["x"] if name == "seed-1d" else [f"x{k + 1}" for k in range(len(bounds))]
    assert [i.name for i in obj.inputs] == expected_names
    assert all(i.type == "double" for i in obj.inputs)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_no_better_point_near_the_optimum_or_at_random(name):
    """The stated optimum is a true local optimum and beats a dense random sample of the domain."""
    obj = BY_NAME[name]()
    sign = 1.0 if obj.direction == "minimize" else -1.0
    start = np.array([obj.optimum_at[0][i.name] for i in obj.inputs])
    bounds = list(zip(obj.lower, obj.upper))
    res = minimize(lambda x: sign * obj.values(x)[0], start, method="L-BFGS-B", bounds=bounds)
    assert sign * res.fun >= sign * obj.optimum - 1e-7
    rng = np.random.default_rng(1)
    X = obj.lower + rng.random((20000, len(obj.inputs))) * (obj.upper - obj.lower)
    assert np.all(sign * obj.values(X) >= sign * obj.optimum - 1e-9)


def test_seed_1d_maxima_verified_numerically():
    """Exactly three local maxima on [-2, 10]: 0.063559, 2.000874 (global, 1.401897), 5.955197."""
    x = np.linspace(-2, 10, 120001)
    y = F.seed_1d(x[:, None])
    peaks = np.flatnonzero((y[1:-1] > y[:-2]) & (y[1:-1] > y[2:])) + 1
    assert len(peaks) == 3
    polished = []
    for k in peaks:
        res = minimize_scalar(lambda v: -F.seed_1d([v])[0], bracket=(x[k - 1], x[k], x[k + 1]), tol=1e-12)
        polished.append((res.x, -res.fun))
    xs = [p[0] for p in polished]
    np.testing.assert_allclose(xs, [0.063559, 2.000874, 5.955197], atol=1e-6)
    best = max(polished, key=lambda p: p[1])
    assert best[0] == pytest.approx(2.000874, abs=1e-6)
    assert best[1] == pytest.approx(1.401897, abs=1e-6)
    # Endpoints are lower than the global maximum.
    assert F.seed_1d([[-2.0], [10.0]]).max() < best[1]
    obj = BY_NAME["seed-1d"]()
    assert obj.direction == "maximize" and obj.metric_name == "objective"
    for (lx, lv) in obj.local_maxima:
        assert F.seed_1d([lx])[0] == pytest.approx(lv, abs=1e-12)


@pytest.mark.parametrize("cls", FUNCTION_OBJECTIVES, ids=lambda c: c.name)
def test_vectorised_matches_pointwise(cls):
    obj = cls()
    rng = np.random.default_rng(7)
    X = obj.lower + rng.random((50, len(obj.inputs))) * (obj.upper - obj.lower)
    batch = obj.values(X)
    assert batch.shape == (50,)
    single = np.array([obj.noise_free({i.name: v for i, v in zip(obj.inputs, row)}) for row in X])
    np.testing.assert_allclose(batch, single, rtol=1e-13, atol=1e-13)
    assert obj.values(X[0]).shape == (1,)  # one point given as (d,)


@pytest.mark.parametrize(
    "fn,dim", [(F.branin, 2), (F.hartmann3, 3), (F.hartmann6, 6), (F.six_hump_camel, 2), (F.goldstein_price, 2), (F.seed_1d, 1)]
)
def test_fixed_dimension_functions_reject_a_wrong_dimension(fn, dim):
    with pytest.raises(ValueError, match=f"expected {dim} coordinates"):
        fn(np.zeros((3, dim + 1)))


@pytest.mark.parametrize(
    "name,default,minimum", [("ackley", 5, 1), ("rosenbrock", 4, 2), ("levy", 4, 1), ("styblinski-tang", 4, 1)]
)
def test_dimension_option(name, default, minimum):
    cls = BY_NAME[name]
    assert len(cls().inputs) == default
    for dim in (minimum, 7):
        obj = cls(dim=dim)
        assert [i.name for i in obj.inputs] == [f"x{k + 1}" for k in range(dim)]
        assert obj.noise_free(obj.optimum_at[0]) == pytest.approx(obj.optimum, abs=1e-9)
    if name == "styblinski-tang":
        assert cls(dim=7).optimum == pytest.approx(-39.16617 * 7, abs=1e-4)
    from katibsim.errors import SpecError

    with pytest.raises(SpecError, match="objective.options.dim"):
        cls(dim=minimum - 1)


def test_fixed_dimension_objectives_have_no_dim_option():
    from katibsim.errors import SpecError

    with pytest.raises(SpecError, match="unknown option dim"):
        BY_NAME["branin"](dim=3)


def test_every_objective_is_a_function_objective_with_a_unique_name():
    names = [cls.name for cls in FUNCTION_OBJECTIVES]
    assert len(set(names)) == len(names)
    for cls in FUNCTION_OBJECTIVES:
        assert issubclass(cls, FunctionObjective)
        assert cls.description
        obj = cls()
        assert obj.metric_name == ("objective" if cls.name == "seed-1d" else cls.name)
        assert obj.direction == ("maximize" if cls.name == "seed-1d" else "minimize")
