"""katibsim-bo's EI / log-EI / PI / UCB values against their textbook closed forms (scipy.stats.norm).

The margin ``xi`` is non-zero and the incumbent is not 0, so a sign error (``+ xi``), a missing
``sigma`` factor or a swapped ``best`` changes the numbers and fails here.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, strategies as st
from scipy.stats import norm

from katibsim_plugins.katibsim_bo.acquisition import Acquisition

MU = np.array([-1.5, -0.2, 0.0, 0.4, 1.1, 2.5])
SIGMA = np.array([0.05, 0.3, 1.0, 0.7, 0.2, 1.9])
BEST, XI, KAPPA = 0.35, 0.3, 1.7


def closed_ei(mu, sigma, best, xi):
    d = mu - best - xi
    z = d / sigma
    return d * norm.cdf(z) + sigma * norm.pdf(z)


def closed_pi(mu, sigma, best, xi):
    return norm.cdf((mu - best - xi) / sigma)


def test_ei_is_the_closed_form():
    got = Acquisition("ei", best=BEST, xi=XI).natural(MU, SIGMA)
    np.testing.assert_allclose(got, closed_ei(MU, SIGMA, BEST, XI), rtol=1e-9, atol=1e-300)


def test_log_ei_is_the_log_of_the_closed_form_both_as_reported_and_as_maximised():
    mu, sigma = MU[1:], SIGMA[1:]  # MU[0] is 43 sigmas below: the closed form underflows to log(0) there
    want = np.log(closed_ei(mu, sigma, BEST, XI))
    np.testing.assert_allclose(Acquisition("logei", best=BEST, xi=XI).natural(mu, sigma), want, rtol=1e-9)
    for kind in ("ei", "logei"):
        value, _, _ = Acquisition(kind, best=BEST, xi=XI).optimised(mu, sigma)
        np.testing.assert_allclose(value, want, rtol=1e-9)


def test_pi_is_the_closed_form_and_is_maximised_through_its_log():
    acq = Acquisition("pi", best=BEST, xi=XI)
    np.testing.assert_allclose(acq.natural(MU, SIGMA), closed_pi(MU, SIGMA, BEST, XI), rtol=1e-9)
    np.testing.assert_allclose(acq.optimised(MU, SIGMA)[0], norm.logcdf((MU - BEST - XI) / SIGMA), rtol=1e-9)


def test_ucb_is_mean_plus_kappa_sigma():
    acq = Acquisition("ucb", best=BEST, kappa=KAPPA, xi=XI)
    np.testing.assert_allclose(acq.natural(MU, SIGMA), MU + KAPPA * SIGMA, rtol=1e-12)
    np.testing.assert_allclose(acq.optimised(MU, SIGMA)[0], MU + KAPPA * SIGMA, rtol=1e-12)


@pytest.mark.parametrize("kind", ["ei", "pi"])
def test_a_larger_margin_never_raises_ei_or_pi(kind):
    lo = Acquisition(kind, best=BEST, xi=0.0).natural(MU, SIGMA)
    hi = Acquisition(kind, best=BEST, xi=XI).natural(MU, SIGMA)
    assert np.all(hi <= lo) and np.any(hi < lo)


@given(
    mu=st.floats(-4, 4), sigma=st.floats(0.05, 3), best=st.floats(-2, 2), xi=st.floats(0, 1),
)
def test_ei_and_pi_match_the_closed_forms_anywhere_near_the_data(mu, sigma, best, xi):
    m, s = np.array([mu]), np.array([sigma])
    np.testing.assert_allclose(Acquisition("ei", best=best, xi=xi).natural(m, s), closed_ei(m, s, best, xi),
                               rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(Acquisition("pi", best=best, xi=xi).natural(m, s), closed_pi(m, s, best, xi),
                               rtol=1e-7, atol=1e-12)
