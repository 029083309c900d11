"""goptuna's Sobol relative sampler (``goptuna/sobol/sampler.go``) on ``scipy.stats.qmc.Sobol``.

goptuna's engine is the unscrambled Sobol' sequence with Joe and Kuo's ``new-joe-kuo-6.21201``
direction numbers, as scipy's ``Sobol(d, scramble=False)``; goptuna's first draw is the
sequence's point 1 (it never returns the origin, point 0), so the k-th suggestion is scipy's point
k. The dimension is the number of parameters (categorical and discrete included), in sorted-name
order. Katib calls ``sobol.NewSampler()`` without ``SamplerOptionSkipInitialPoints``: nothing is
skipped, there is no seed, and the service draws one point per suggestion from an engine kept in
memory (a restarted service starts the sequence again).

Each point's coordinate ``u`` in [0, 1) becomes an internal value as goptuna maps it:
``low + u (high - low)`` (Uniform); ``floor(u (high - low)) + low`` (IntUniform — ``max`` is
never reached); ``floor(u (high - low) / step) step + low`` (StepIntUniform — ``max`` never
reached either); the rounded, clipped shift of DiscreteUniform; ``floor(u n)`` for a categorical
of n choices. The corrected behaviour reaches ``max`` for ints (``u (high - low + 1)``).
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING, Mapping

import numpy as np

from .space import CATEGORICAL, DISCRETE_UNIFORM, INT_UNIFORM, STEP_INT_UNIFORM, UNIFORM, Distribution, ordered

if TYPE_CHECKING:
    from scipy.stats import qmc


def engine(dim: int, skip: int = 1) -> qmc.Sobol:
    """scipy's unscrambled Sobol' engine positioned at goptuna's first draw (point ``skip``)."""
    from scipy.stats import qmc  # here, not at the top: scipy.stats would cost every katibsim start

    e = qmc.Sobol(d=dim, scramble=False)
    if skip:
        e.fast_forward(skip)
    return e


def draw(e: qmc.Sobol) -> np.ndarray:
    with warnings.catch_warnings():  # scipy warns that n = 1 breaks the balance property; goptuna draws 1 too
        warnings.simplefilter("ignore", UserWarning)
        return e.random(1)[0]


def internal_values(point: np.ndarray, dists: Mapping[str, Distribution], *, reach_max: bool = False) -> dict[str, float]:
    """goptuna's mapping of one Sobol' point onto the internal values of each parameter."""
    out: dict[str, float] = {}
    for u, name in zip(point, ordered(dict(dists))):
        d = dists[name]
        u = float(u)
        extra = 1 if reach_max else 0
        if d.kind == UNIFORM:
            out[name] = u * (d.high - d.low) + d.low
        elif d.kind == DISCRETE_UNIFORM:
            q, r = d.step, d.high - d.low
            low, high = -0.5 * q, r + 0.5 * q
            v = round_go(((u * (high - low) + low) / q)) * q + d.low
            out[name] = min(max(v, d.low), d.high)
        elif d.kind == INT_UNIFORM:
            out[name] = min(math.floor(u * (d.high - d.low + extra)) + d.low, d.high)
        elif d.kind == STEP_INT_UNIFORM:
            r = int(d.high - d.low) // int(d.step) + extra
            out[name] = min(math.floor(u * r) * d.step + d.low, d.high)
        elif d.kind == CATEGORICAL:
            out[name] = float(math.floor(u * len(d.choices)))
    return out


def round_go(x: float) -> float:
    return math.copysign(math.floor(abs(x) + 0.5), x)
