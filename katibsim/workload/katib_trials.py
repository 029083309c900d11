"""Katib's own objects: Trials as ``kubectl get trials -l katib.kubeflow.org/experiment=NAME -o yaml``
prints them (a ``v1`` ``List`` of ``kubeflow.org/v1beta1`` Trials), alone or with their Experiment
(a List or multi-document file also holding it, or ``experiment=`` given separately).

Per Trial: ``spec.parameterAssignments`` (the assignments, strings), ``spec.objective`` (the
objective metric, its type and ``metricStrategies``, as Katib copies them from the Experiment),
``status.conditions`` (the status: the last true terminal condition, else Running / Created),
``status.observation.metrics`` (``name``, ``min``, ``max``, ``latest`` as strings, Katib's
``unavailable`` for a metric it could not collect), ``metadata.creationTimestamp``,
``status.startTime`` and ``status.completionTime`` (RFC 3339; an early-stopped trial has no
completionTime, its EarlyStopped condition's time is its end). Objects of other kinds (a
Suggestion, as ``katibsim run -o yaml`` prints one) are skipped.
"""

from __future__ import annotations

from dataclasses import replace

from datetime import datetime
from typing import Any, Mapping, Sequence

from katibsim.errors import InputError
from katibsim.spec.model import default_metric_strategy
from katibsim.workload.build import build_table, observed
from katibsim.workload.experiment_info import ExperimentInfo, experiment_objects, info_from_object
from katibsim.workload.table import ObservedTrial, TrialTable

TRIAL_API_VERSION = "kubeflow.org/v1beta1"
EXPERIMENT_LABEL = "katib.kubeflow.org/experiment"
#: Trial condition types that end a trial (Katib's trial controller), the status they give.
TERMINAL = ("Succeeded", "Failed", "Killed", "EarlyStopped", "MetricsUnavailable")


def is_katib_document(doc: Any) -> bool:
    """Whether a parsed document is a Katib object or a List of them (what this module reads)."""
    return isinstance(doc, Mapping) and isinstance(doc.get("kind"), str) and isinstance(doc.get("apiVersion"), str)


def _map(value: Any, *, file: str, where: str, required: bool = False) -> Mapping[str, Any]:
    if value is None and not required:
        return {}
    if not isinstance(value, Mapping):
        raise InputError(f"{file}: {where}: expected a mapping, got {_kind(value)}")
    return value


def _list(value: Any, *, file: str, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError(f"{file}: {where}: expected a list, got {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    return "nothing" if value is None else f"{type(value).__name__} {value!r}"[:80]


def timestamp(value: Any, *, file: str, where: str) -> float | None:
    """RFC 3339 (``2026-12-02T04:05:12Z``, as metav1.Time serialises) -> POSIX seconds; None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):  # YAML may already have read it as a timestamp
        dt = value
    else:
        try:
            dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise InputError(f"{file}: {where}: expected an RFC 3339 time like 2026-01-31T12:00:00Z, got {value!r}") from None
    if dt.tzinfo is None:
        from datetime import timezone

        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def _status(conditions: Sequence[Mapping[str, Any]]) -> tuple[str, Mapping[str, Any] | None]:
    """The trial's status and the condition that set it (None when it has no terminal condition)."""
    true = [c for c in conditions if str(c.get("status")) == "True"]
    terminal = [c for c in true if c.get("type") in TERMINAL]
    if terminal:
        return str(terminal[-1]["type"]), terminal[-1]
    if any(c.get("type") == "Running" for c in true):
        return "Running", None
    return "Created", None


def _trial(obj: Mapping[str, Any], where: str, *, file: str, metric: str, strategy: str) -> ObservedTrial:
    api = obj.get("apiVersion")
    if api != TRIAL_API_VERSION:
        raise InputError(f"{file}: {where}.apiVersion: expected {TRIAL_API_VERSION} (katibsim reads v1beta1 Trials), "
                         f"got {api!r}")
    meta = _map(obj.get("metadata"), file=file, where=f"{where}.metadata", required=True)
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        raise InputError(f"{file}: {where}.metadata.name: expected the Trial's name")
    spec = _map(obj.get("spec"), file=file, where=f"{where}.spec", required=True)
    params: dict[str, str] = {}
    assignments = _list(spec.get("parameterAssignments"), file=file, where=f"{where}.spec.parameterAssignments")
    if not assignments:
        raise InputError(f"{file}: {where}.spec.parameterAssignments: expected the trial's assignments "
                         "(a list of {name, value})")
    for i, a in enumerate(assignments):
        at = f"{where}.spec.parameterAssignments[{i}]"
        a = _map(a, file=file, where=at, required=True)
        if not isinstance(a.get("name"), str) or a.get("value") is None or isinstance(a.get("value"), (Mapping, list)):
            raise InputError(f"{file}: {at}: expected {{name: <parameter>, value: <string>}}, got {dict(a)!r}")
        if a["name"] in params:
            raise InputError(f"{file}: {at}.name: parameter {a['name']} is assigned twice")
        params[a["name"]] = str(a["value"])
    status = _map(obj.get("status"), file=file, where=f"{where}.status")
    conditions = _list(status.get("conditions"), file=file, where=f"{where}.status.conditions")
    for i, c in enumerate(conditions):
        _map(c, file=file, where=f"{where}.status.conditions[{i}]", required=True)
    state, ended_by = _status(conditions)
    observation = _map(status.get("observation"), file=file, where=f"{where}.status.observation")
    value, others = observed(observation.get("metrics"), metric, strategy, file=file,
                             where=f"{where}.status.observation.metrics")
    created = timestamp(meta.get("creationTimestamp"), file=file, where=f"{where}.metadata.creationTimestamp")
    started = timestamp(status.get("startTime"), file=file, where=f"{where}.status.startTime")
    ended = timestamp(status.get("completionTime"), file=file, where=f"{where}.status.completionTime")
    if ended is None and ended_by is not None:
        ended = timestamp(ended_by.get("lastTransitionTime"), file=file, where=f"{where}.status.conditions")
    return ObservedTrial(name=name, parameters=params, status=state, value=value, created=created, started=started,
                         ended=ended, metrics=others)


def _objective_of(trial: Mapping[str, Any]) -> Mapping[str, Any]:
    spec = trial.get("spec")
    obj = spec.get("objective") if isinstance(spec, Mapping) else None
    return obj if isinstance(obj, Mapping) else {}


def _trial_strategy(objective: Mapping[str, Any], metric: str) -> str | None:
    for s in objective.get("metricStrategies") or ():
        if isinstance(s, Mapping) and s.get("name") == metric and isinstance(s.get("value"), str):
            return s["value"]
    return None


def read_katib_objects(docs: Sequence[Any], *, file: str, source: str, experiment: ExperimentInfo | None,
                       metric: str | None) -> TrialTable:
    """The Trials (and Experiment) of one file's documents; ``experiment`` given separately wins."""
    objects = experiment_objects(docs)
    trials = [(w, o) for w, o in objects if isinstance(o, Mapping) and o.get("kind") == "Trial"]
    experiments = [(w, o) for w, o in objects if isinstance(o, Mapping) and o.get("kind") == "Experiment"]
    for w, o in objects:
        if not isinstance(o, Mapping):
            raise InputError(f"{file}: {w}: expected a Kubernetes object (a mapping with apiVersion and kind), "
                             f"got {_kind(o)}")
    if not trials:
        raise InputError(f"{file}: holds no Trial objects (expected `kubectl get trials -l "
                         f"{EXPERIMENT_LABEL}=NAME -o yaml` output: a List of kind Trial)")
    info = experiment
    if info is None and experiments:
        if len(experiments) > 1:
            raise InputError(f"{file}: holds {len(experiments)} Experiments; expected the trials of one")
        info = info_from_object(experiments[0][1], file=file, where=experiments[0][0])
    owners = {}
    for w, t in trials:
        meta = t.get("metadata") if isinstance(t.get("metadata"), Mapping) else {}
        labels = meta.get("labels") if isinstance(meta.get("labels"), Mapping) else {}
        if labels.get(EXPERIMENT_LABEL):
            owners.setdefault(str(labels[EXPERIMENT_LABEL]), w)
    if len(owners) > 1:
        raise InputError(f"{file}: holds the trials of {len(owners)} experiments ({', '.join(sorted(owners))}); select "
                         f"one experiment's with `kubectl get trials -l {EXPERIMENT_LABEL}=NAME -o yaml`")
    if info is not None and info.name and owners and info.name not in owners:
        raise InputError(f"{file}: the trials belong to experiment {next(iter(owners))}, not to {info.name}, the "
                         "Experiment given")
    objective = _objective_of(trials[0][1])
    objective_metric = objective.get("objectiveMetricName") or (info.metric_name if info else None)
    objective_type = objective.get("type") or (info.direction if info else None)
    chosen = metric or objective_metric
    if not chosen:
        raise InputError(f"{file}: {trials[0][0]}.spec.objective.objectiveMetricName: the trials do not say which "
                         "metric is the objective; give the metric (--metric NAME; objective option metric=NAME)")
    strategy = (_trial_strategy(objective, chosen) or (info.strategies.get(chosen) if info else None)
                or default_metric_strategy(objective_type))
    read = [_trial(t, w, file=file, metric=chosen, strategy=strategy) for w, t in trials]
    direction = objective_type if chosen == objective_metric and objective_type in ("maximize", "minimize") else None
    table = build_table(source=source, trials=read, where=[w for w, _ in trials], metric_name=chosen,
                        direction=direction, info=info, file=file)
    if table.experiment_name is None and owners:  # no Experiment: the trials' label names it
        table = replace(table, experiment_name=next(iter(owners)))
    return table
