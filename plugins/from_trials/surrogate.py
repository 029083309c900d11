"""Fitting a table of trials, and the model file.

:func:`fit_table` turns a :class:`~katibsim.workload.table.TrialTable` into a :class:`Surrogate`:
the encoding of its parameters over the region the usable trials cover, the mean-and-noise model
of the objective value (``gp`` or ``forest``, see :mod:`.regressors`), the learning-curve model
when the trials carry per-step values, the duration model when they carry times. A trial is left
out, with the reason, when it did not finish with a value or a parameter value cannot be read.

The predicted mean is kept within the lowest and highest value the trials reached: between
trials a Gaussian process can overshoot a steep edge (an accuracy above 1 next to the learning
rate where training diverges), and a simulated job should not be better than any real run was.

The model file is JSON (``format: katibsim-surrogate``, ``schema: 1``): everything prediction
needs, readable without refitting and without pickle. :func:`load_model` checks it and names the
file and the field on any problem.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from katibsim.errors import InputError
from katibsim.spec.model import default_metric_strategy
from katibsim.spec.space import ParameterType
from katibsim.workload.table import TrialTable

from .encoding import Column, Encoding, nearest_neighbour_radius
from .neighbours import CurveModel, DurationModel, MetricModel, strategy_value
from .regressors import FITTERS, LOADERS

FORMAT = "katibsim-surrogate"
SCHEMA = 1
#: The mean model when nothing else is asked for: the Gaussian process, chosen by the
#: cross-validation in docs/surrogate.md.
DEFAULT_KIND = "gp"
KINDS = tuple(FITTERS)
MIN_TRIALS = 4
#: Candidate points (besides the trials themselves) searched for the best predicted mean.
OPTIMUM_CANDIDATES = 1024


@dataclass(frozen=True)
class Surrogate:
    """A fitted model of one experiment's objective over the region its trials cover."""

    source: str
    metric_name: str
    direction: str | None
    kind: str
    encoding: Encoding
    model: Any  # a regressors.GaussianProcess or regressors.Forest
    X: np.ndarray  # unit rows of the trials used
    y: np.ndarray
    curve: CurveModel | None = None
    duration: DurationModel | None = None
    skipped: tuple[tuple[str, str], ...] = ()  # (trial, reason)
    experiment_name: str | None = None
    metrics: tuple[MetricModel, ...] = ()  # the other metrics every usable trial reports
    quality: Mapping[str, Any] | None = field(default=None, compare=False)

    @property
    def used(self) -> int:
        return len(self.y)

    @property
    def noise_sd(self) -> float:
        return self.model.noise_sd

    @property
    def value_range(self) -> tuple[float, float]:
        """The lowest and highest value the trials reported (objective values and curve points)."""
        low, high = float(self.y.min()), float(self.y.max())
        if self.curve is not None:
            low = min(low, self.curve.low)
            high = max(high, self.curve.high)
        return low, high

    def mean(self, X: np.ndarray) -> np.ndarray:
        """The predicted mean at unit rows ``X``, kept within the values the trials reached."""
        return np.clip(self.model.mean(X), self.y.min(), self.y.max())

    def predict(self, points: Sequence[Mapping[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation of a new trial's value at each point (noise included)."""
        mean, std = self.model.predict(self.encoding.encode(points))
        return np.clip(mean, self.y.min(), self.y.max()), std

    def interval(self, points: Sequence[Mapping[str, Any]], level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        from scipy.stats import norm

        mean, std = self.predict(points)
        z = float(norm.ppf(0.5 + level / 2.0))
        return mean, mean - z * std, mean + z * std

    def extrapolated(self, point: Mapping[str, Any]) -> bool:
        return self.encoding.extrapolated(point, self.X)

    def best(self, direction: str) -> tuple[float, dict[str, Any]]:
        """The best predicted mean over the covered region (approximate: the trials and a Sobol sample)."""
        points = candidate_points(self.encoding, OPTIMUM_CANDIDATES)
        raw = self.model.mean(np.vstack([self.X, self.encoding.encode(points)]))
        k = int(np.argmax(raw) if direction == "maximize" else np.argmin(raw))  # where the model peaks
        at = decode(self.encoding, self.X[k]) if k < len(self.X) else points[k - len(self.X)]
        return float(np.clip(raw[k], self.y.min(), self.y.max())), at

    # -- the model file ----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "schema": SCHEMA,
            "source": self.source,
            "experiment_name": self.experiment_name,
            "metric_name": self.metric_name,
            "direction": self.direction,
            "kind": self.kind,
            "encoding": self.encoding.to_dict(),
            "trials": {"used": self.used, "skipped": [{"name": n, "reason": r} for n, r in self.skipped]},
            "X": self.X.tolist(),
            "y": self.y.tolist(),
            "model": self.model.to_dict(),
            "curve": None if self.curve is None else self.curve.to_dict(),
            "duration": None if self.duration is None else self.duration.to_dict(),
            "metrics": [m.to_dict() for m in self.metrics],
            "quality": None if self.quality is None else dict(self.quality),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Surrogate":
        model = d["model"]
        kind = str(model["kind"])
        return cls(
            source=str(d.get("source", "")),
            experiment_name=d.get("experiment_name"),
            metric_name=str(d["metric_name"]),
            direction=d.get("direction"),
            kind=kind,
            encoding=Encoding.from_dict(d["encoding"]),
            model=LOADERS[kind](model),
            X=np.asarray(d["X"], dtype=float).reshape(len(d["y"]), -1),
            y=np.asarray(d["y"], dtype=float),
            curve=None if d.get("curve") is None else CurveModel.from_dict(d["curve"]),
            duration=None if d.get("duration") is None else DurationModel.from_dict(d["duration"]),
            skipped=tuple((str(s["name"]), str(s["reason"])) for s in d.get("trials", {}).get("skipped", ())),
            metrics=tuple(MetricModel.from_dict(m) for m in d.get("metrics", ())),
            quality=d.get("quality"),
        )


def is_model_file(path: str | Path) -> bool:
    """A JSON file whose top level says ``format: katibsim-surrogate`` (in any key order: a model
    file passed through ``jq -S`` is still one)."""
    p = Path(path)
    if p.suffix.lower() != ".json" or not p.is_file():
        return False
    try:
        d = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return False
    return isinstance(d, Mapping) and d.get("format") == FORMAT


def load_model(path: str | Path) -> Surrogate:
    """Read a model file written by :func:`write_model`; problems name the file and the field."""
    try:
        d = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read the model file: {exc.strerror or exc}") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}: not JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(d, Mapping) or d.get("format") != FORMAT:
        raise InputError(f"{path}: format: expected {FORMAT!r} (a model written by katibsim surrogate fit --model)")
    schema = d.get("schema")
    if type(schema) is not int or schema < 1 or schema > SCHEMA:
        raise InputError(f"{path}: schema: {schema!r}; this katibsim reads model schema 1 to {SCHEMA}")
    kind = d.get("model", {}).get("kind") if isinstance(d.get("model"), Mapping) else None
    if kind not in LOADERS:
        raise InputError(f"{path}: model.kind: {kind!r}; expected one of {', '.join(LOADERS)}")
    bad = _non_finite(d, "")
    if bad is not None:
        raise InputError(f"{path}: {bad}: not a finite number (a model file holds no NaN or infinity)")
    try:
        surrogate = Surrogate.from_dict(d)
        _exercise(surrogate)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, ArithmeticError) as exc:
        what = (f": missing field {exc}" if isinstance(exc, KeyError)
                else f" (its parts do not fit together): {type(exc).__name__}: {exc}")
        raise InputError(f"{path}: not a valid model file{what}") from None
    return surrogate


def _non_finite(value: Any, where: str) -> str | None:
    """The field path of the first NaN or infinite number in a parsed model file, None when none."""
    if isinstance(value, float) and not math.isfinite(value):
        return where or "(top level)"
    if isinstance(value, Mapping):
        for k, v in value.items():
            found = _non_finite(v, f"{where}.{k}" if where else str(k))
            if found:
                return found
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found = _non_finite(v, f"{where}[{i}]")
            if found:
                return found
    return None


def _exercise(s: Surrogate) -> None:
    """Use every part of a loaded model once, at its own trials, so that a file whose parts do not
    fit together (an edited one) fails when it is loaded, not in the middle of a simulation: the
    mean, the intervals, the extrapolation test and each neighbour model, whose answers must be
    finite numbers."""
    if s.direction not in (None, "maximize", "minimize"):
        raise ValueError(f"direction {s.direction!r}: expected maximize, minimize or null")
    kinds = [c.kind for c in s.encoding.columns if c.kind not in ("double", "int", "categorical")]
    if kinds:
        raise ValueError(f"encoding column kind {kinds[0]!r}: expected double, int or categorical")
    if not len(s.y) or s.X.shape[0] != len(s.y):
        raise ValueError(f"{len(s.y)} values for {s.X.shape[0]} trials")
    if s.X.shape[1] != s.encoding.width:
        raise ValueError(f"trials of {s.X.shape[1]} columns for an encoding of {s.encoding.width}")
    point = decode(s.encoding, s.X[0])
    checks = [*s.interval([point], 0.95), s.mean(s.X), np.array([s.noise_sd])]
    s.extrapolated(point)
    rng = np.random.default_rng(0)
    if s.curve is not None:
        checks.append(s.curve.simulate(s.X[0], float(s.y[0]), rng, 1.0))
    if s.duration is not None:
        checks.append(np.array([s.duration.simulate(s.X[0], rng, 1.0)]))
    for m in s.metrics:
        checks.append(np.array([m.simulate(s.X[0], rng, 1.0)]))
    if not all(np.all(np.isfinite(np.asarray(c, dtype=float))) for c in checks):
        raise ValueError("it predicts a value that is not a finite number")


def write_model(surrogate: Surrogate, path: str | Path) -> None:
    try:
        Path(path).write_text(json.dumps(surrogate.to_dict(), separators=(",", ":")) + "\n", encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write the model file {path}: {exc.strerror or exc}") from None


# -- fitting ----------------------------------------------------------------------------------------------


def _typed(table: TrialTable, trial) -> tuple[dict[str, Any] | None, str]:
    """The trial's point (numbers as floats, categories as strings), or None and why not."""
    point: dict[str, Any] = {}
    for p in table.space.parameters:
        raw = trial.parameters.get(p.name)
        if raw is None:
            return None, f"no value for parameter {p.name}"
        if p.type == ParameterType.CATEGORICAL:
            point[p.name] = str(raw)
            continue
        try:
            v = float(raw)
        except (TypeError, ValueError):
            return None, f"parameter {p.name}: {raw!r} is not a number"
        if not math.isfinite(v):
            return None, f"parameter {p.name}: {raw!r} is not finite"
        point[p.name] = v
    return point, ""


def _columns(table: TrialTable, points: Sequence[Mapping[str, Any]]) -> tuple[Column, ...]:
    cols = []
    for p in table.space.parameters:
        seen = [pt[p.name] for pt in points]
        if p.type == ParameterType.CATEGORICAL:
            order = [v for v in p.values if v in set(seen)] or []
            order += sorted(set(seen) - set(order))
            declared = tuple(p.values) if p.name in table.declared else ()
            cols.append(Column(p.name, "categorical", values=tuple(order), declared=declared))
            continue
        low, high = float(min(seen)), float(max(seen))
        declared = tuple(float(b) for b in p.bounds) if p.name in table.declared else ()
        cols.append(Column(p.name, "int" if p.type == ParameterType.INT else "double", low, high,
                           log=bool(p.is_log and low > 0), declared=declared))
    return tuple(cols)


def _strategy(curves: np.ndarray, values: np.ndarray, direction: str | None) -> str:
    """The metric strategy the trials' values follow (max, min or latest of the curve)."""
    default = default_metric_strategy(direction)
    score = {}
    for s in ("max", "min", "latest"):
        score[s] = sum(abs(strategy_value(c, s) - v) <= 1e-6 * max(1.0, abs(v)) for c, v in zip(curves, values))
    best = max(score.values())
    return default if score.get(default) == best else max(score, key=lambda s: score[s])


def fit_table(table: TrialTable, kind: str = DEFAULT_KIND, *, seed: int = 0) -> Surrogate:
    """Fit the surrogate of ``table``; an InputError when fewer than MIN_TRIALS trials are usable."""
    if kind not in FITTERS:
        raise InputError(f"unknown model kind {kind!r}; expected one of {', '.join(FITTERS)}")
    skipped: list[tuple[str, str]] = []
    rows: list[tuple[Any, dict[str, Any]]] = []
    for t in table.trials:
        if not t.usable:
            why = f"status {t.status}" if t.status not in ("Succeeded", "EarlyStopped") else "no objective value"
            skipped.append((t.name, why))
            continue
        point, why = _typed(table, t)
        if point is None or not math.isfinite(float(t.value)):
            skipped.append((t.name, why or f"objective value {t.value!r} is not finite"))
            continue
        rows.append((t, point))
    if len(rows) < MIN_TRIALS:
        reasons = Counter(r for _, r in skipped)
        detail = "; ".join(f"{n} {r}" for r, n in reasons.most_common()) or "none skipped"
        raise InputError(f"{table.source}: {len(rows)} usable trial(s) of {len(table.trials)} ({detail}); "
                         f"a surrogate needs at least {MIN_TRIALS} finished trials with a value of {table.metric_name}")
    points = [p for _, p in rows]
    enc = Encoding(_columns(table, points))
    X = enc.encode(points)
    enc = Encoding(enc.columns, nearest_neighbour_radius(X))
    y = np.array([float(t.value) for t, _ in rows])
    model = FITTERS[kind](X, y, seed)
    return Surrogate(
        source=table.source, metric_name=table.metric_name, direction=table.direction, kind=kind, encoding=enc,
        model=model, X=X, y=y, curve=_curve_model(rows, X, table.direction), duration=_duration_model(rows, X),
        skipped=tuple(skipped), experiment_name=table.experiment_name,
        metrics=_metric_models(rows, X, y, table.metric_name, table.direction),
    )


def _metric_models(rows, X: np.ndarray, y: np.ndarray, metric: str, direction: str | None) -> tuple[MetricModel, ...]:
    """One model per other metric that every usable trial reports with a finite number."""
    names = set.intersection(*(set(t.metrics) for t, _ in rows)) - {metric}
    out = []
    for name in sorted(names):
        try:
            values = np.array([float(t.metrics[name]) for t, _ in rows])
        except (TypeError, ValueError):
            continue
        if np.all(np.isfinite(values)):
            out.append(MetricModel.fit(name, X, values, y, direction))
    return tuple(out)


def _curve_model(rows, X: np.ndarray, direction: str | None) -> CurveModel | None:
    """From the trials whose curve has the most common multi-step shape (at least 2 of them)."""
    shapes = Counter(tuple(s for s, _ in t.curve) for t, _ in rows if len(t.curve) >= 2)
    if not shapes:
        return None
    steps, count = max(shapes.items(), key=lambda kv: (kv[1], len(kv[0])))
    if count < 2:
        return None
    keep = [i for i, (t, _) in enumerate(rows) if tuple(s for s, _ in t.curve) == steps]
    curves = np.array([[v for _, v in rows[i][0].curve] for i in keep], dtype=float)
    values = np.array([float(rows[i][0].value) for i in keep])
    return CurveModel.fit(X[keep], curves, values, tuple(float(s) for s in steps), _strategy(curves, values, direction))


def _duration_model(rows, X: np.ndarray) -> DurationModel | None:
    keep = [i for i, (t, _) in enumerate(rows) if t.duration is not None and t.duration > 0]
    if len(keep) < 2:
        return None
    return DurationModel.fit(X[keep], np.array([rows[i][0].duration for i in keep], dtype=float))


# -- points ---------------------------------------------------------------------------------------------


def decode(enc: Encoding, row: np.ndarray) -> dict[str, Any]:
    out: dict[str, Any] = {}
    k = 0
    for c in enc.columns:
        if c.kind == "categorical":
            out[c.name] = c.values[int(np.argmax(row[k:k + c.width]))] if c.values else ""
        else:
            v = c.from_unit(float(row[k]))
            out[c.name] = int(round(v)) if c.kind == "int" else v
        k += c.width
    return out


def candidate_points(enc: Encoding, n: int, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` points spread over the covered region: a scrambled Sobol sequence, categories drawn."""
    from scipy.stats import qmc

    numeric = [c for c in enc.columns if c.kind != "categorical"]
    rng = np.random.default_rng(seed)
    U = qmc.Sobol(max(1, len(numeric)), scramble=True, seed=seed).random(n)
    out = []
    for i in range(n):
        p: dict[str, Any] = {}
        j = 0
        for c in enc.columns:
            if c.kind == "categorical":
                p[c.name] = c.values[int(rng.integers(len(c.values)))] if c.values else ""
            else:
                v = c.from_unit(float(U[i, j]))
                p[c.name] = float(round(v)) if c.kind == "int" else v
                j += 1
        out.append(p)
    return out
