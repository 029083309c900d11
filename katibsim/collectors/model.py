"""The values metric collection produces: Katib's metric logs, the observation, explanations.

Katib keeps metric values as strings end to end (a log line's text, the DB's TEXT column, the
Trial's ``status.observation``), so :class:`MetricLog` and :class:`RawMetric` hold strings;
:class:`katibsim.algorithm.Observation` is the numeric view the engine and the algorithms use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from katibsim.algorithm import Observation
from katibsim.collectors.gocompat import go_parse_float

# consts.UnavailableMetricValue: what a collector reports when the objective never appeared.
UNAVAILABLE = "unavailable"

ConditionHint = Literal["MetricsUnavailable"]


@dataclass(frozen=True)
class MetricLog:
    """One ``api.MetricLog``: a timestamp string, a metric name and its value string.

    ``step`` (TensorFlow events) and ``where`` ("line 12", "tag accuracy_1 in train/...") are
    katibsim's additions for explanations and intermediate reports; Katib does not keep them.
    """

    timestamp: str
    name: str
    value: str
    step: int | None = None
    where: str | None = None

    @property
    def number(self) -> float | None:
        """The value as Katib's ``strconv.ParseFloat`` reads it; None when it is not a number."""
        return go_parse_float(self.value)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"timestamp": self.timestamp, "name": self.name, "value": self.value}
        if self.step is not None:
            d["step"] = self.step
        if self.where is not None:
            d["where"] = self.where
        return d


@dataclass(frozen=True)
class RawMetric:
    """One entry of a Trial's ``status.observation.metrics``, strings as Katib stores them."""

    name: str
    min: str = UNAVAILABLE
    max: str = UNAVAILABLE
    latest: str = UNAVAILABLE

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "min": self.min, "max": self.max, "latest": self.latest}


@dataclass(frozen=True)
class Explanation:
    """Whether one log line (or one event tag) gave Katib a metric, and why not.

    ``relevant`` is False for lines that mention no metric at all (Katib skips them without
    looking); renderers hide those unless asked.
    """

    where: str
    text: str
    taken: tuple[MetricLog, ...] = ()
    reasons: tuple[str, ...] = ()
    relevant: bool = True
    line: int | None = None
    file: str | None = None
    tag: str | None = None

    @property
    def is_taken(self) -> bool:
        return bool(self.taken)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "where": self.where,
            "text": self.text,
            "taken": [m.to_dict() for m in self.taken],
            "reasons": list(self.reasons),
            "relevant": self.relevant,
        }
        for key in ("line", "file", "tag"):
            if getattr(self, key) is not None:
                d[key] = getattr(self, key)
        return d


@dataclass(frozen=True)
class CollectionResult:
    """What Katib's collector would report for one trial, and what the Trial would record.

    - ``logs``: the ``ObservationLog`` the collector sends (one ``unavailable`` log for the
      objective when it never appeared, §6.2).
    - ``raw_metrics`` / ``observation``: ``status.observation`` after the trial controller's
      ``getMetrics`` (§3.10), as strings and as numbers (None for "unavailable" or non-numbers).
    - ``condition_hint``: "MetricsUnavailable" when the objective's latest is "unavailable".
    - ``collector_error``: set when Katib's collector would crash or refuse the input and
      report **nothing** (an unreadable JSON line, a filter split at ";" that no longer
      compiles, a missing metrics file). Katib then never fills the observation and the trial
      stays Running (§6.4); the backend decides what katibsim shows for it.
    """

    metric_names: tuple[str, ...]
    observation: Observation
    logs: tuple[MetricLog, ...]
    condition_hint: ConditionHint | None
    warnings: tuple[str, ...] = ()
    explanations: tuple[Explanation, ...] = ()
    raw_metrics: tuple[RawMetric, ...] = ()
    collector_error: str | None = None
    collected: tuple[MetricLog, ...] = field(default=(), repr=False)
    # Lines read but not explained: ones that mention no metric (when only relevant lines are
    # kept), and ones beyond the explanation budget of a very long log.
    lines_not_shown: int = 0
    explanations_cut: int = 0

    @property
    def objective(self) -> str:
        return self.metric_names[0]

    @property
    def reported(self) -> bool:
        """False when the collector would report nothing at all (see ``collector_error``)."""
        return self.collector_error is None

    @property
    def objective_collected(self) -> bool:
        """True when the objective has a numeric latest value (the trial can succeed with it)."""
        m = self.observation.get(self.objective)
        return self.reported and m is not None and m.latest is not None

    def raw(self, name: str) -> RawMetric | None:
        for m in self.raw_metrics:
            if m.name == name:
                return m
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric_names": list(self.metric_names),
            "objective": self.objective,
            "objective_collected": self.objective_collected,
            "condition_hint": self.condition_hint,
            "collector_error": self.collector_error,
            "observation": [m.to_dict() for m in self.raw_metrics],
            "logs": [m.to_dict() for m in self.logs],
            "warnings": list(self.warnings),
            "explanations": [e.to_dict() for e in self.explanations],
            "lines_not_shown": self.lines_not_shown,
            "explanations_cut": self.explanations_cut,
        }
