"""Output warping: the Yeo-Johnson transform, its inverse and the likelihood fit of its exponent."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from katibsim.algorithm import ObjectiveInfo, Trial, TrialCondition
from katibsim.spec.space import Parameter, ParameterType, SearchSpace
from katibsim_plugins.katibsim_bo.plugin import KatibsimBO
from katibsim_plugins.katibsim_bo.warping import fit_lambda, yeo_johnson, yeo_johnson_inverse


@pytest.mark.parametrize("lam", [-0.5, 0.0, 0.7, 1.0, 2.0, 2.5])
def test_transform_matches_scipy_and_inverts(lam):
    y = np.linspace(-3, 3, 25)
    np.testing.assert_allclose(yeo_johnson(y, lam), stats.yeojohnson(y, lmbda=lam), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(yeo_johnson_inverse(yeo_johnson(y, lam), lam), y, rtol=1e-9, atol=1e-9)


def test_fitted_exponent_matches_scipy():
    y = np.random.default_rng(0).standard_normal(60) ** 3
    y = (y - y.mean()) / y.std()
    _, ref = stats.yeojohnson(y)
    assert abs(fit_lambda(y) - ref) < 0.02


def test_few_or_constant_observations_are_not_warped():
    assert fit_lambda(np.array([0.0, 1.0, -1.0])) == 1.0  # too few to estimate
    assert fit_lambda(np.zeros(12)) == 1.0


def test_power_warping_on_a_heavy_tailed_objective():
    space = SearchSpace(tuple(Parameter(f"x{i}", ParameterType.DOUBLE, min=-5.0, max=10.0) for i in range(2)))
    obj = ObjectiveInfo("loss", maximize=False)

    def rosen(a):
        x, y = a["x0"], a["x1"]
        return 100 * (y - x * x) ** 2 + (1 - x) ** 2

    algo = KatibsimBO(space, obj, {"output_warping": "power", "n_initial_points": "6"}, seed=2)
    trials = []
    for i in range(16):
        a = algo.suggest(trials, 1)[0]
        trials.append(Trial(f"t{i}", a, TrialCondition.SUCCEEDED, value=rosen(a)))
    info = algo.introspect(trials, param="x0", points=20)
    assert info["warping_lambda"] is not None and info["warping_lambda"] > 1.0  # the bad tail is compressed
    assert np.all(np.isfinite(info["mean"])) and np.all(np.array(info["std"]) >= 0)
    # Mapping the model's units back to the objective inverts the standardise-and-warp exactly.
    used, X, y, pending, costs = algo._history(trials)
    post, units = algo._model(X, y)
    assert units.lam == info["warping_lambda"]
    np.testing.assert_allclose(units.to_internal(post.y), y, rtol=1e-8, atol=1e-8 * np.abs(y).max())
