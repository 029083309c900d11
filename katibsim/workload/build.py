"""From the trials a reader found to a :class:`~katibsim.workload.table.TrialTable`.

Shared by every reader: Katib's metric strategies over an observation, the search space inferred
from the values the trials took (when no Experiment declares it), the check of the trials'
assignments against a declared space, and times made relative to the first trial's creation.

Inference (``docs/workload-formats.md``): a parameter whose every value is a number is ``int``
when every value is written as an integer ("16", not "16.0"), otherwise ``double``, with the
smallest and largest value seen as its range; a positive one whose values span at least two
orders of magnitude (max / min >= 100) is on a log scale (``logUniform``); any other parameter
is ``categorical`` with the values seen, in the order first seen.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any, Mapping, Sequence

from katibsim.errors import InputError
from katibsim.spec.space import Distribution, Parameter, ParameterType, SearchSpace, parse_number
from katibsim.workload.experiment_info import ExperimentInfo
from katibsim.workload.table import ObservedTrial, TrialTable

#: max / min at or above which a positive inferred parameter is modelled on a log scale.
LOG_SPAN = 100.0
#: Katib writes this as the value of a metric it could not collect.
UNAVAILABLE = "unavailable"
STRATEGIES = ("min", "max", "latest")


def number(value: Any, *, file: str, where: str, what: str = "a number") -> float | None:
    """A metric value (a Katib string or a JSON number) -> float; None for "" / "unavailable" / null."""
    if value is None or (isinstance(value, str) and value.strip() in ("", UNAVAILABLE)):
        return None
    if isinstance(value, bool):
        raise InputError(f"{file}: {where}: expected {what}, got {value!r}")
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{file}: {where}: expected {what}, got {value!r}") from None
    if not math.isfinite(x):
        raise InputError(f"{file}: {where}: expected a finite number, got {value!r}")
    return x


def strategy_value(observation: Mapping[str, Any], strategy: str, *, file: str, where: str) -> float | None:
    """The value Katib takes from one ``{name, min, max, latest}`` observation under ``strategy``."""
    if strategy not in STRATEGIES:
        raise InputError(f"{file}: {where}: metric strategy {strategy!r} is not one of min, max, latest")
    return number(observation.get(strategy), file=file, where=f"{where}.{strategy}")


def observed(metrics: Any, metric: str, strategy: str, *, file: str, where: str) -> tuple[float | None, dict[str, float]]:
    """A list of ``{name, min, max, latest}`` observations -> (``metric`` under ``strategy``, the others' latest)."""
    if metrics is None:
        metrics = []
    if not isinstance(metrics, list):
        raise InputError(f"{file}: {where}: expected a list of {{name, min, max, latest}}, got {type(metrics).__name__}")
    value: float | None = None
    others: dict[str, float] = {}
    for i, m in enumerate(metrics):
        at = f"{where}[{i}]"
        if not isinstance(m, Mapping) or not isinstance(m.get("name"), str):
            raise InputError(f"{file}: {at}: expected {{name, min, max, latest}}, got {m!r}"[:300])
        if m["name"] == metric:
            value = strategy_value(m, strategy, file=file, where=at)
        elif (latest := strategy_value(m, "latest", file=file, where=at)) is not None:
            others[m["name"]] = latest
    return value, others


def curve_value(curve: Sequence[tuple[float, float]], strategy: str) -> float | None:
    """A strategy over per-step values (the value Katib would have observed from those reports)."""
    if not curve:
        return None
    values = [v for _, v in curve]
    return {"min": min, "max": max}.get(strategy, lambda vs: vs[-1])(values)


def _is_int_text(text: str) -> bool:
    try:
        return isinstance(parse_number(text), int)
    except ValueError:
        return False


def _number_or_none(text: str) -> float | None:
    try:
        x = float(parse_number(text))
    except (ValueError, TypeError):
        return None
    return x if math.isfinite(x) else None


def infer_parameter(name: str, values: Sequence[str], where: Sequence[str] | None = None, *,
                    file: str = "") -> Parameter:
    """One parameter's type and range from the values its trials took (see the module docstring).

    A parameter whose values are mostly numbers but not all is taken for a typo (InputError at the
    first value that is not a number): declare it categorical in the Experiment if it is one."""
    parsed = [_number_or_none(v) for v in values]
    if any(x is None for x in parsed):
        numeric = sum(x is not None for x in parsed)
        if numeric * 2 > len(parsed):
            i = next(i for i, x in enumerate(parsed) if x is None)
            at = where[i] if where is not None else f"trial {i + 1}"
            raise InputError(f"{file}: {at}, parameter {name}: {values[i]!r} is not a number, though {numeric} of the "
                             f"{len(parsed)} values are (give the Experiment to declare {name} categorical)")
        seen = list(dict.fromkeys(str(x) for x in values))
        return Parameter(name=name, type=ParameterType.CATEGORICAL, values=tuple(seen))
    numbers = [x for x in parsed if x is not None]
    lo, hi = min(numbers), max(numbers)
    log = lo > 0 and hi / lo >= LOG_SPAN
    dist = Distribution.LOG_UNIFORM if log else Distribution.UNIFORM
    if all(_is_int_text(v) for v in values):
        return Parameter(name=name, type=ParameterType.INT, min=int(lo), max=int(hi), distribution=dist)
    return Parameter(name=name, type=ParameterType.DOUBLE, min=lo, max=hi, distribution=dist)


def infer_space(names: Sequence[str], trials: Sequence[ObservedTrial], where: Sequence[str] | None = None, *,
                file: str = "") -> SearchSpace:
    return SearchSpace(tuple(infer_parameter(n, [t.parameters[n] for t in trials], where, file=file) for n in names))


def check_assignments(trials: Sequence[ObservedTrial], where: Sequence[str], *, file: str,
                      declared: SearchSpace | None) -> tuple[str, ...]:
    """The parameter names, in order; every trial must assign the same ones (the declared ones, if any)."""
    if not trials:
        return ()
    names = declared.names if declared is not None else tuple(trials[0].parameters)
    expected = set(names)
    for t, w in zip(trials, where):
        got = set(t.parameters)
        if got != expected:
            missing, extra = sorted(expected - got), sorted(got - expected)
            parts = ([f"missing {', '.join(missing)}"] if missing else []) + ([f"unknown {', '.join(extra)}"] if extra else [])
            against = "the Experiment's parameters" if declared is not None else f"the first trial's ({', '.join(names)})"
            raise InputError(f"{file}: {w}: parameters do not match {against}: {'; '.join(parts)}")
        if declared is not None:
            for p in declared.parameters:
                try:
                    p.parse(t.parameters[p.name])
                except ValueError as err:
                    raise InputError(f"{file}: {w}: parameter {p.name}: {t.parameters[p.name]!r} is not a value of a "
                                     f"{p.type.value} parameter ({err})") from None
    return names


def relative_times(trials: Sequence[ObservedTrial]) -> tuple[ObservedTrial, ...]:
    """Times shifted to seconds after the first creation; trials ordered by creation (stable)."""
    created = [t.created for t in trials if t.created is not None]
    starts = created or [t.started for t in trials if t.started is not None]
    if not starts:
        return tuple(trials)
    t0 = min(starts)

    def shift(x: float | None) -> float | None:
        return None if x is None else x - t0

    out = [replace(t, created=shift(t.created), started=shift(t.started), ended=shift(t.ended)) for t in trials]
    if all(t.created is not None for t in out):
        out.sort(key=lambda t: t.created)
    return tuple(out)


def build_table(*, source: str, trials: Sequence[ObservedTrial], where: Sequence[str], metric_name: str,
                direction: str | None, info: ExperimentInfo | None, file: str) -> TrialTable:
    """The table; InputError when no trial is usable (finished with a value of ``metric_name``)."""
    if not trials:
        raise InputError(f"{file}: holds no trials")
    names = check_assignments(trials, where, file=file, declared=info.space if info is not None else None)
    table = TrialTable(
        source=source,
        metric_name=metric_name,
        direction=direction,
        space=info.space if info is not None else infer_space(names, trials, where, file=file),
        trials=relative_times(trials),
        declared=frozenset(info.space.names) if info is not None else frozenset(),
        experiment_name=info.name if info is not None else None,
        goal=info.goal if info is not None and metric_name == info.metric_name else None,
        experiment=info.raw if info is not None else None,
        algorithm_name=info.algorithm_name if info is not None else None,
        algorithm_settings=dict(info.algorithm_settings) if info is not None else {},
        parallel_trial_count=info.parallel_trial_count if info is not None else None,
        max_trial_count=info.max_trial_count if info is not None else None,
    )
    if not table.usable:
        statuses = sorted({t.status for t in trials})
        raise InputError(f"{file}: no usable trial: none of the {len(trials)} trials finished (Succeeded or "
                         f"EarlyStopped) with a value of {metric_name} (their statuses: {', '.join(statuses)})")
    return table
