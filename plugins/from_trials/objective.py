"""``from-trials``: the objective a real experiment's finished trials describe.

Options: ``file`` (a trials file of any format the workload readers read, or a model file written
by ``katibsim surrogate fit --model``), ``experiment`` (the Experiment, when the trials file does
not hold it), ``metric`` (the objective metric where the file has several), ``model`` (``gp`` or
``forest``), ``noise_scale`` (multiplier of the measured trial-to-trial noise, default 1),
``time_scale`` (multiplier of the modelled durations, default 1), ``direction`` (only when the data
does not say). Metric name and direction come from the data, and the objective is not generic
(``Objective.generic = False``: an experiment asking for another metric or a wider range is a
mismatch); its other metrics (``reports``) are those every usable trial reported, each with the
direction the data shows (see ``neighbours.MetricModel``). The inputs are the table's parameters,
bounded by the Experiment's feasible space when it was given, else by the region the trials
cover; extrapolation is counted against the covered region in both cases. The optimum is the best predicted mean
over that region (approximate: the trials and a Sobol sample of the region are searched).

A trial: value = predicted mean + ``noise_scale`` x noise, mirrored back into the range of the
values the trials reported (no simulated run beats every real one through noise alone); a learning curve from the curve model
(its metric strategy's value is the trial's value) or a single report when the trials had no
curves; a duration from the duration model, or 60 s when the trials had no times. A point outside
the covered region is marked ``extrapolated``.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from katibsim.errors import KatibsimError
from katibsim.objective import Evaluation, Objective, ObjectiveInput, ReportedMetric
from katibsim_plugins.objectives.options import as_float, check_known, input_error, option_error

from .encoding import Column
from .regressors import FITTERS
from .source import surrogate_for
from .surrogate import Surrogate

OPTIONS: Mapping[str, str] = {
    "file": "trials file (Katib Trial list, Experiment + trials, katibsim result, CSV/JSON table) or model JSON",
    "experiment": "the Experiment (kubectl get experiment -o yaml) when the trials file does not hold it",
    "metric": "the objective metric, where the file has several",
    "model": "mean model when fitting trials: gp (default) or forest",
    "noise_scale": "multiplier of the measured trial-to-trial noise (default 1; 0 = the predicted mean)",
    "time_scale": "multiplier of the modelled trial durations (default 1)",
    "direction": "maximize or minimize, only when the data does not say",
}
DEFAULT_DURATION = 60.0


def reflect(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """``values`` mirrored at ``low`` / ``high`` back into the range (then clipped): no mass piles up
    on the edge, as clipping would make (many trials tied at exactly the best value)."""
    v = np.where(values > high, 2 * high - values, values)
    v = np.where(v < low, 2 * low - v, v)
    return np.clip(v, low, high)


def _input(c: Column) -> ObjectiveInput:
    """The input as the host checks it: the Experiment's feasible space when it was given, else the
    region the trials cover (extrapolation is counted against the covered region either way)."""
    if c.kind == "categorical":
        values = tuple(c.declared) or c.values
        return ObjectiveInput(c.name, 0.0, float(max(0, len(values) - 1)), "categorical", values)
    low, high = c.declared if c.declared else (c.low, c.high)
    return ObjectiveInput(c.name, float(min(low, c.low)), float(max(high, c.high)), c.kind, log=c.log)


class FromTrials(Objective):
    name = "from-trials"
    file_options = ("file", "experiment")
    generic = False  # a real job: its metric names and input ranges mean something
    description = ("Surrogate of a real experiment fitted to its finished trials (file=PATH: Katib Trials, "
                   "katibsim results, CSV/JSON, or a model JSON); noise, curves and durations from the data.")

    def __init__(self, **options: Any) -> None:
        check_known(self.name, options, OPTIONS)
        path = options.get("file")
        if not path:
            raise option_error(self.name, "file", "required: a trials file or a model file (file=PATH)")
        kind = options.get("model")
        if kind is not None and kind not in FITTERS:
            raise option_error(self.name, "model", f"must be one of {', '.join(FITTERS)}", kind)
        self.noise_scale = as_float(self.name, "noise_scale", options.get("noise_scale", 1.0), low=0.0)
        self.time_scale = as_float(self.name, "time_scale", options.get("time_scale", 1.0), low=0.0, low_open=True)
        try:
            self.surrogate: Surrogate = surrogate_for(str(path), experiment=options.get("experiment"),
                                                      metric=options.get("metric"), kind=kind)
        except KatibsimError as exc:
            raise option_error(self.name, "file", str(exc), str(path)) from None
        s = self.surrogate
        direction = s.direction or options.get("direction")
        if direction not in ("maximize", "minimize"):
            raise option_error(self.name, "direction", f"{path} does not say whether {s.metric_name} is maximized; "
                               "give direction=maximize or direction=minimize", options.get("direction"))
        if s.direction and options.get("direction") not in (None, s.direction):
            raise option_error(self.name, "direction", f"the data says {s.metric_name} is {s.direction}d",
                               options.get("direction"))
        self.metric_name = s.metric_name
        self.direction = direction
        self.inputs = tuple(_input(c) for c in s.encoding.columns)
        self.reports = tuple(ReportedMetric(m.name, m.direction) for m in s.metrics)
        self.optimum, at = s.best(direction)
        self.optimum_at = (at,)

    def _point(self, x: Mapping[str, Any]) -> dict[str, Any]:
        missing = [c.name for c in self.surrogate.encoding.columns if c.name not in x]
        if missing:
            raise input_error(self.name, f"missing input(s) {', '.join(missing)}; expected "
                              f"{', '.join(self.surrogate.encoding.names)}")
        point: dict[str, Any] = {}
        for c in self.surrogate.encoding.columns:
            raw = x[c.name]
            if c.kind == "categorical":
                point[c.name] = str(raw)
                continue
            try:
                point[c.name] = float(raw)
            except (TypeError, ValueError):
                raise input_error(self.name, f"input {c.name} must be a number", raw) from None
        return point

    def noise_free(self, x: Mapping[str, Any]) -> float:
        return float(self.surrogate.mean(self.surrogate.encoding.encode([self._point(x)]))[0])

    def evaluate(self, x: Mapping[str, Any], rng: np.random.Generator) -> Evaluation:
        s = self.surrogate
        point = self._point(x)
        q = s.encoding.encode([point])[0]
        low, high = s.value_range
        value = float(s.mean(q[None, :])[0]) + self.noise_scale * s.noise_sd * float(rng.standard_normal())
        value = float(reflect(np.array([value]), low, high)[0])
        if s.curve is not None:
            values = reflect(s.curve.simulate(q, value, rng, self.noise_scale), low, high)
            curve = tuple((int(round(step)), float(v)) for step, v in zip(s.curve.steps, values))
            value = curve[-1][1]
        else:
            curve = ((1, value),)
        duration = DEFAULT_DURATION if s.duration is None else s.duration.simulate(q, rng, self.noise_scale)
        metrics = {m.name: m.simulate(q, rng, self.noise_scale) for m in s.metrics}
        return Evaluation(value=value, curve=curve, duration=self.time_scale * duration, metrics=metrics,
                          extrapolated=s.extrapolated(point))

    def noise_free_metric(self, metric: str, x: Mapping[str, Any]) -> float:
        if metric == self.metric_name:
            return self.noise_free(x)
        model = next((m for m in self.surrogate.metrics if m.name == metric), None)
        if model is None:
            raise KeyError(metric)
        return model.mean(self.surrogate.encoding.encode([self._point(x)])[0])
