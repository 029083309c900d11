"""katibsim's experiment, search space and trials <-> Katib's ``api.v1.beta1`` messages, as Katib converts.

Pure functions, both directions, following Katib's sources (``docs/serve.md`` says what is lost):

* the controller side (``suggestionclient.go``, ``ConvertExperiment`` / ``ConvertTrials``): the
  Experiment's raw spec strings (feasible space, settings) as they are; every trial except
  MetricsUnavailable ones and early-stopped ones without an observation; each metric of the
  observation as one string, picked by the trial's metric strategy (``min``/``max`` falling back to
  ``latest`` when unavailable); times in RFC3339 at whole seconds; the last condition, ``UNKNOWN``
  for a type the enum lacks; no trial labels (see :func:`trial_message`); a reply's per-assignment
  labels become the new trials' labels (``SyncAssignments``);
* the service side (``internal/trial.py``, ``search_space.py``): assignments come back as Python
  ``str()`` of the values; an objective value is ``float(value)`` of the metric named like the
  objective.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Iterable, Mapping, Sequence

from katibsim.algorithm import Metric, ObjectiveInfo, Observation, Trial, TrialCondition
from katibsim.service.proto import api_pb2 as api
from katibsim.spec.model import (
    AlgorithmSetting,
    AlgorithmSpec,
    Experiment,
    ExperimentSpec,
    FeasibleSpace,
    ObjectiveSpec,
    ParameterSpec,
)
from katibsim.spec.space import SearchSpace, Value, format_value

UNAVAILABLE = "unavailable"  # Katib's consts.UnavailableMetricValue
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # Go's "2006-01-02T15:04:05Z" (suggestionclient.go timeFormat)

_PARAMETER_TYPES = {
    "double": api.DOUBLE,
    "int": api.INT,
    "discrete": api.DISCRETE,
    "categorical": api.CATEGORICAL,
}
_DISTRIBUTIONS = {
    "uniform": api.UNIFORM,
    "logUniform": api.LOG_UNIFORM,
    "normal": api.NORMAL,
    "logNormal": api.LOG_NORMAL,
}
_OBJECTIVE_TYPES = {"minimize": api.MINIMIZE, "maximize": api.MAXIMIZE}
_CONDITIONS = {
    TrialCondition.CREATED: api.TrialStatus.CREATED,
    TrialCondition.RUNNING: api.TrialStatus.RUNNING,
    TrialCondition.SUCCEEDED: api.TrialStatus.SUCCEEDED,
    TrialCondition.KILLED: api.TrialStatus.KILLED,
    TrialCondition.FAILED: api.TrialStatus.FAILED,
    TrialCondition.METRICS_UNAVAILABLE: api.TrialStatus.METRICSUNAVAILABLE,
    TrialCondition.EARLY_STOPPED: api.TrialStatus.EARLYSTOPPED,
}
_CONDITIONS_BACK = {v: k for k, v in _CONDITIONS.items()}


def _invert(table: Mapping[str, int]) -> dict[int, str]:
    return {v: k for k, v in table.items()}


# -- the controller's side: Experiment and Trials -> messages ---------------------------------------


def experiment_message(experiment: Experiment, settings: Mapping[str, str] | None = None) -> api.Experiment:
    """``ConvertExperiment``: the Experiment as Katib's controller sends it to a service.

    ``settings`` replaces ``spec.algorithm.algorithmSettings`` (katibsim's ``--algorithm-setting``,
    and the Suggestion's ``status.algorithmSettings`` merged in, as ``SyncAssignments`` does before
    every request: :class:`katibsim.service.client.RemoteAlgorithm` passes them).
    """
    spec = experiment.spec
    obj = spec.objective or ObjectiveSpec()
    algo = spec.algorithm or AlgorithmSpec()
    items = [(s.name, s.value) for s in algo.algorithm_settings] if settings is None else list(settings.items())
    msg = api.Experiment(name=experiment.name)
    msg.spec.algorithm.algorithm_name = algo.algorithm_name or ""
    msg.spec.algorithm.algorithm_settings.extend(api.AlgorithmSetting(name=k, value=str(v)) for k, v in items)
    msg.spec.objective.CopyFrom(objective_message(obj))
    for p in spec.parameters:
        fs = p.feasible_space
        msg.spec.parameter_specs.parameters.append(
            api.ParameterSpec(
                name=p.name,
                parameter_type=_PARAMETER_TYPES.get(p.parameter_type, api.UNKNOWN_TYPE),
                feasible_space=api.FeasibleSpace(
                    max=fs.max or "", min=fs.min or "", list=list(fs.list or ()), step=fs.step or "",
                    distribution=_DISTRIBUTIONS.get(fs.distribution or "", api.DISTRIBUTION_UNSPECIFIED),
                ),
            )
        )
    if spec.parallel_trial_count is not None:
        msg.spec.parallel_trial_count = spec.parallel_trial_count
    if spec.max_trial_count is not None:
        msg.spec.max_trial_count = spec.max_trial_count
    if spec.early_stopping is not None:
        msg.spec.early_stopping.CopyFrom(early_stopping_message(spec.early_stopping))
    return msg


def objective_message(obj: ObjectiveSpec) -> api.ObjectiveSpec:
    out = api.ObjectiveSpec(
        type=_OBJECTIVE_TYPES.get(obj.type or "", api.UNKNOWN),
        objective_metric_name=obj.objective_metric_name or "",
        additional_metric_names=list(obj.additional_metric_names),
    )
    if obj.goal is not None:
        out.goal = obj.goal
    return out


def early_stopping_message(es: AlgorithmSpec) -> api.EarlyStoppingSpec:
    return api.EarlyStoppingSpec(
        algorithm_name=es.algorithm_name or "",
        algorithm_settings=[api.EarlyStoppingSetting(name=s.name, value=s.value) for s in es.algorithm_settings],
    )


def format_time(seconds: float | None) -> str:
    """A trial time as the controller sends it: RFC3339 at whole seconds ("" when unset).

    katibsim's clock counts seconds from 0; they are sent as seconds after the Unix epoch."""
    if seconds is None:
        return ""
    return datetime.fromtimestamp(math.floor(seconds), tz=timezone.utc).strftime(TIME_FORMAT)


def parse_time(text: str) -> float | None:
    if not text:
        return None
    try:
        return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        return None


def _number(x: float | None) -> str:
    return UNAVAILABLE if x is None else str(float(x))


def metric_value(metric: Metric, strategy: str) -> str:
    """``convertTrialObservation``: one metric's string under its strategy."""
    if strategy == "min":
        return _number(metric.latest if metric.min is None else metric.min)
    if strategy == "max":
        return _number(metric.latest if metric.max is None else metric.max)
    if strategy == "latest":
        return _number(metric.latest)
    return ""  # Katib's switch has no default: an unknown strategy sends an empty value


def trials_message(trials: Iterable[Trial], objective: ObjectiveSpec) -> list[api.Trial]:
    """``ConvertTrials``: the trials Katib sends, each with the experiment's objective."""
    out: list[api.Trial] = []
    obj_msg = objective_message(objective)
    for t in trials:
        if t.condition == TrialCondition.METRICS_UNAVAILABLE:
            continue
        if t.condition == TrialCondition.EARLY_STOPPED and t.observation is None and t.value is None:
            continue
        out.append(trial_message(t, objective, obj_msg))
    return out


def trial_message(t: Trial, objective: ObjectiveSpec, obj_msg: api.ObjectiveSpec | None = None) -> api.Trial:
    msg = api.Trial(name=t.name)
    msg.spec.objective.CopyFrom(obj_msg if obj_msg is not None else objective_message(objective))
    msg.spec.parameter_assignments.assignments.extend(
        api.ParameterAssignment(name=k, value=format_value(v)) for k, v in t.assignment.items()
    )
    # No spec.labels: ConvertTrials copies the Trial's spec.labels, which Katib's experiment
    # controller never sets (getTrialInstance puts a reply's labels on metadata.labels), so a
    # service never gets back the labels it gave (docs/serve.md, "Trial labels").
    msg.status.start_time = format_time(t.start_time)
    msg.status.completion_time = format_time(t.completion_time)
    msg.status.condition = _CONDITIONS.get(t.condition, api.TrialStatus.UNKNOWN)
    metrics = list(t.observation.metrics) if t.observation is not None else []
    target = objective.objective_metric_name or ""
    if t.value is not None and not any(m.name == target for m in metrics):
        # A value without its observation (a plugin-made history): sent as the objective metric.
        metrics.append(Metric(target, t.value, t.value, t.value))
    for m in metrics:
        msg.status.observation.metrics.append(api.Metric(name=m.name, value=metric_value(m, objective.strategy_for(m.name))))
    return msg


# -- the service's side: messages -> katibsim ---------------------------------------------------------


def experiment_from_message(msg: api.Experiment) -> Experiment:
    """A katibsim Experiment holding what the message carries (the service knows nothing more)."""
    spec = msg.spec
    types = _invert(_PARAMETER_TYPES)
    dists = _invert(_DISTRIBUTIONS)
    params = tuple(
        ParameterSpec(
            name=p.name,
            parameter_type=types.get(p.parameter_type, "unknown"),
            feasible_space=FeasibleSpace(
                min=p.feasible_space.min or None,
                max=p.feasible_space.max or None,
                list=tuple(p.feasible_space.list) or None,
                step=p.feasible_space.step or None,
                distribution=dists.get(p.feasible_space.distribution),
            ),
        )
        for p in spec.parameter_specs.parameters
    )
    early = None
    if spec.HasField("early_stopping") and spec.early_stopping.algorithm_name:
        early = AlgorithmSpec(
            algorithm_name=spec.early_stopping.algorithm_name,
            algorithm_settings=tuple(AlgorithmSetting(s.name, s.value) for s in spec.early_stopping.algorithm_settings),
        )
    return Experiment(
        name=msg.name,
        namespace="",
        spec=ExperimentSpec(
            parameters=params,
            objective=objective_from_message(spec.objective),
            algorithm=AlgorithmSpec(
                algorithm_name=spec.algorithm.algorithm_name or None,
                algorithm_settings=tuple(AlgorithmSetting(s.name, s.value) for s in spec.algorithm.algorithm_settings),
            ),
            early_stopping=early,
            parallel_trial_count=spec.parallel_trial_count if spec.parallel_trial_count else None,
            max_trial_count=spec.max_trial_count if spec.max_trial_count else None,
        ),
        source_file=f"GetSuggestions({msg.name})",
    )


def objective_from_message(obj: api.ObjectiveSpec) -> ObjectiveSpec:
    return ObjectiveSpec(
        type=_invert(_OBJECTIVE_TYPES).get(obj.type),
        # proto3 has no "unset": Katib sends 0 when the Experiment has no goal, so 0 reads as none.
        goal=obj.goal if obj.goal else None,
        objective_metric_name=obj.objective_metric_name or None,
        additional_metric_names=tuple(obj.additional_metric_names),
    )


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def trials_from_message(trials: Sequence[api.Trial], space: SearchSpace, objective: ObjectiveInfo) -> list[Trial]:
    """The history as a katibsim algorithm sees it. Assignments are parsed by the space (an
    assignment outside it, e.g. a parameter no longer in the space, stays a string); a metric's
    string is its min, max and latest at once (Katib sends one value per metric)."""
    out: list[Trial] = []
    names = set(space.names)
    for t in trials:
        assignment: dict[str, Value] = {}
        for a in t.spec.parameter_assignments.assignments:
            try:
                assignment[a.name] = space[a.name].parse(a.value) if a.name in names else a.value
            except ValueError:
                assignment[a.name] = a.value
        metrics = tuple(
            Metric(m.name, v, v, v) for m in t.status.observation.metrics for v in (_float(m.value),)
        )
        condition = _CONDITIONS_BACK.get(t.status.condition, TrialCondition.RUNNING)
        target = next((m for m in metrics if m.name == objective.metric_name), None)
        out.append(
            Trial(
                name=t.name,
                assignment=assignment,
                condition=condition,
                value=target.latest if target is not None and condition.is_completed else None,
                observation=Observation(metrics) if metrics else None,
                start_time=parse_time(t.status.start_time),
                completion_time=parse_time(t.status.completion_time),
                labels=dict(t.spec.labels),
            )
        )
    return out


def assignments_reply(
    assignments: Sequence[Mapping[str, Value]],
    labels: Sequence[Mapping[str, str]] | None = None,
    trial_names: Sequence[str] | None = None,
) -> list[api.GetSuggestionsReply.ParameterAssignments]:
    """``Assignment.generate``: each value as Python ``str()``, in the algorithm's key order, with
    the trial labels of each assignment when ``labels`` has one mapping per assignment (Katib's
    PBT service sends its generation and parent labels so), and its ``trial_name`` when
    ``trial_names`` has one per assignment ("" for none: the controller names that trial)."""
    if labels is not None and len(labels) != len(assignments):
        labels = None
    if trial_names is not None and len(trial_names) != len(assignments):
        trial_names = None
    return [
        api.GetSuggestionsReply.ParameterAssignments(
            assignments=[api.ParameterAssignment(name=k, value=format_value(v)) for k, v in a.items()],
            labels={str(k): str(v) for k, v in labels[i].items()} if labels is not None else None,
            trial_name=str(trial_names[i] or "") if trial_names is not None else "",
        )
        for i, a in enumerate(assignments)
    ]


def labels_from_reply(reply: api.GetSuggestionsReply) -> list[dict[str, str]]:
    """The labels of each assignment (``SyncAssignments`` copies them onto the TrialAssignment,
    and the experiment controller onto the Trial's ``metadata.labels``); empty mappings when the
    service sends none."""
    return [dict(pa.labels) for pa in reply.parameter_assignments]


def assignments_from_reply(reply: api.GetSuggestionsReply, space: SearchSpace) -> list[dict[str, Value]]:
    """The controller's side of the reply: each assignment's strings parsed by the space (a
    string that does not parse is kept, and the host's contract check names it)."""
    out: list[dict[str, Value]] = []
    names = set(space.names)
    for pa in reply.parameter_assignments:
        a: dict[str, Value] = {}
        for x in pa.assignments:
            try:
                a[x.name] = space[x.name].parse(x.value) if x.name in names else x.value
            except ValueError:
                a[x.name] = x.value
        out.append(a)
    return out
