"""Acquisition values and analytic gradients (checked against finite differences)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import norm

from katibsim_plugins.katibsim_bo.acquisition import Acquisition, CostModel, Scorer, log_h
from katibsim_plugins.katibsim_bo.gp import Hyper, Posterior, standardize


def _posterior(cat=False, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((12, 3))
    mask = np.array([False, False, cat])
    if cat:
        X[:, 2] = np.floor(X[:, 2] * 3)
    ys, _, _ = standardize(np.cos(5 * X[:, 0]) + X[:, 1])
    return Posterior(X, ys, Hyper(np.array([4.0, 2.0, 1.0]), 1.3, 1e-4), mask), mask


def test_log_h_matches_the_closed_form_and_stays_finite():
    z = np.linspace(-5, 5, 41)
    np.testing.assert_allclose(log_h(z), np.log(norm.pdf(z) + z * norm.cdf(z)), rtol=1e-10, atol=1e-12)
    far = log_h(np.array([-40.0, -1e3, -1e5, -1e9]))
    assert np.all(np.isfinite(far)) and np.all(np.diff(far) < 0)
    # asymptote h(z) ~ phi(z) / z^2 for z -> -inf
    assert abs(log_h(np.array([-40.0]))[0] - (norm.logpdf(-40.0) - 2 * np.log(40.0))) < 1e-2


@pytest.mark.parametrize("kind", ["ucb", "ei", "logei", "pi"])
@pytest.mark.parametrize("cat", [False, True])
def test_gradients_match_finite_differences(kind, cat):
    post, mask = _posterior(cat)
    acq = Acquisition(kind, best=float(post.y.max()), kappa=2.5, xi=0.05)
    scorer = Scorer(post, acq)
    rng = np.random.default_rng(7)
    Xc = rng.random((6, 3))
    if cat:
        Xc[:, 2] = np.floor(Xc[:, 2] * 3)
    v, g = scorer.with_grad(Xc)
    np.testing.assert_allclose(v, scorer(Xc), rtol=1e-12, atol=1e-12)
    eps = 1e-6
    for j in range(3):
        if mask[j]:
            assert np.all(g[:, j] == 0)
            continue
        E = np.zeros_like(Xc)
        E[:, j] = eps
        fd = (scorer(Xc + E) - scorer(Xc - E)) / (2 * eps)
        np.testing.assert_allclose(g[:, j], fd, rtol=1e-4, atol=1e-6)


def test_per_second_variant_gradient():
    post, _ = _posterior()
    rng = np.random.default_rng(1)
    lc, m, s = standardize(rng.random(12))
    cost = CostModel(Posterior(post.X, lc, Hyper(np.ones(3), 1.0, 1e-3), post.cat_mask), m, s)
    scorer = Scorer(post, Acquisition("ei", best=float(post.y.max())), cost)
    Xc = rng.random((4, 3))
    _, g = scorer.with_grad(Xc)
    for j in range(3):
        E = np.zeros_like(Xc)
        E[:, j] = 1e-6
        fd = (scorer(Xc + E) - scorer(Xc - E)) / 2e-6
        np.testing.assert_allclose(g[:, j], fd, rtol=1e-4, atol=1e-6)


def test_ei_far_from_the_data_still_has_a_gradient():
    """Plain EI underflows to 0 with a 0 gradient; its log keeps pointing uphill."""
    post, _ = _posterior()
    acq = Acquisition("ei", best=float(post.y.max()) + 30.0)
    v, g = Scorer(post, acq).with_grad(np.array([[0.5, 0.5, 0.5]]))
    assert np.isfinite(v).all() and np.abs(g).max() > 0
    assert acq.natural(np.array([0.0]), np.array([1.0]))[0] < 1e-100
