"""Learning-curve and cost models that turn one noise-free value into a simulated training run.

The curve model (documented in ``docs/objectives.md``): a trial reports ``steps`` intermediate
values at steps ``1..T``; the noise-free curve starts ``start_gap * span`` on the *worse* side of
the final value and converges to it with a normalised exponential decay,

    clean_t = final + worse * start_gap * span * d(t),
    d(t) = (exp(-r t / T) - exp(-r)) / (1 - exp(-r)),      d(0) = 1, d(T) = 0,

where ``worse`` is +1 when minimising and -1 when maximising, ``span`` is the objective's typical
distance between an ordinary point and the optimum, and the rate ``r = rate * exp(rate_spread * z)``
(``z`` standard normal, drawn per trial) makes curves of different trials converge at different
speeds, so they can cross and early stopping is not trivially right. Each reported value adds
independent Gaussian observation noise of std ``noise``; the last report *is* the final value.

Multi-fidelity: a trial may train ``length`` epochs other than ``T`` (a hyperband rung), or
continue from a parent's checkpoint at epoch ``E0`` (a PBT child). It then reports steps
``E0+1 .. E0+length`` of the same curve (flat at the final value past ``T``), plus the parent's
*gap* — the parent's noise-free value at ``E0`` minus this trial's own curve there — decaying by
``memory ** j`` after j epochs: a child starts where its parent was and drifts to its own curve.

The cost model: ``duration = base * (1 + sum_i slope_i * u_i) * exp(jitter * z')`` where ``u_i``
is input i's position in its range (0 at low, 1 at high; log inputs on a log scale).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np


@dataclass(frozen=True)
class CurveModel:
    """How a final value becomes ``steps`` intermediate reports (see module docstring)."""

    steps: int = 10
    noise: float = 0.0
    rate: float = 3.0
    rate_spread: float = 0.3
    start_gap: float = 1.0

    def sample(
        self, final: float, span: float, worse: float, rng: np.random.Generator
    ) -> tuple[float, tuple[tuple[int, float], ...]]:
        """Noisy final value and the curve ``((1, v1), ..., (T, final))``; empty curve when steps is 0.

        Draws from ``rng`` in a fixed order (one rate draw, then ``max(steps, 1)`` noise draws) so
        the stream stays aligned whatever the option values.
        """
        z = rng.standard_normal()
        eps = rng.standard_normal(max(self.steps, 1))
        value = final + self.noise * float(eps[-1])
        if self.steps == 0:
            return value, ()
        t = np.arange(1, self.steps + 1, dtype=float)
        decay = normalised_decay(t / self.steps, self.rate * math.exp(self.rate_spread * z))
        values = final + worse * self.start_gap * span * decay + self.noise * eps
        values[-1] = value  # d(T) is 0 up to rounding; the contract wants the exact final value
        return value, tuple(zip(range(1, self.steps + 1), values.tolist()))

    def sample_span(
        self, final: float, span: float, worse: float, rng: np.random.Generator, *,
        start: int = 0, length: int | None = None, parent: float | None = None, memory: float = 0.7,
    ) -> tuple[tuple[tuple[int, float], ...], float]:
        """Reports at steps ``start+1 .. start+length`` and the noise-free value at the last one.

        ``parent`` is a parent's noise-free value at epoch ``start`` (None: a fresh trial). The
        draws are those of :meth:`sample`: one rate draw, then ``max(length, 1)`` noise draws; for a
        fresh trial of ``steps`` epochs the reports are exactly :meth:`sample`'s.
        """
        n = self.steps if length is None else length
        z = rng.standard_normal()
        eps = rng.standard_normal(max(n, 1))
        horizon = max(self.steps, 1)
        rate = self.rate * math.exp(self.rate_spread * z)

        def clean(t: np.ndarray) -> np.ndarray:
            return final + worse * self.start_gap * span * normalised_decay(np.minimum(t, horizon) / horizon, rate)

        t = np.arange(start + 1, start + max(n, 1) + 1, dtype=float)
        values = clean(t)
        if parent is not None:
            gap = parent - float(clean(np.array([float(start)]))[0])
            values = values + gap * memory ** np.arange(1, len(t) + 1)
        last_clean = float(values[-1])
        noisy = values + self.noise * eps
        if n == 0:
            return (), last_clean
        return tuple(zip(range(start + 1, start + n + 1), noisy.tolist())), last_clean


def normalised_decay(s: np.ndarray, rate: float) -> np.ndarray:
    """``(exp(-rate s) - exp(-rate)) / (1 - exp(-rate))``: 1 at s = 0, 0 at s = 1, decreasing."""
    if rate < 1e-9:  # the limit for rate -> 0 is the straight line
        return 1.0 - s
    tail = math.exp(-rate)
    return (np.exp(-rate * s) - tail) / (1.0 - tail)


@dataclass(frozen=True)
class CostModel:
    """Simulated training seconds of one trial (see module docstring)."""

    base: float = 60.0
    slopes: Mapping[str, float] = field(default_factory=dict)
    jitter: float = 0.0

    def duration(self, positions: Mapping[str, float], rng: np.random.Generator) -> float:
        """Seconds for a trial whose inputs sit at ``positions`` (unit range); one draw from ``rng``."""
        z = rng.standard_normal()
        scale = 1.0 + sum(slope * positions.get(name, 0.0) for name, slope in self.slopes.items())
        return self.base * max(scale, 0.0) * math.exp(self.jitter * z)

    @property
    def lowest_scale(self) -> float:
        """The smallest ``1 + sum slope_i u_i`` over the input box (negative slopes at u = 1)."""
        return 1.0 + sum(min(0.0, s) for s in self.slopes.values())
