"""Output warping: a Yeo-Johnson power transform fitted by maximum likelihood (HEBO's idea).

Objectives like Rosenbrock or a diverging training loss span orders of magnitude; a stationary GP
on raw (standardised) values spends its whole range on the few terrible points and sees the good
region as flat. A monotone power transform that makes the values look Gaussian keeps the order
(so the incumbent and the argmax of the acquisition are unchanged in meaning) and lets the GP
resolve the region that matters. Cowen-Rivers et al., "HEBO", arXiv 2012.03826.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.optimize import minimize_scalar

LAMBDA_BOUNDS = (-1.0, 3.0)
# An exponent fitted to a handful of points is noise, and a wrong warp early distorts the
# exploration constants (kappa in standard deviations); below this many observations: identity.
MIN_OBSERVATIONS = 10


def yeo_johnson(y: np.ndarray, lam: float) -> np.ndarray:
    """The Yeo-Johnson transform of ``y`` with exponent ``lam``."""
    out = np.empty_like(y, dtype=float)
    pos = y >= 0
    yp, yn = y[pos], -y[~pos]
    if abs(lam) < 1e-8:
        out[pos] = np.log1p(yp)
    else:
        out[pos] = np.expm1(lam * np.log1p(yp)) / lam
    if abs(lam - 2.0) < 1e-8:
        out[~pos] = -np.log1p(yn)
    else:
        out[~pos] = -np.expm1((2.0 - lam) * np.log1p(yn)) / (2.0 - lam)
    return out


def yeo_johnson_inverse(t: np.ndarray, lam: float) -> np.ndarray:
    """The inverse transform (for reports: the model's mean back in the objective's units)."""
    t = np.asarray(t, dtype=float)
    out = np.empty_like(t)
    pos = t >= 0
    tp, tn = t[pos], -t[~pos]
    if abs(lam) < 1e-8:
        out[pos] = np.expm1(tp)
    else:
        out[pos] = np.expm1(np.log1p(np.maximum(lam * tp, -1 + 1e-12)) / lam)
    if abs(lam - 2.0) < 1e-8:
        out[~pos] = -np.expm1(tn)
    else:
        out[~pos] = -np.expm1(np.log1p(np.maximum((2.0 - lam) * tn, -1 + 1e-12)) / (2.0 - lam))
    return out


def _neg_loglik(lam: float, y: np.ndarray, jac_term: float) -> float:
    t = yeo_johnson(y, lam)
    var = float(np.var(t))
    if not math.isfinite(var) or var <= 0:
        return 1e300
    return 0.5 * y.size * math.log(var) - (lam - 1.0) * jac_term


def fit_lambda(y: np.ndarray) -> float:
    """Maximum-likelihood exponent for (already standardised) ``y``; 1.0 (identity) when degenerate."""
    if y.size < MIN_OBSERVATIONS or float(np.ptp(y)) == 0.0:
        return 1.0
    jac = float(np.sum(np.sign(y) * np.log1p(np.abs(y))))
    res = minimize_scalar(_neg_loglik, bounds=LAMBDA_BOUNDS, args=(y, jac), method="bounded", options={"xatol": 1e-3})
    return float(res.x) if res.success and math.isfinite(res.x) else 1.0
