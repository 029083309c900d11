"""Vectorised numpy test functions: each maps points ``X`` of shape (n, d) to values of shape (n,).

Pure arithmetic, no state. Definitions follow the usual literature forms (Surjanovic & Bingham's
virtual library, BoTorch's ``synthetic.py``); domains and optima are listed in
``docs/objectives.md#test-functions`` and in :mod:`katibsim_plugins.objectives.catalog`.
All of them are minimisation problems except :func:`seed_1d`, which the seed tutorial maximises.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "ackley",
    "branin",
    "goldstein_price",
    "hartmann3",
    "hartmann6",
    "levy",
    "rosenbrock",
    "seed_1d",
    "six_hump_camel",
    "styblinski_tang",
]


def _points(X, dim: int | None = None) -> np.ndarray:
    """View ``X`` as an (n, d) float array; a single point of shape (d,) becomes (1, d)."""
    arr = np.asarray(X, dtype=float)
    if arr.ndim == 1:
        arr = arr[np.newaxis, :]
    if arr.ndim != 2:
        raise ValueError(f"expected points of shape (n, d), got {arr.shape}")
    if dim is not None and arr.shape[1] != dim:
        raise ValueError(f"expected {dim} coordinates per point, got {arr.shape[1]}")
    return arr


def seed_1d(X) -> np.ndarray:
    """The seed tutorial's function exp(-(x-2)^2) + exp(-(x-6)^2/10) + 1/(x^2+1) (maximise).

    On [-2, 10]: global maximum 1.401897 at x = 2.000874, local maxima at 0.063559 and 5.955197.
    """
    x = _points(X, 1)[:, 0]
    return np.exp(-((x - 2.0) ** 2)) + np.exp(-((x - 6.0) ** 2) / 10.0) + 1.0 / (x**2 + 1.0)


def branin(X) -> np.ndarray:
    """Branin-Hoo on x1 in [-5, 10], x2 in [0, 15]; min 0.397887 at three points."""
    P = _points(X, 2)
    x1, x2 = P[:, 0], P[:, 1]
    b = 5.1 / (4.0 * math.pi**2)
    c = 5.0 / math.pi
    t = 1.0 / (8.0 * math.pi)
    return (x2 - b * x1**2 + c * x1 - 6.0) ** 2 + 10.0 * (1.0 - t) * np.cos(x1) + 10.0


# Hartmann constants: weights ALPHA, scales A and centres P per basin (4 basins).
_HARTMANN_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
_HARTMANN3_A = np.array(
    [[3.0, 10.0, 30.0], [0.1, 10.0, 35.0], [3.0, 10.0, 30.0], [0.1, 10.0, 35.0]]
)
_HARTMANN3_P = 1e-4 * np.array(
    [[3689, 1170, 2673], [4699, 4387, 7470], [1091, 8732, 5547], [381, 5743, 8828]], dtype=float
)
_HARTMANN6_A = np.array(
    [
        [10.0, 3.0, 17.0, 3.5, 1.7, 8.0],
        [0.05, 10.0, 17.0, 0.1, 8.0, 14.0],
        [3.0, 3.5, 1.7, 10.0, 17.0, 8.0],
        [17.0, 8.0, 0.05, 10.0, 0.1, 14.0],
    ]
)
_HARTMANN6_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ],
    dtype=float,
)


def _hartmann(P: np.ndarray, A: np.ndarray, C: np.ndarray) -> np.ndarray:
    # (n, 1, d) - (1, 4, d): squared scaled distance of every point to every basin centre.
    inner = np.sum(A[np.newaxis] * (P[:, np.newaxis, :] - C[np.newaxis]) ** 2, axis=2)
    return -np.exp(-inner) @ _HARTMANN_ALPHA


def hartmann3(X) -> np.ndarray:
    """Hartmann 3-D on [0, 1]^3; min -3.86278 at (0.114614, 0.555649, 0.852547)."""
    return _hartmann(_points(X, 3), _HARTMANN3_A, _HARTMANN3_P)


def hartmann6(X) -> np.ndarray:
    """Hartmann 6-D on [0, 1]^6; min -3.32237 at (0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573)."""
    return _hartmann(_points(X, 6), _HARTMANN6_A, _HARTMANN6_P)


def ackley(X, a: float = 20.0, b: float = 0.2, c: float = 2.0 * math.pi) -> np.ndarray:
    """Ackley on [-32.768, 32.768]^d; min 0 at the origin."""
    P = _points(X)
    return (
        -a * np.exp(-b * np.sqrt(np.mean(P**2, axis=1)))
        - np.exp(np.mean(np.cos(c * P), axis=1))
        + a
        + math.e
    )


def rosenbrock(X) -> np.ndarray:
    """Rosenbrock on [-5, 10]^d (d >= 2); min 0 at (1, ..., 1)."""
    P = _points(X)
    head, tail = P[:, :-1], P[:, 1:]
    return np.sum(100.0 * (tail - head**2) ** 2 + (1.0 - head) ** 2, axis=1)


def levy(X) -> np.ndarray:
    """Levy on [-10, 10]^d; min 0 at (1, ..., 1)."""
    W = 1.0 + (_points(X) - 1.0) / 4.0
    first = np.sin(math.pi * W[:, 0]) ** 2
    mid = W[:, :-1]
    middle = np.sum((mid - 1.0) ** 2 * (1.0 + 10.0 * np.sin(math.pi * mid + 1.0) ** 2), axis=1)
    last = W[:, -1]
    return first + middle + (last - 1.0) ** 2 * (1.0 + np.sin(2.0 * math.pi * last) ** 2)


def styblinski_tang(X) -> np.ndarray:
    """Styblinski-Tang on [-5, 5]^d; min -39.16617 * d at (-2.903534, ..., -2.903534)."""
    P = _points(X)
    return 0.5 * np.sum(P**4 - 16.0 * P**2 + 5.0 * P, axis=1)


def six_hump_camel(X) -> np.ndarray:
    """Six-hump camel on x1 in [-3, 3], x2 in [-2, 2]; min -1.031628 at (+-0.0898, -+0.7126)."""
    P = _points(X, 2)
    x1, x2 = P[:, 0], P[:, 1]
    return (4.0 - 2.1 * x1**2 + x1**4 / 3.0) * x1**2 + x1 * x2 + (-4.0 + 4.0 * x2**2) * x2**2


def goldstein_price(X) -> np.ndarray:
    """Goldstein-Price on [-2, 2]^2; min 3 at (0, -1)."""
    P = _points(X, 2)
    x1, x2 = P[:, 0], P[:, 1]
    s = x1 + x2 + 1.0
    d = 2.0 * x1 - 3.0 * x2
    left = 1.0 + s**2 * (19.0 - 14.0 * x1 + 3.0 * x1**2 - 14.0 * x2 + 6.0 * x1 * x2 + 3.0 * x2**2)
    right = 30.0 + d**2 * (
        18.0 - 32.0 * x1 + 12.0 * x1**2 + 48.0 * x2 - 36.0 * x1 * x2 + 27.0 * x2**2
    )
    return left * right
