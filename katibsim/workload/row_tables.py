"""A table with one row per trial: CSV (a header line, then one line per trial) or JSON (a list of
row objects with the same keys). The column convention (``docs/workload-formats.md``):

- ``name`` (or ``trial``): the trial's name (default ``row-N``); ``status``: its Katib status
  (Succeeded, Failed, Killed, EarlyStopped, MetricsUnavailable, Running, Created; default
  Succeeded when the row has an objective value, MetricsUnavailable when not);
- ``duration``: seconds the trial ran; ``created``, ``started``, ``ended``: its times, as seconds
  (any origin) or RFC 3339 timestamps;
- ``<metric>@<step>``: the metric's value reported at that step (a learning curve);
- the objective metric: the column named by ``metric=``, else the Experiment's
  ``objectiveMetricName``, else the one metric that has per-step columns; its value is the
  column, or, when the column is missing or empty, the metric strategy over the per-step values;
- other metrics: the Experiment's ``additionalMetricNames``, every metric with per-step columns,
  and, when the Experiment is given, every column that is not one of its parameters;
- every other column is a parameter (with an Experiment: exactly its parameters).

Rows are numbered from 1 (the first row after a CSV's header) in messages.
"""

from __future__ import annotations

import csv
import io
from typing import Any, Mapping, Sequence

from katibsim.errors import InputError
from katibsim.spec.model import default_metric_strategy
from katibsim.workload.build import build_table, curve_value, number
from katibsim.workload.experiment_info import ExperimentInfo
from katibsim.workload.katib_trials import TERMINAL, timestamp
from katibsim.workload.table import ObservedTrial, TrialTable

NAME_COLUMNS = ("name", "trial")
TIME_COLUMNS = ("created", "started", "ended")
RESERVED = frozenset({*NAME_COLUMNS, "status", "duration", *TIME_COLUMNS})
STATUSES = (*TERMINAL, "Running", "Created")
STEP_MARK = "@"


def csv_rows(text: str, *, file: str) -> list[dict[str, str]]:
    """The rows of a CSV text (comma-separated, or tab-separated when the header has tabs and no commas)."""
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise InputError(f"{file}: empty, expected a CSV header line naming the columns")
    delimiter = "\t" if "\t" in lines[0] and "," not in lines[0] else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = [h.strip() for h in next(reader)]
        body = list(reader)
    except csv.Error as err:
        raise InputError(f"{file}: not a readable CSV table: {err}") from None
    seen: set[str] = set()
    for i, h in enumerate(header):
        if not h:
            raise InputError(f"{file}: header: column {i + 1} has no name")
        if h in seen:
            raise InputError(f"{file}: header: column {h} appears twice")
        seen.add(h)
    rows = []
    for n, cells in enumerate(body, start=1):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            raise InputError(f"{file}: row {n}: {len(cells)} cells for {len(header)} columns ({', '.join(header)})")
        rows.append({h: c.strip() for h, c in zip(header, cells)})
    return rows


def json_rows(doc: Any, *, file: str) -> list[Mapping[str, Any]]:
    if not isinstance(doc, list):
        raise InputError(f"{file}: expected a JSON table (a list of row objects, one per trial)")
    for n, row in enumerate(doc, start=1):
        if not isinstance(row, Mapping):
            raise InputError(f"{file}: row {n}: expected an object of column: value, got {type(row).__name__}")
        for k, v in row.items():
            if isinstance(v, (Mapping, list)):
                raise InputError(f"{file}: row {n}, column {k}: expected a number or a string, got {type(v).__name__}")
    return list(doc)


def _step_column(column: str) -> tuple[str, float] | None:
    base, mark, step = column.rpartition(STEP_MARK)
    if not mark or not base:
        return None
    try:
        return base, float(step)
    except ValueError:
        return None


def _empty(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v).strip()


def read_rows(rows: Sequence[Mapping[str, Any]], *, file: str, source: str, experiment: ExperimentInfo | None,
              metric: str | None, direction: str | None = None) -> TrialTable:
    """The table of ``rows``; ``direction``: the metric's, when no Experiment says it (for the
    default strategy over per-step values)."""
    if not rows:
        raise InputError(f"{file}: holds no rows (one row per trial expected)")
    columns = list(dict.fromkeys(k for r in rows for k in r))
    steps: dict[str, list[tuple[str, float]]] = {}
    for c in columns:
        sc = _step_column(c)
        if sc is not None:
            steps.setdefault(sc[0], []).append((c, sc[1]))
    plain = [c for c in columns if _step_column(c) is None and c not in RESERVED]
    chosen = metric or (experiment.metric_name if experiment else None)
    if not chosen:
        if len(steps) == 1:
            chosen = next(iter(steps))
        else:
            raise InputError(f"{file}: which column is the objective metric? give the metric (--metric NAME; objective option metric=NAME) (or the Experiment); "
                             f"columns: {', '.join(plain + sorted(steps))}")
    if chosen not in plain and chosen not in steps:
        raise InputError(f"{file}: no column {chosen} (the objective metric), nor {chosen}@<step> columns; columns: "
                         f"{', '.join(columns)}")
    if experiment is not None:
        params = list(experiment.space.names)
        missing = [p for p in params if p not in columns]
        if missing:
            raise InputError(f"{file}: no column for the Experiment's parameter(s) {', '.join(missing)}; columns: "
                             f"{', '.join(columns)}")
        metrics = [c for c in plain if c not in params and c != chosen]
    else:
        metric_names = {chosen, *steps}
        params = [c for c in plain if c not in metric_names]
        metrics = [c for c in plain if c in metric_names and c != chosen]
    if not params:
        raise InputError(f"{file}: no parameter columns (every column other than name, status, duration, times and "
                         "metrics is a parameter)")
    if experiment is not None and chosen == experiment.metric_name:
        direction = experiment.direction
    strategy = experiment.strategy(chosen) if experiment is not None else default_metric_strategy(direction)
    trials = [_row(r, n, file=file, params=params, metric=chosen, metrics=metrics, steps=steps.get(chosen, []),
                   strategy=strategy) for n, r in enumerate(rows, start=1)]
    return build_table(source=source, trials=trials, where=[f"row {n}" for n in range(1, len(rows) + 1)],
                       metric_name=chosen, direction=direction, info=experiment, file=file)


def _row(row: Mapping[str, Any], n: int, *, file: str, params: Sequence[str], metric: str, metrics: Sequence[str],
         steps: Sequence[tuple[str, float]], strategy: str) -> ObservedTrial:
    def num(column: str) -> float | None:
        return number(row.get(column), file=file, where=f"row {n}, column {column}", what="a number")

    parameters: dict[str, str] = {}
    for p in params:
        if _empty(row.get(p)):
            raise InputError(f"{file}: row {n}, column {p}: empty; every trial needs a value for each parameter")
        parameters[p] = _text(row[p])
    curve = []
    for column, step in sorted(steps, key=lambda cs: cs[1]):
        v = num(column)
        if v is not None:
            curve.append((step, v))
    value = num(metric) if metric in row else None
    if value is None and curve:
        value = curve_value(curve, strategy)
    status = "" if _empty(row.get("status")) else _text(row["status"])
    if not status:
        status = "Succeeded" if value is not None else "MetricsUnavailable"
    elif status not in STATUSES:
        raise InputError(f"{file}: row {n}, column status: expected one of {', '.join(STATUSES)}, got {status!r}")
    duration = num("duration")
    if duration is not None and duration < 0:
        raise InputError(f"{file}: row {n}, column duration: expected seconds >= 0, got {row['duration']!r}")
    times = {k: _time(row.get(k), file=file, where=f"row {n}, column {k}") for k in TIME_COLUMNS}
    name = next((_text(row[c]) for c in NAME_COLUMNS if not _empty(row.get(c))), f"row-{n}")
    others = {m: v for m in metrics if (v := num(m)) is not None}
    return ObservedTrial(name=name, parameters=parameters, status=status, value=value, curve=tuple(curve),
                         metrics=others, reported_duration=duration, **times)


def _time(value: Any, *, file: str, where: str) -> float | None:
    if _empty(value):
        return None
    try:
        return number(value, file=file, where=where)
    except InputError:
        return timestamp(value, file=file, where=where)
