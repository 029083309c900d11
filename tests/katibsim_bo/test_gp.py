"""The GP model against scikit-learn's GaussianProcessRegressor with the same fixed kernel."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel
from threadpoolctl import threadpool_limits

from katibsim_plugins.katibsim_bo.gp import (
    FitCache,
    Hyper,
    Posterior,
    Train,
    fit,
    log_marginal_likelihood,
    pairwise_d,
    robust_cholesky,
    standardize,
)
from katibsim_plugins.katibsim_bo.prior import Prior


def _data(n=25, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, d))
    y = np.sin(6 * X[:, 0]) + X[:, 1] ** 2 - 0.5 * X[:, 2] + 0.05 * rng.standard_normal(n)
    return X, y


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_predictions_and_likelihood_match_sklearn(seed):
    X, y = _data(seed=seed)
    ys, _, _ = standardize(y)
    ls = np.array([0.3, 0.7, 1.9])
    scale, noise = 1.7, 0.01
    hyper = Hyper(1.0 / ls**2, scale, noise)
    kernel = ConstantKernel(scale, "fixed") * Matern(length_scale=ls, length_scale_bounds="fixed", nu=2.5) + WhiteKernel(noise, "fixed")
    sk = GaussianProcessRegressor(kernel=kernel, alpha=0.0, optimizer=None, normalize_y=False).fit(X, ys)

    post = Posterior(X, ys, hyper, np.zeros(3, dtype=bool))
    Xt = np.random.default_rng(seed + 10).random((40, 3))
    mu, var = post.predict(Xt)
    sk_mu, sk_std = sk.predict(Xt, return_std=True)
    np.testing.assert_allclose(mu, sk_mu, atol=1e-6, rtol=0)
    # sklearn's std includes the WhiteKernel noise; ours is the latent f's.
    np.testing.assert_allclose(np.sqrt(var + noise), sk_std, atol=1e-6, rtol=0)

    lml, _ = log_marginal_likelihood(hyper.theta(), Train.of(X, np.zeros(3, dtype=bool)), ys)
    assert abs(lml - sk.log_marginal_likelihood_value_) < 1e-6
    assert abs(post.log_marginal_likelihood() - sk.log_marginal_likelihood_value_) < 1e-6


def test_likelihood_gradient_matches_finite_differences():
    X, y = _data(n=15, d=3)
    X[:, 2] = np.floor(X[:, 2] * 3)  # one categorical column (Hamming distance)
    cat = np.array([False, False, True])
    ys, _, _ = standardize(y)
    D = Train.of(X, cat)
    theta = np.array([0.3, -0.5, 1.1, 0.2, np.log(0.05)])
    _, g = log_marginal_likelihood(theta, D, ys)
    eps = 1e-6
    for i in range(theta.size):
        e = np.zeros_like(theta)
        e[i] = eps
        fd = (log_marginal_likelihood(theta + e, D, ys, with_grad=False)[0] - log_marginal_likelihood(theta - e, D, ys, with_grad=False)[0]) / (2 * eps)
        assert abs(fd - g[i]) < 1e-5 * max(1.0, abs(fd)), (i, fd, g[i])


def test_fast_distances_match_the_direct_ones():
    X, _ = _data(n=20, d=3)
    X[:, 1] = np.floor(X[:, 1] * 4)
    cat = np.array([False, True, False])
    eta = np.array([2.0, 0.7, 5.0])
    D = pairwise_d(X, X, cat)
    train = Train.of(X, cat)
    np.testing.assert_allclose(train.r2(eta), D @ eta, atol=1e-12)
    G = np.random.default_rng(0).random((20, 20))
    G = G + G.T
    np.testing.assert_allclose(train.grad_eta(G), np.tensordot(G, D, axes=([0, 1], [0, 1])), rtol=1e-10)


def test_prior_gradient_matches_finite_differences():
    prior = Prior()
    theta = np.array([0.3, -2.0, 0.4, np.log(0.01)])
    _, g = prior.logp(theta)
    for i in range(theta.size):
        e = np.zeros_like(theta)
        e[i] = 1e-6
        fd = (prior.logp(theta + e)[0] - prior.logp(theta - e)[0]) / 2e-6
        assert abs(fd - g[i]) < 1e-5


def test_map_fit_learns_an_irrelevant_dimension_is_long():
    rng = np.random.default_rng(3)
    X = rng.random((30, 2))
    y = np.sin(8 * X[:, 0])  # x1 is irrelevant
    ys, _, _ = standardize(y)
    h = fit(X, ys, np.zeros(2, dtype=bool), Prior())
    assert h.lengthscales[1] > 3 * h.lengthscales[0]
    assert h.noise < 0.05


def test_fit_is_a_function_of_the_data():
    """A long-lived cache and a fresh one (a rebuilt service) give the same hyperparameters."""
    X, y = _data(n=37, d=3)
    a = FitCache(Prior(), np.zeros(3, dtype=bool))
    with threadpool_limits(1, user_api="blas"):
        for n in range(10, 38):  # a long-lived service, fitting after every trial
            ha = a.fit(X[:n], y[:n])
        hb = FitCache(Prior(), np.zeros(3, dtype=bool)).fit(X, y)  # a rebuilt one
    np.testing.assert_array_equal(ha.theta(), hb.theta())


def test_robust_cholesky_survives_duplicated_rows():
    X = np.vstack([np.full((5, 2), 0.5), np.random.default_rng(0).random((5, 2))])
    ys, _, _ = standardize(np.arange(10.0))
    post = Posterior(X, ys, Hyper(np.ones(2), 1.0, 1e-6), np.zeros(2, dtype=bool))
    mu, var = post.predict(X)
    assert np.all(np.isfinite(mu)) and np.all(var > 0)
    K = np.ones((3, 3))  # rank one
    L, jitter = robust_cholesky(K)
    assert jitter > 0 and np.all(np.isfinite(L))


def test_standardize_constant_history():
    ys, mean, std = standardize(np.full(4, 2.5))
    assert std == 1.0 and np.all(ys == 0)
