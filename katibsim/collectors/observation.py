"""From collected metric logs to Katib's observation: the report rule, the DB, ``getMetrics``.

Three Katib steps, in order:
1. The collector's report (``newObservationLog``, §6.2): when no log carries the objective
   (the first metric name), the whole report is replaced by one ``unavailable`` log for it —
   additional metrics that were found are dropped too.
2. The DB (§3.10): timestamps are stored as UTC ``DATETIME(6)`` (truncated to microseconds)
   and read back ``ORDER BY time``. katibsim keeps insertion order among equal times, as
   MySQL does in practice; Katib does not promise it.
3. The trial controller's ``getMetrics`` (§3.10): per metric, min and max over the values that
   parse as floats (first value sets both; then ``<`` min else ``>`` max, an ``else if``),
   latest = the value of the last log whose time is >= the latest seen; original strings kept.
"""

from __future__ import annotations

from typing import Sequence

from katibsim.algorithm import Metric, Observation
from katibsim.collectors.gocompat import ZERO_TIME, go_parse_float, go_parse_rfc3339
from katibsim.collectors.model import UNAVAILABLE, MetricLog, RawMetric
from katibsim.errors import InputError


def report(logs: Sequence[MetricLog], metric_names: Sequence[str], *, unavailable_timestamp: str) -> tuple[MetricLog, ...]:
    """The ObservationLog Katib's collector sends for ``logs`` (§6.2 "Objective missing").

    ``unavailable_timestamp`` differs by collector: the Go file collector uses the zero time,
    the TensorFlowEvent collector the current time.
    """
    if not metric_names:
        raise InputError("at least one metric name (the objective) is needed")
    objective = metric_names[0]
    if any(log.name == objective for log in logs):
        return tuple(logs)
    return (MetricLog(timestamp=unavailable_timestamp, name=objective, value=UNAVAILABLE),)


def db_order(logs: Sequence[MetricLog]) -> list[MetricLog]:
    """The logs as Katib's DB returns them: by time at microsecond precision, ties in insertion order.

    Raises InputError for a timestamp Katib's DB manager cannot parse (it refuses the whole
    report then); the collectors never produce one.
    """
    keyed = []
    for index, log in enumerate(logs):
        t = go_parse_rfc3339(log.timestamp)
        if t is None:
            raise InputError(f"Katib's DB manager cannot parse timestamp {log.timestamp!r} and would refuse the report")
        keyed.append((t.micros, index, log))
    keyed.sort(key=lambda item: (item[0], item[1]))
    return [log for _, _, log in keyed]


def raw_metrics(logs: Sequence[MetricLog], metric_names: Sequence[str]) -> tuple[RawMetric, ...]:
    """``getMetrics`` over DB-ordered ``logs``: one entry per metric name, strings as Katib keeps them.

    Every metric with a strategy is present, "unavailable" where it has no log (Katib's
    defaulting gives every objective and additional metric a strategy, §1.2).
    """
    state: dict[str, list] = {name: [UNAVAILABLE, UNAVAILABLE, UNAVAILABLE, None] for name in metric_names}
    for log in db_order(logs):
        entry = state.get(log.name)
        if entry is None:
            continue
        value = go_parse_float(log.value)
        if value is not None:
            if entry[0] == UNAVAILABLE:
                entry[0] = entry[1] = log.value
            else:
                # NaN compares false both ways, so a NaN first value pins min and max: as in Go.
                if value < go_parse_float(entry[0]):  # type: ignore[operator]
                    entry[0] = log.value
                elif value > go_parse_float(entry[1]):  # type: ignore[operator]
                    entry[1] = log.value
        t = go_parse_rfc3339(log.timestamp) or ZERO_TIME
        if entry[3] is None or not entry[3] > t.micros:
            entry[3] = t.micros
            entry[2] = log.value
    return tuple(RawMetric(name, mn, mx, latest) for name, (mn, mx, latest, _) in state.items())


def _number(text: str) -> float | None:
    return None if text == UNAVAILABLE else go_parse_float(text)


def to_observation(metrics: Sequence[RawMetric]) -> Observation:
    """The numeric view: None for "unavailable" and for values that are not numbers."""
    return Observation(
        metrics=tuple(Metric(name=m.name, min=_number(m.min), max=_number(m.max), latest=_number(m.latest)) for m in metrics)
    )


def metrics_unavailable(metrics: Sequence[RawMetric], objective: str) -> bool:
    """Katib's test (§3.9): the trial is MetricsUnavailable when the objective's latest is "unavailable"."""
    for m in metrics:
        if m.name == objective:
            return m.latest == UNAVAILABLE
    return True
