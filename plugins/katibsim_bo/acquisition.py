"""Acquisition functions on the GP posterior, with analytic gradients (everything is maximised).

The model works on standardised outputs, sign-flipped so that larger is better; ``kappa`` and ``xi``
are therefore in units of the observed standard deviation (scale-free: ``xi = 0.01`` means the
same on an accuracy in [0, 1] and on a loss in the thousands, unlike skopt and bayes_opt, which
apply ``xi`` in raw units).

- ``ucb``: mu + kappa * sigma (Katib's ``LCB`` on a minimised objective is the same thing).
- ``ei`` / ``logei``: expected improvement over ``best + xi``; both are *maximised* through the
  log (Ament et al. 2023, arXiv 2310.20708) because EI and its gradient underflow to 0 far from
  the data; ``ei`` only differs in the values it reports.
- ``pi``: probability of improvement, maximised through log Phi(z).
- ``*ps`` variants (Katib's ``EIps`` / ``PIps``): divide by the predicted duration, i.e. subtract
  the posterior mean of a second GP fitted to log durations (see :class:`CostModel`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import erfcx, log_ndtr, ndtr

from .gp import Posterior

LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
SQRT_HALF_PI = math.sqrt(math.pi / 2.0)
INV_SQRT2 = 1.0 / math.sqrt(2.0)


def _log1mexp(t: np.ndarray) -> np.ndarray:
    """log(1 - exp(t)) for t < 0, accurate near 0 and for very negative t."""
    return np.where(t > -math.log(2.0), np.log(-np.expm1(np.minimum(t, -1e-300))), np.log1p(-np.exp(np.minimum(t, 0.0))))


def log_h(z: np.ndarray) -> np.ndarray:
    """log(phi(z) + z * Phi(z)) without underflow (the EI of a unit Gaussian, in logs)."""
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    hi = z > -1.0
    zh = z[hi]
    out[hi] = np.log(np.exp(-0.5 * zh * zh) / math.sqrt(2 * math.pi) + zh * ndtr(zh))
    mid = (~hi) & (z > -1e4)
    zm = z[mid]
    # h(z) = phi(z) * (1 - |z| Phi(z)/phi(z)) and Phi(z)/phi(z) = sqrt(pi/2) erfcx(-z/sqrt2)
    t = np.log(-zm) + np.log(erfcx(-zm * INV_SQRT2)) + math.log(SQRT_HALF_PI)
    out[mid] = -0.5 * zm * zm - LOG_SQRT_2PI + _log1mexp(t)
    lo = z <= -1e4
    zl = z[lo]
    out[lo] = -0.5 * zl * zl - LOG_SQRT_2PI - 2.0 * np.log(-zl)
    return out


def dlog_h(z: np.ndarray, logh: np.ndarray) -> np.ndarray:
    """d/dz log h(z) = Phi(z) / h(z)."""
    return np.exp(log_ndtr(z) - logh)


@dataclass(frozen=True)
class Acquisition:
    """One acquisition function with its constants for the current step."""

    kind: str  # "ucb" | "ei" | "logei" | "pi"
    best: float = 0.0  # the incumbent (standardised, maximised)
    kappa: float = 2.0
    xi: float = 0.0

    def optimised(self, mu: np.ndarray, sigma: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The function the maximiser climbs (log form for EI/PI) and its partials d/dmu, d/dsigma."""
        if self.kind == "ucb":
            return mu + self.kappa * sigma, np.ones_like(mu), np.full_like(mu, self.kappa)
        z = (mu - self.best - self.xi) / sigma
        if self.kind in ("ei", "logei"):
            lh = log_h(z)
            g = dlog_h(z, lh)  # d log h / dz
            value = np.log(sigma) + lh
            return value, g / sigma, (1.0 - g * z) / sigma
        if self.kind == "pi":
            lp = log_ndtr(z)
            g = np.exp(-0.5 * z * z - LOG_SQRT_2PI - lp)  # phi / Phi
            return lp, g / sigma, -g * z / sigma
        raise ValueError(f"unknown acquisition {self.kind!r}")

    def natural(self, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
        """The acquisition in its textbook form (for reports): UCB, EI, log EI or PI."""
        if self.kind == "ucb":
            return mu + self.kappa * sigma
        z = (mu - self.best - self.xi) / sigma
        if self.kind == "ei":
            return sigma * np.exp(log_h(z))
        if self.kind == "logei":
            return np.log(sigma) + log_h(z)
        return ndtr(z)


@dataclass(frozen=True)
class CostModel:
    """Predicted log duration (seconds) for the ``EIps`` / ``PIps`` acquisitions."""

    posterior: Posterior
    mean: float
    std: float

    def log_cost(self, X: np.ndarray, with_grad: bool = False):
        if not with_grad:
            mu, _ = self.posterior.predict(X)
            return self.mean + self.std * mu
        mu, _, dmu, _ = self.posterior.predict_with_grad(X)
        return self.mean + self.std * mu, self.std * dmu


class Scorer:
    """Acquisition values (and gradients with respect to the rows) for one posterior."""

    def __init__(self, posterior: Posterior, acquisition: Acquisition, cost: CostModel | None = None):
        self.posterior = posterior
        self.acquisition = acquisition
        self.cost = cost

    def __call__(self, X: np.ndarray) -> np.ndarray:
        mu, var = self.posterior.predict(X)
        v, _, _ = self.acquisition.optimised(mu, np.sqrt(var))
        if self.cost is not None:
            v = v - self.cost.log_cost(X)
        return v

    def with_grad(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mu, var, dmu, dvar = self.posterior.predict_with_grad(X)
        sigma = np.sqrt(var)
        v, dv_dmu, dv_dsigma = self.acquisition.optimised(mu, sigma)
        grad = dv_dmu[:, None] * dmu + (dv_dsigma / (2.0 * sigma))[:, None] * dvar
        if self.cost is not None:
            c, dc = self.cost.log_cost(X, with_grad=True)
            v = v - c
            grad = grad - dc
        return v, grad
