"""The Gaussian-process model: Matérn-5/2 ARD kernel, MAP fit of its hyperparameters, posterior.

Inputs are the rows of :mod:`.encoding` (unit cube; categorical columns compared by a Hamming
distance), outputs are standardised by the caller (:func:`standardize`). The kernel is

    k(x, x') = scale * matern52(r),   r^2 = sum_j eta_j * d_j(x_j, x'_j),

with ``d_j = (x_j - x'_j)^2`` for numeric columns, ``[x_j != x'_j]`` for categorical ones, and
``eta_j = 1 / lengthscale_j^2``; a Gaussian noise variance is added on the diagonal. The
hyperparameters ``theta = [log eta, log scale, log noise]`` maximise log marginal likelihood +
log prior (:mod:`.prior`) with L-BFGS-B and analytic gradients.

Reproducibility: by default the fit is a pure function of the data (:class:`FitCache`), so a
service rebuilt from the same history (Katib restarts suggestion pods, docs/katib-behaviour.md §5.2) computes
exactly the same model.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

import numpy as np
from scipy.linalg import lapack, solve_triangular
from scipy.optimize import minimize

from .prior import Prior

SQRT5 = math.sqrt(5.0)
LOG_2PI = math.log(2.0 * math.pi)
JITTERS = (0.0, 1e-8, 1e-6, 1e-4, 1e-2)

# Bounds of the log hyperparameters: length-scales 0.003 .. 30 of the unit cube, kernel scale
# 0.01 .. 100 standardised variances, noise 1e-6 .. 1 (a floor keeps the Cholesky healthy).
LOG_ETA_BOUNDS = (math.log(1.0 / 30.0**2), math.log(1.0 / 0.003**2))
LOG_SCALE_BOUNDS = (math.log(1e-2), math.log(1e2))
LOG_NOISE_BOUNDS = (math.log(1e-6), math.log(1.0))


@dataclass(frozen=True)
class Hyper:
    """Fitted kernel hyperparameters (natural units)."""

    eta: np.ndarray  # inverse squared length-scales, one per column
    scale: float
    noise: float

    @property
    def lengthscales(self) -> np.ndarray:
        return 1.0 / np.sqrt(self.eta)

    def theta(self) -> np.ndarray:
        return np.concatenate([np.log(self.eta), [math.log(self.scale), math.log(self.noise)]])

    @classmethod
    def from_theta(cls, theta: np.ndarray) -> "Hyper":
        d = theta.size - 2
        return cls(np.exp(theta[:d]).copy(), float(math.exp(theta[d])), float(math.exp(theta[d + 1])))

    @classmethod
    def default(cls, dim: int) -> "Hyper":
        return cls(np.ones(dim), 1.0, 1e-2)


def standardize(y: np.ndarray) -> tuple[np.ndarray, float, float]:
    """(y - mean) / std with std floored, so a constant history does not divide by zero."""
    mean = float(np.mean(y)) if y.size else 0.0
    std = float(np.std(y)) if y.size > 1 else 1.0
    if not math.isfinite(std) or std < 1e-12:
        std = 1.0
    return (y - mean) / std, mean, std


# -- kernel -------------------------------------------------------------------------------------------
def matern52(r2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit-scale Matérn-5/2 as a function of r^2, and its derivative d k / d r^2."""
    r = np.sqrt(np.maximum(r2, 0.0))
    e = np.exp(-SQRT5 * r)
    k = (1.0 + SQRT5 * r + (5.0 / 3.0) * r2) * e
    dk = -(5.0 / 6.0) * (1.0 + SQRT5 * r) * e
    return k, dk


def pairwise_d(X1: np.ndarray, X2: np.ndarray, cat_mask: np.ndarray) -> np.ndarray:
    """Per-column distances d_j, shape (n1, n2, d): squared difference, or 1.0 where categories differ."""
    diff = X1[:, None, :] - X2[None, :, :]
    D = diff * diff
    if cat_mask.any():
        D[:, :, cat_mask] = (diff[:, :, cat_mask] != 0.0).astype(float)
    return D


def cross_r2(Xc: np.ndarray, X: np.ndarray, eta: np.ndarray, cat_mask: np.ndarray) -> np.ndarray:
    """r^2 between candidates and data, via one matrix product for the numeric columns (fast path)."""
    num = ~cat_mask
    w = np.sqrt(eta[num])
    A = Xc[:, num] * w
    B = X[:, num] * w
    r2 = (A * A).sum(1)[:, None] + (B * B).sum(1)[None, :] - 2.0 * (A @ B.T)
    np.maximum(r2, 0.0, out=r2)
    for j in np.flatnonzero(cat_mask):
        r2 += eta[j] * (Xc[:, j][:, None] != X[:, j][None, :])
    return r2


# -- linear algebra ----------------------------------------------------------------------------------
def robust_cholesky(K: np.ndarray) -> tuple[np.ndarray, float]:
    """Lower Cholesky factor, adding growing jitter (relative to the mean diagonal) until it succeeds."""
    base = float(np.mean(np.diag(K))) if K.size else 1.0
    for jitter in JITTERS:
        A = K if jitter == 0.0 else K + (jitter * base) * np.eye(K.shape[0])
        L, info = lapack.dpotrf(A, lower=1, clean=1)
        if info == 0:
            return L, jitter * base
    raise np.linalg.LinAlgError("kernel matrix is not positive definite even with jitter")


def cho_inverse(L: np.ndarray) -> np.ndarray:
    inv, info = lapack.dpotri(L, lower=1)
    if info != 0:  # pragma: no cover - L came from a successful dpotrf
        raise np.linalg.LinAlgError("dpotri failed")
    # dpotrf(clean=1) left zeros above the diagonal and dpotri only writes the lower triangle.
    return inv + np.tril(inv, -1).T


def cho_solve(L: np.ndarray, b: np.ndarray) -> np.ndarray:
    x, info = lapack.dpotrs(L, b, lower=1)
    return x


# -- likelihood and fit -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Train:
    """Training rows split for fast kernels: numeric columns go through matrix products (BLAS),
    categorical ones keep their 0/1 "differs" matrices."""

    X: np.ndarray
    cat_mask: np.ndarray
    Xn: np.ndarray  # numeric columns
    Xn2: np.ndarray  # their squares
    Dcat: tuple[np.ndarray, ...]

    @classmethod
    def of(cls, X: np.ndarray, cat_mask: np.ndarray) -> "Train":
        Xn = np.ascontiguousarray(X[:, ~cat_mask])
        Dcat = tuple((X[:, j][:, None] != X[:, j][None, :]).astype(float) for j in np.flatnonzero(cat_mask))
        return cls(X, cat_mask, Xn, Xn * Xn, Dcat)

    def r2(self, eta: np.ndarray) -> np.ndarray:
        num = ~self.cat_mask
        A = self.Xn * np.sqrt(eta[num])
        sq = (A * A).sum(1)
        r2 = sq[:, None] + sq[None, :] - 2.0 * (A @ A.T)
        np.maximum(r2, 0.0, out=r2)
        np.fill_diagonal(r2, 0.0)
        for j, Dj in zip(np.flatnonzero(self.cat_mask), self.Dcat):
            r2 += eta[j] * Dj
        return r2

    def grad_eta(self, G: np.ndarray) -> np.ndarray:
        """sum_ab G_ab d_j(a, b) for every column j, for a symmetric G."""
        out = np.empty(self.cat_mask.size)
        num = ~self.cat_mask
        rs = G.sum(1)
        out[num] = 2.0 * (rs @ self.Xn2 - np.einsum("aj,aj->j", G @ self.Xn, self.Xn))
        for j, Dj in zip(np.flatnonzero(self.cat_mask), self.Dcat):
            out[j] = float(np.sum(G * Dj))
        return out


def log_marginal_likelihood(
    theta: np.ndarray, train: Train, y: np.ndarray, *, with_grad: bool = True
) -> tuple[float, np.ndarray | None]:
    """log p(y | X, theta) for the kernel above, and its gradient with respect to ``theta``."""
    n = y.size
    d = theta.size - 2
    eta = np.exp(theta[:d])
    s = math.exp(theta[d])
    nz = math.exp(theta[d + 1])
    k, dk = matern52(train.r2(eta))
    K = s * k
    K[np.diag_indices(n)] += nz
    L, _ = robust_cholesky(K)
    alpha = cho_solve(L, y)
    lml = -0.5 * float(y @ alpha) - float(np.sum(np.log(np.diag(L)))) - 0.5 * n * LOG_2PI
    if not with_grad:
        return lml, None
    W = np.outer(alpha, alpha) - cho_inverse(L)
    g = np.empty(d + 2)
    g[:d] = 0.5 * eta * train.grad_eta(W * (s * dk))
    g[d] = 0.5 * s * float(np.sum(W * k))
    g[d + 1] = 0.5 * nz * float(np.trace(W))
    return lml, g


def fit(
    X: np.ndarray,
    y: np.ndarray,
    cat_mask: np.ndarray,
    prior: Prior,
    init: Hyper | None = None,
    *,
    fixed_noise: float | None = None,
    gtol: float = 1e-2,
    maxiter: int = 200,
) -> Hyper:
    """MAP hyperparameters for standardised ``y`` (warm start ``init``; default all-ones init)."""
    d = X.shape[1]
    train = Train.of(X, cat_mask)
    theta0 = (init or Hyper.default(d)).theta()
    bounds = [LOG_ETA_BOUNDS] * d + [LOG_SCALE_BOUNDS, LOG_NOISE_BOUNDS]
    if fixed_noise is not None:
        theta0[d + 1] = math.log(fixed_noise)
        bounds[d + 1] = (theta0[d + 1], theta0[d + 1])
    theta0 = np.clip(theta0, [b[0] for b in bounds], [b[1] for b in bounds])

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        try:
            lml, g = log_marginal_likelihood(theta, train, y)
        except np.linalg.LinAlgError:
            return 1e10, np.zeros_like(theta)
        lp, gp = prior.logp(theta)
        return -(lml + lp), -(g + gp)

    res = minimize(objective, theta0, jac=True, method="L-BFGS-B", bounds=bounds, options={"gtol": gtol, "maxiter": maxiter})
    theta = res.x if np.all(np.isfinite(res.x)) else theta0
    return Hyper.from_theta(theta)


def _digest(X: np.ndarray, y: np.ndarray) -> str:
    h = hashlib.sha1()
    h.update(np.ascontiguousarray(X).tobytes())
    h.update(np.ascontiguousarray(y).tobytes())
    return h.hexdigest()


@dataclass
class FitCache:
    """Fitted hyperparameters memoised by the data they were fitted to.

    Every fit starts from the same initial point (:meth:`Hyper.default`, or ``init``), so the
    model is a pure function of the history and a rebuilt service answers exactly like a live
    one. Warm-starting from the previous step's fit was measured (docs/katibsim-bo.md):
    it saves about two thirds of the likelihood evaluations but lands elsewhere within the
    optimiser's tolerance, which changes the suggestions of a rebuilt service; warm-starting from
    a cached power-of-two prefix (deterministic) saved nothing. ``warm_start=True`` opts into the
    former for long-lived services that value speed over bit-exact rebuilds.
    """

    prior: Prior
    cat_mask: np.ndarray
    fixed_noise: float | None = None
    warm_start: bool = False
    _fits: dict[str, Hyper] = field(default_factory=dict)
    _last: Hyper | None = None

    def fit(self, X: np.ndarray, y: np.ndarray) -> Hyper:
        """MAP hyperparameters for raw outputs ``y`` (standardised here)."""
        key = _digest(X, y)
        if key in self._fits:
            return self._fits[key]
        ys, _, _ = standardize(y)
        init = self._last if self.warm_start else None
        hyper = fit(X, ys, self.cat_mask, self.prior, init, fixed_noise=self.fixed_noise)
        if len(self._fits) > 64:  # a long-lived service: keep memory bounded
            self._fits.clear()
        self._fits[key] = hyper
        self._last = hyper
        return hyper


# -- posterior -----------------------------------------------------------------------------------------
class Posterior:
    """The GP conditioned on (X, y) with fixed hyperparameters: mean and variance of the latent f."""

    def __init__(self, X: np.ndarray, y: np.ndarray, hyper: Hyper, cat_mask: np.ndarray):
        self.X = X
        self.y = y
        self.hyper = hyper
        self.cat_mask = cat_mask
        k, _ = matern52(Train.of(X, cat_mask).r2(hyper.eta))
        K = hyper.scale * k
        K[np.diag_indices(len(y))] += hyper.noise
        self.L, self.jitter = robust_cholesky(K)
        self.alpha = cho_solve(self.L, y)
        self.Kinv = cho_inverse(self.L)

    def predict(self, Xc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and variance (of f, without the noise) at the rows of ``Xc``."""
        k, _ = matern52(cross_r2(Xc, self.X, self.hyper.eta, self.cat_mask))
        Kc = self.hyper.scale * k
        mu = Kc @ self.alpha
        # var = s - k^T K^-1 k with V = L^-1 k^T: a triangular solve costs half a product with K^-1.
        V = solve_triangular(self.L, Kc.T, lower=True, check_finite=False)
        var = self.hyper.scale - np.einsum("ij,ij->j", V, V)
        return mu, np.maximum(var, 1e-12)

    def predict_with_grad(self, Xc: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Mean, variance and their gradients with respect to the numeric columns of ``Xc``.

        Categorical columns get a zero gradient (the optimiser does not move them).
        """
        s, eta = self.hyper.scale, self.hyper.eta
        k, dk = matern52(cross_r2(Xc, self.X, eta, self.cat_mask))
        Kc = s * k
        mu = Kc @ self.alpha
        w = Kc @ self.Kinv
        var = s - np.einsum("ij,ij->i", w, Kc)
        Q = dk * self.alpha[None, :]
        P = dk * w
        # d k(x, X_i) / d x_j = s * dk_i * 2 eta_j (x_j - X_ij)
        dmu = 2.0 * s * eta * (Xc * Q.sum(1)[:, None] - Q @ self.X)
        dvar = -4.0 * s * eta * (Xc * P.sum(1)[:, None] - P @ self.X)
        dmu[:, self.cat_mask] = 0.0
        dvar[:, self.cat_mask] = 0.0
        small = var < 1e-12
        var = np.maximum(var, 1e-12)
        dvar[small] = 0.0
        return mu, var, dmu, dvar

    def condition_on(self, Xf: np.ndarray, yf: np.ndarray) -> "Posterior":
        """The same GP with extra (fantasy) observations; hyperparameters unchanged."""
        return Posterior(np.vstack([self.X, Xf]), np.concatenate([self.y, yf]), self.hyper, self.cat_mask)

    def log_marginal_likelihood(self) -> float:
        n = len(self.y)
        return -0.5 * float(self.y @ self.alpha) - float(np.sum(np.log(np.diag(self.L)))) - 0.5 * n * LOG_2PI


__all__ = [
    "FitCache",
    "Train",
    "Hyper",
    "Posterior",
    "cross_r2",
    "fit",
    "log_marginal_likelihood",
    "matern52",
    "pairwise_d",
    "robust_cholesky",
    "standardize",
]
