"""katibsim's own run results: the ``result.json`` that ``katibsim run --backend local|kind`` (and the
Katib mode) writes into its run folder (``katibsim/engine/result.py``'s ``RunResult.to_dict``).

The result holds the Experiment's spec as Katib stored it (defaulted), so the space is declared;
each trial's ``value`` is already the objective metric under its strategy, its ``curve`` the
objective's ``(step, value)`` reports, its times seconds since the run started. What ran is what
the result says (``algorithm``, ``algorithm_settings``, ``parallel_trial_count``), which may differ
from the spec when ``katibsim run --algorithm`` replaced the algorithm.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

from katibsim.errors import InputError
from katibsim.workload.build import build_table, number, observed
from katibsim.workload.experiment_info import ExperimentInfo, info_from_object
from katibsim.workload.katib_trials import TERMINAL
from katibsim.workload.table import ObservedTrial, TrialTable

RESULT_FILE = "result.json"
_KEYS = ("schema", "experiment", "trials", "metric_name", "backend")


def is_run_result(doc: Any) -> bool:
    return isinstance(doc, Mapping) and all(k in doc for k in _KEYS)


def _info(doc: Mapping[str, Any], *, file: str) -> ExperimentInfo | None:
    spec = doc.get("spec")
    if not isinstance(spec, Mapping) or not spec.get("parameters"):
        return None
    obj = {"apiVersion": "kubeflow.org/v1beta1", "kind": "Experiment",
           "metadata": {"name": str(doc.get("experiment") or ""), "namespace": str(doc.get("namespace") or "default")},
           "spec": dict(spec)}
    return info_from_object(obj, file=file, where="spec")


def _pairs(value: Any, *, file: str, where: str) -> dict[str, str]:
    if not isinstance(value, list):
        raise InputError(f"{file}: {where}: expected a list of {{name, value}}, got {type(value).__name__}")
    out: dict[str, str] = {}
    for i, p in enumerate(value):
        if not isinstance(p, Mapping) or not isinstance(p.get("name"), str) or p.get("value") is None:
            raise InputError(f"{file}: {where}[{i}]: expected {{name, value}}, got {p!r}")
        out[p["name"]] = str(p["value"])
    return out


def _trial(t: Any, where: str, *, file: str, metric: str, own_metric: bool, strategy: str) -> ObservedTrial:
    if not isinstance(t, Mapping):
        raise InputError(f"{file}: {where}: expected a trial (a mapping), got {type(t).__name__}")
    for key in ("name", "assignment", "condition"):
        if key not in t:
            raise InputError(f"{file}: {where}.{key}: missing (not a katibsim run result's trial)")
    params = _pairs(t["assignment"], file=file, where=f"{where}.assignment")
    curve: list[tuple[float, float]] = []
    for i, point in enumerate(t.get("curve") or ()):
        if not isinstance(point, list) or len(point) != 2:
            raise InputError(f"{file}: {where}.curve[{i}]: expected [step, value], got {point!r}")
        s = number(point[0], file=file, where=f"{where}.curve[{i}][0]")
        v = number(point[1], file=file, where=f"{where}.curve[{i}][1]")
        if s is not None and v is not None:
            curve.append((s, v))
    chosen, others = observed(t.get("metrics"), metric, strategy, file=file, where=f"{where}.metrics")
    if own_metric:
        value = number(t.get("value"), file=file, where=f"{where}.value")
    else:
        value, curve = chosen, []
    times = {k: number(t.get(k), file=file, where=f"{where}.{k}") for k in ("created", "started", "ended")}
    condition = t["condition"]
    if condition not in CONDITIONS:
        raise InputError(f"{file}: {where}.condition: expected one of {', '.join(CONDITIONS)}, got {condition!r}")
    return ObservedTrial(name=str(t["name"]), parameters=params, status=condition, value=value,
                         curve=tuple(curve), metrics=others, **times)


def read_run_result(doc: Mapping[str, Any], *, file: str, source: str, experiment: ExperimentInfo | None,
                    metric: str | None) -> TrialTable:
    from katibsim.engine.result import SCHEMA_VERSION

    schema = doc.get("schema")
    if not isinstance(schema, int) or schema > SCHEMA_VERSION:
        raise InputError(f"{file}: schema: a katibsim run result of schema {schema!r}; this katibsim reads up to "
                         f"{SCHEMA_VERSION}")
    trials = doc.get("trials")
    if not isinstance(trials, list):
        raise InputError(f"{file}: trials: expected a list of trials")
    info = experiment or _info(doc, file=file)
    if info is not None:
        info = replace(
            info,
            algorithm_name=str(doc.get("algorithm") or info.algorithm_name or "") or None,
            algorithm_settings=_pairs(doc.get("algorithm_settings") or [], file=file, where="algorithm_settings"),
            parallel_trial_count=_count(doc, "parallel_trial_count", info.parallel_trial_count, file=file),
            max_trial_count=_count(doc, "max_trial_count", info.max_trial_count, file=file),
        )
    own = str(doc.get("metric_name") or "")
    chosen = metric or own
    if not chosen:
        raise InputError(f"{file}: metric_name: the result does not name its objective metric; give the metric (--metric NAME; objective option metric=NAME)")
    own_direction = "maximize" if doc.get("maximize") else "minimize"
    strategy = info.strategy(chosen) if info is not None else ("max" if doc.get("maximize") else "min")
    read = [_trial(t, f"trials[{i}]", file=file, metric=chosen, own_metric=chosen == own, strategy=strategy)
            for i, t in enumerate(trials)]
    if chosen != own and not any(t.value is not None for t in read):
        names = sorted({m for t in read for m in t.metrics} | {own})
        raise InputError(f"{file}: no trial observed metric {chosen!r}; the run's metrics are {', '.join(names)}")
    table = build_table(source=source, trials=read, where=[f"trials[{i}]" for i in range(len(read))],
                        metric_name=chosen, direction=own_direction if chosen == own else None, info=info, file=file)
    if chosen == own and table.goal is None and doc.get("goal") is not None:
        table = replace(table, goal=number(doc["goal"], file=file, where="goal"))
    return table


#: The trial conditions a katibsim run result holds (Katib's terminal ones, and a trial still running).
CONDITIONS: tuple[str, ...] = (*TERMINAL, "Running")


def _count(doc: Mapping[str, Any], key: str, default: int | None, *, file: str) -> int | None:
    """A positive trial count of the run result (``parallel_trial_count``...), ``default`` when absent."""
    value = doc.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"{file}: {key}: expected a positive whole number, got {value!r}")
    return value
