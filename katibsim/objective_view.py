"""An objective seen through one of the other metrics it reports (``Objective.reports``).

An experiment whose ``objectiveMetricName`` is a metric the objective reports besides its main one
(``mnist-tfjob``'s ``loss``) must collect that metric's values: :func:`for_metric` gives the view
whose value, curve, direction and optimum are that metric's, the main metric becoming one of the
view's reported metrics. Everything else (inputs, checkpoints, durations) is the objective's own.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

from katibsim.objective import Checkpoint, Evaluation, Objective, ReportedMetric

__all__ = ["MetricView", "for_metric"]


class MetricView(Objective):
    """``base`` reporting ``metric`` (one of ``base.reports``) as its main metric."""

    def __init__(self, base: Objective, metric: ReportedMetric) -> None:
        self.base = base
        self.name = base.name
        self.description = base.description
        self.metric_name = metric.name
        self.direction = metric.direction or base.direction
        self.inputs = tuple(base.inputs)
        self.optimum = metric.optimum
        self.optimum_at = ()
        self.generic = base.generic
        main = ReportedMetric(base.metric_name, base.direction, base.optimum)
        self.reports = (main,) + tuple(m for m in base.reports if m.name != metric.name)

    def __getattr__(self, item: str) -> Any:  # anything else the base objective offers (durations, fidelity)
        if item == "base":
            raise AttributeError(item)
        return getattr(self.base, item)

    def _swap(self, ev: Evaluation) -> Evaluation:
        name = self.metric_name
        if name not in ev.metrics:
            from katibsim.errors import ContractError

            raise ContractError(f"objective {self.base.name or type(self.base).__name__} declares that it reports "
                                f"{name} but its evaluation has no {name} (metrics: {', '.join(ev.metrics) or 'none'})")
        value = float(ev.metrics[name])
        last = ev.curve[-1][0] if ev.curve else 1
        curve = tuple(ev.curves.get(name) or ((last, value),))
        metrics = {self.base.metric_name: ev.value, **{k: v for k, v in ev.metrics.items() if k != name}}
        curves = {k: c for k, c in ev.curves.items() if k != name}
        if ev.curve:
            curves[self.base.metric_name] = ev.curve
        # replace: every other field of the evaluation (duration, checkpoint, ...) is the base's.
        return replace(ev, value=value, curve=curve, metrics=metrics, curves=curves)

    def evaluate(self, x: Mapping[str, Any], rng) -> Evaluation:
        return self._swap(self.base.evaluate(x, rng))

    def resume(self, x: Mapping[str, Any], rng, checkpoint: Checkpoint) -> Evaluation:
        return self._swap(self.base.resume(x, rng, checkpoint))

    def noise_free(self, x: Mapping[str, Any]) -> float:
        return self.base.noise_free_metric(self.metric_name, x)

    def noise_free_metric(self, metric: str, x: Mapping[str, Any]) -> float:
        return self.base.noise_free_metric(metric, x)


def for_metric(objective: Objective, metric: str | None) -> Objective:
    """``objective`` as it reports ``metric``: itself when ``metric`` is its main metric or one it
    does not report (a mismatch :mod:`katibsim.engine.mismatch` finds), else a :class:`MetricView`."""
    if not metric or metric == objective.metric_name or isinstance(objective, MetricView) and objective.metric_name == metric:
        return objective
    reported = next((m for m in objective.reports if m.name == metric), None)
    if reported is None:
        return objective
    base = objective.base if isinstance(objective, MetricView) else objective
    if metric == base.metric_name:
        return base
    return MetricView(base, next(m for m in base.reports if m.name == metric))
