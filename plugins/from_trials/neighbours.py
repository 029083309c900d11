"""The learning-curve and duration models: weighted averages over the nearest trials.

Both answer "what did the trials like this one do": the ``K`` nearest trials in the unit cube,
weighted by ``1 / (distance + EPS)``. A few dozen trials cannot support more than that, and the
two models only shape a simulated trial (the objective value comes from the mean model).

* :class:`CurveModel`: a trial's curve as deviations from its objective value, one per step
  (``curve[s] - value``), averaged over the neighbours; the residual spread per step and its
  step-to-step correlation (lag 1) give the noise of a simulated curve. The simulated curve is
  shifted so that the metric strategy (max, min or latest, as the trials show it) of the curve
  is the simulated objective value.
  Curve points stay within the lowest and highest point the trials reported.
* :class:`DurationModel`: the log of a trial's duration, averaged; the residual spread gives a
  log-normal noise.
* :class:`MetricModel`: another metric the trials report, averaged, with normal noise.

Residuals are measured leave-one-out (a trial is never its own neighbour).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

K = 5
EPS = 0.02


def _weights(X: np.ndarray, Q: np.ndarray, exclude_self: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(indices, normalised weights) of the K nearest rows of X for each row of Q."""
    d = np.sqrt(((Q[:, None, :] - X[None, :, :]) ** 2).sum(axis=2))
    if exclude_self:
        np.fill_diagonal(d, np.inf)
    k = min(K, X.shape[0] - (1 if exclude_self else 0))
    idx = np.argsort(d, axis=1, kind="stable")[:, :k]
    w = 1.0 / (np.take_along_axis(d, idx, axis=1) + EPS)
    return idx, w / w.sum(axis=1, keepdims=True)


def _average(X: np.ndarray, Y: np.ndarray, Q: np.ndarray, exclude_self: bool = False) -> np.ndarray:
    idx, w = _weights(X, Q, exclude_self)
    return (Y[idx] * w[..., None]).sum(axis=1) if Y.ndim == 2 else (Y[idx] * w).sum(axis=1)


def strategy_value(curve: np.ndarray, strategy: str) -> float:
    if strategy == "max":
        return float(np.max(curve))
    if strategy == "min":
        return float(np.min(curve))
    return float(curve[-1])


@dataclass(frozen=True)
class CurveModel:
    steps: tuple[float, ...]
    strategy: str  # "max" | "min" | "latest"
    X: np.ndarray  # (n, width) unit rows of the trials with a full curve
    D: np.ndarray  # (n, S) deviations from the trial's value
    spread: tuple[float, ...]  # residual sd per step
    correlation: float  # lag-1 correlation of the residuals, in [0, 0.99]
    low: float = -np.inf  # the lowest and highest curve point the trials reported
    high: float = np.inf

    @classmethod
    def fit(cls, X: np.ndarray, curves: np.ndarray, values: np.ndarray, steps: tuple[float, ...],
            strategy: str) -> "CurveModel":
        D = curves - values[:, None]
        if len(X) >= 2:
            R = D - _average(X, D, X, exclude_self=True)
            spread = tuple(float(v) for v in R.std(axis=0))
            a, b = R[:, :-1].ravel(), R[:, 1:].ravel()
            corr = float(np.corrcoef(a, b)[0, 1]) if len(a) > 2 and a.std() > 0 and b.std() > 0 else 0.0
        else:
            spread, corr = tuple(0.0 for _ in steps), 0.0
        return cls(steps, strategy, X, D, spread, min(max(corr, 0.0), 0.99), float(curves.min()), float(curves.max()))

    def shape(self, q: np.ndarray) -> np.ndarray:
        """The mean deviations per step at the unit row ``q``."""
        return _average(self.X, self.D, q[None, :])[0]

    def simulate(self, q: np.ndarray, value: float, rng: np.random.Generator, noise_scale: float) -> np.ndarray:
        """A curve whose strategy value is ``value``: mean shape + AR(1) residual noise, shifted."""
        n = len(self.steps)
        z = rng.standard_normal(n)
        dev = np.empty(n)
        dev[0] = z[0]
        phi = self.correlation
        for k in range(1, n):
            dev[k] = phi * dev[k - 1] + np.sqrt(1.0 - phi * phi) * z[k]
        raw = value + self.shape(q) + noise_scale * dev * np.asarray(self.spread)
        return raw - (strategy_value(raw, self.strategy) - value)

    def to_dict(self) -> dict[str, Any]:
        return {"steps": list(self.steps), "strategy": self.strategy, "X": self.X.tolist(), "D": self.D.tolist(),
                "spread": list(self.spread), "correlation": self.correlation, "low": self.low, "high": self.high}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "CurveModel":
        return cls(tuple(float(s) for s in d["steps"]), str(d["strategy"]), np.asarray(d["X"], dtype=float),
                   np.asarray(d["D"], dtype=float), tuple(float(v) for v in d["spread"]), float(d["correlation"]),
                   float(d["low"]), float(d["high"]))


@dataclass(frozen=True)
class DurationModel:
    X: np.ndarray
    log_seconds: np.ndarray
    spread: float  # residual sd of log seconds

    @classmethod
    def fit(cls, X: np.ndarray, seconds: np.ndarray) -> "DurationModel":
        logs = np.log(np.maximum(seconds, 1e-3))
        spread = float((logs - _average(X, logs, X, exclude_self=True)).std()) if len(X) >= 2 else 0.0
        return cls(X, logs, spread)

    def median(self, q: np.ndarray) -> float:
        return float(np.exp(_average(self.X, self.log_seconds, q[None, :])[0]))

    def simulate(self, q: np.ndarray, rng: np.random.Generator, noise_scale: float) -> float:
        return self.median(q) * float(np.exp(noise_scale * self.spread * rng.standard_normal()))

    def to_dict(self) -> dict[str, Any]:
        return {"X": self.X.tolist(), "log_seconds": self.log_seconds.tolist(), "spread": self.spread}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "DurationModel":
        return cls(np.asarray(d["X"], dtype=float), np.asarray(d["log_seconds"], dtype=float), float(d["spread"]))


#: |Spearman| between another metric and the objective value from which the other metric's
#: direction is taken to be known: with the objective (rho > 0) or against it (rho < 0).
DIRECTION_CORRELATION = 0.5


@dataclass(frozen=True)
class MetricModel:
    """Another metric the trials report (``loss`` beside ``accuracy``): its neighbours' average.

    ``direction``: inferred from the data, the objective's direction when the metric rises with
    the objective value (Spearman >= 0.5), the opposite when it falls with it (<= -0.5), "" when
    the data does not say (Katib's Experiment gives no direction for additional metrics).
    """

    name: str
    direction: str
    X: np.ndarray
    values: np.ndarray
    spread: float

    @classmethod
    def fit(cls, name: str, X: np.ndarray, values: np.ndarray, objective: np.ndarray,
            direction: str | None) -> "MetricModel":
        from scipy.stats import spearmanr

        rho = float(spearmanr(values, objective).statistic) if np.ptp(values) > 0 and np.ptp(objective) > 0 else 0.0
        other = {"maximize": "minimize", "minimize": "maximize"}
        inferred = ""
        if direction in other and rho >= DIRECTION_CORRELATION:
            inferred = direction
        elif direction in other and rho <= -DIRECTION_CORRELATION:
            inferred = other[direction]
        spread = float((values - _average(X, values, X, exclude_self=True)).std()) if len(X) >= 2 else 0.0
        return cls(name, inferred, X, values, spread)

    def mean(self, q: np.ndarray) -> float:
        return float(_average(self.X, self.values, q[None, :])[0])

    def simulate(self, q: np.ndarray, rng: np.random.Generator, noise_scale: float) -> float:
        return self.mean(q) + noise_scale * self.spread * float(rng.standard_normal())

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "direction": self.direction, "X": self.X.tolist(),
                "values": self.values.tolist(), "spread": self.spread}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "MetricModel":
        return cls(str(d["name"]), str(d.get("direction", "")), np.asarray(d["X"], dtype=float),
                   np.asarray(d["values"], dtype=float), float(d["spread"]))
