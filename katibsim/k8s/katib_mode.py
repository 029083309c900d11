"""Katib mode: submit the Experiment itself to a cluster where Katib runs, follow it, record the outcome.

The highest-fidelity check katibsim has ("does Katib agree with our simulator?",
``docs/kind.md#katib-install``): the Experiment is created as is (with katibsim's owner labels), then
polled the way Katib's SDK waits (``wait_for_experiment_condition``: a GET every few seconds until
``Succeeded`` or ``Failed`` is True), and its Trials (label
``katib.kubeflow.org/experiment``) and Suggestion (named like the Experiment) are read. The
outcome becomes a :class:`~katibsim.engine.result.RunResult` — the same format the sim, local and
kind backends produce, with ``backend: katib`` and times in seconds since the Experiment's
``creationTimestamp`` — so a report can put a simulated run and a real Katib run side by side.
The Experiment is deleted at the end (Katib's owner references take its Trials, Suggestion and
their jobs with it) unless ``keep``.

The pure half, :func:`result_from_objects`, turns the three kinds of objects into the result and is
tested on objects shaped like Katib's (``experiment_types.go``, ``trial_types.go``,
``suggestion_types.go``); :func:`run_katib` does the I/O through the :class:`~katibsim.k8s.port.Kube` port.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any, Callable, Mapping, Sequence

from katibsim.engine.arithmetic import Condition, MetricObservation, TrialCounts, objective_value_string
from katibsim.engine.options import SimulationOptions
from katibsim.engine.result import (
    BestPoint,
    ExperimentStatus,
    Note,
    OptimalTrial,
    RunResult,
    SuggestionStatus,
    TrialResult,
)
from katibsim.k8s.port import Kube
from katibsim.k8s.errors import CrdMissing, KubeError
from katibsim.k8s.manifests import EXPERIMENT_LABEL, owner_labels
from katibsim.spec.model import Experiment

KATIB_API = "kubeflow.org/v1beta1"
TERMINAL = ("Succeeded", "Failed", "Killed", "EarlyStopped", "MetricsUnavailable")
SERVER_FIELDS = ("uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "selfLink")


class KatibTimeout(KubeError):
    """The Experiment did not finish in time (it is deleted all the same, unless kept)."""


def parse_time(value: Any) -> float | None:
    """Epoch seconds of an RFC3339 time (Kubernetes writes ``2026-01-02T03:04:05Z``); None if absent."""
    if not value or not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _rel(value: Any, t0: float) -> float | None:
    t = parse_time(value)
    return None if t is None else max(0.0, t - t0)


def _conditions(items: Any, t0: float) -> tuple[Condition, ...]:
    out = []
    for c in items or ():
        if not isinstance(c, Mapping):
            continue
        upd = _rel(c.get("lastUpdateTime"), t0)
        trans = _rel(c.get("lastTransitionTime"), t0)
        out.append(Condition(type=str(c.get("type") or ""), status=str(c.get("status") or ""),
                             reason=str(c.get("reason") or ""), message=str(c.get("message") or ""),
                             last_update=upd if upd is not None else (trans or 0.0),
                             last_transition=trans if trans is not None else (upd or 0.0)))
    return tuple(out)


def _true(conds: Sequence[Condition], kind: str) -> Condition | None:
    return next((c for c in conds if c.type == kind and c.status == "True"), None)


def experiment_finished(obj: Mapping[str, Any]) -> str | None:
    """"Succeeded" / "Failed" when that condition is True, else None (the SDK's test)."""
    for c in (obj.get("status") or {}).get("conditions") or ():
        if c.get("type") in ("Succeeded", "Failed") and c.get("status") == "True":
            return str(c["type"])
    return None


def trial_condition(obj: Mapping[str, Any]) -> tuple[str, str, str]:
    """(bucket, reason, message) of a Trial: its terminal condition, else Running or Created.

    An EarlyStopped trial keeps Running True (§3.9 step 7), so terminal types are looked for first.
    """
    conds = [c for c in (obj.get("status") or {}).get("conditions") or () if isinstance(c, Mapping)]
    for kind in TERMINAL:
        c = next((c for c in conds if c.get("type") == kind and c.get("status") == "True"), None)
        if c is not None:
            if kind == "MetricsUnavailable" and any(x.get("type") == "EarlyStopped" and x.get("status") == "True"
                                                    for x in conds):
                kind = "EarlyStopped"  # bucketed as EarlyStopped (§3.9)
            return kind, str(c.get("reason") or ""), str(c.get("message") or "")
    running = next((c for c in conds if c.get("type") == "Running" and c.get("status") == "True"), None)
    if running is not None:
        return "Running", str(running.get("reason") or ""), str(running.get("message") or "")
    return "Pending", "TrialCreated", "Trial is created"


def _metrics(obj: Mapping[str, Any]) -> tuple[MetricObservation, ...]:
    ms = ((obj.get("status") or {}).get("observation") or {}).get("metrics") or ()
    return tuple(MetricObservation(str(m.get("name")), str(m.get("min", "unavailable")), str(m.get("max", "unavailable")),
                                   str(m.get("latest", "unavailable"))) for m in ms if isinstance(m, Mapping))


def _float(s: str) -> float | None:
    try:
        return float(s)
    except (TypeError, ValueError):
        return None


def result_from_objects(
    experiment: Experiment,
    exp_obj: Mapping[str, Any],
    trials: Sequence[Mapping[str, Any]],
    suggestion: Mapping[str, Any] | None,
    *,
    notes: Sequence[Note] = (),
    ended: float | None = None,
) -> RunResult:
    """The run result of a finished (or abandoned) Katib Experiment, from its objects (pure)."""
    obj_spec = experiment.spec.objective
    metric = obj_spec.objective_metric_name if obj_spec else ""
    maximize = bool(obj_spec and obj_spec.type == "maximize")
    strategy = obj_spec.strategy_for(metric) if obj_spec else "latest"
    meta = exp_obj.get("metadata") or {}
    st = exp_obj.get("status") or {}
    t0 = parse_time(meta.get("creationTimestamp")) or parse_time(st.get("startTime")) or 0.0

    ordered = sorted(trials, key=lambda t: (parse_time((t.get("metadata") or {}).get("creationTimestamp")) or 0.0,
                                            str((t.get("metadata") or {}).get("name"))))
    results: list[TrialResult] = []
    for i, t in enumerate(ordered):
        tm = t.get("metadata") or {}
        ts = t.get("status") or {}
        bucket, reason, message = trial_condition(t)
        metrics = _metrics(t)
        objective = next((m for m in metrics if m.name == metric), None)
        obs = bucket in ("Succeeded", "EarlyStopped") and objective is not None and objective.latest != "unavailable"
        value = _float(objective_value_string(objective, strategy)) if obs else None
        assignment = tuple((str(a.get("name")), str(a.get("value")))
                           for a in (t.get("spec") or {}).get("parameterAssignments") or () if isinstance(a, Mapping))
        ended_at = _rel(ts.get("completionTime"), t0) if bucket in TERMINAL else None
        if ended_at is None and bucket in TERMINAL:
            term = _true(_conditions(ts.get("conditions"), t0), bucket)
            ended_at = term.last_transition if term else None
        results.append(TrialResult(
            name=str(tm.get("name")), index=i, assignment=assignment, condition=bucket, reason=reason, message=message,
            value=value, metrics=metrics, created=_rel(tm.get("creationTimestamp"), t0) or 0.0,
            started=_rel(ts.get("startTime"), t0), ended=ended_at, observation_available=obs,
        ))

    best_so_far: list[BestPoint] = []
    best: float | None = None
    done = 0
    for tr in sorted((r for r in results if r.ended is not None), key=lambda r: (r.ended, r.index)):
        done += 1
        if tr.value is not None and (best is None or (tr.value > best if maximize else tr.value < best)):
            best = tr.value
            best_so_far.append(BestPoint(tr.ended, done, tr.name, tr.value))

    conds = _conditions(st.get("conditions"), t0)
    finished = experiment_finished(exp_obj)
    last = conds[-1] if conds else None
    outcome = finished or "Running"
    term = _true(conds, finished) if finished else None
    reason = (term.reason if term else (last.reason if last else "")) or ("Timeout" if not finished else "")
    completion = _rel(st.get("completionTime"), t0)
    if completion is None and term is not None:
        completion = term.last_transition

    opt = st.get("currentOptimalTrial") or {}
    optimal = None
    if opt.get("bestTrialName"):
        optimal = OptimalTrial(
            str(opt["bestTrialName"]),
            tuple((str(a.get("name")), str(a.get("value"))) for a in opt.get("parameterAssignments") or ()),
            _metrics({"status": {"observation": opt.get("observation") or {}}}),
        )
    counts = TrialCounts(
        succeeded=int(st.get("trialsSucceeded") or 0), failed=int(st.get("trialsFailed") or 0),
        killed=int(st.get("trialsKilled") or 0), early_stopped=int(st.get("trialsEarlyStopped") or 0),
        metrics_unavailable=int(st.get("trialMetricsUnavailable") or 0), running=int(st.get("trialsRunning") or 0),
        pending=int(st.get("trialsPending") or 0),
    )
    status = ExperimentStatus(conditions=conds, start_time=0.0, completion_time=completion,
                              current_optimal_trial=optimal, counts=counts)
    sug = suggestion or {}
    suggestion_status = SuggestionStatus(
        requests=int((sug.get("spec") or {}).get("requests") or 0),
        suggestion_count=int((sug.get("status") or {}).get("suggestionCount") or 0),
        conditions=_conditions((sug.get("status") or {}).get("conditions"), t0),
        start_time=_rel((sug.get("metadata") or {}).get("creationTimestamp"), t0) or 0.0,
    )
    intervals = [(r.created, r.ended if r.ended is not None else float("inf")) for r in results]
    points = sorted([(a, 1) for a, _ in intervals] + [(b, -1) for _, b in intervals], key=lambda p: (p[0], p[1]))
    live = peak = 0
    for _, d in points:
        live += d
        peak = max(peak, live)
    ends = [r.ended for r in results if r.ended is not None]
    spec = experiment.spec
    try:
        from katibsim.spec.serialize import experiment_to_dict

        spec_dict = experiment_to_dict(experiment, KATIB_API)["spec"]
    except Exception:  # noqa: BLE001 - display only
        spec_dict = {}
    start_iso = meta.get("creationTimestamp") or datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return RunResult(
        experiment=experiment.name, namespace=str(meta.get("namespace") or experiment.namespace),
        source_file=experiment.source_file, source_api_version=experiment.source_api_version,
        algorithm=(spec.algorithm.algorithm_name if spec.algorithm else "") or "",
        algorithm_settings=tuple((s.name, s.value) for s in (spec.algorithm.algorithm_settings if spec.algorithm else ())),
        early_stopping=spec.early_stopping.algorithm_name if spec.early_stopping else None,
        seed=0, trials=tuple(results), status=status, suggestion=suggestion_status, outcome=outcome, reason=reason,
        backend="katib", options=SimulationOptions(start_time=str(start_iso)), metric_name=metric or "",
        maximize=maximize, goal=obj_spec.goal if obj_spec else None,
        parallel_trial_count=int(spec.parallel_trial_count or 3), max_trial_count=spec.max_trial_count,
        max_failed_trial_count=spec.max_failed_trial_count, spec=spec_dict, best_so_far=tuple(best_so_far),
        notes=tuple(notes), time_to_goal=completion if reason == "ExperimentGoalReached" else None,
        time_to_end=completion if completion is not None else (ended or (max(ends) if ends else 0.0)),
        last_trial_end=max(ends) if ends else 0.0, max_concurrent=peak,
    )


def experiment_object(experiment: Experiment, run_id: str, namespace: str | None = None) -> dict:
    """The Experiment to create: the file's object in v1beta1, server fields dropped, owner labels added."""
    from katibsim.spec.serialize import experiment_to_dict

    obj = experiment_to_dict(experiment, KATIB_API)
    meta = obj["metadata"]
    for k in SERVER_FIELDS:
        meta.pop(k, None)
    if not meta.get("annotations"):
        meta.pop("annotations", None)
    meta.setdefault("labels", {}).update(owner_labels(experiment.name, None, run_id))
    meta["labels"].pop(EXPERIMENT_LABEL, None)  # Katib sets its own labels on what it creates
    if namespace:
        meta["namespace"] = namespace
    obj.pop("status", None)
    return obj


def run_katib(
    experiment: Experiment,
    kube: Kube,
    *,
    namespace: str | None = None,
    timeout: float = 2400.0,
    poll: float = 5.0,
    keep: bool = False,
    run_id: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    progress: Callable[[str], None] | None = None,
) -> RunResult:
    """Submit ``experiment`` to Katib through ``kube``, wait for it, and return its result.

    Raises CrdMissing ("Katib is not installed") before creating anything, AlreadyExists when an
    Experiment of that name exists, and KatibTimeout after ``timeout`` seconds (the default, 40
    minutes, is what Katib's own e2e allows). The Experiment is deleted in every case unless ``keep``.
    """
    import uuid

    try:
        exp_res = kube.resource(KATIB_API, "Experiment")
        trial_res = kube.resource(KATIB_API, "Trial")
        sug_res = kube.resource(KATIB_API, "Suggestion")
    except CrdMissing as exc:
        raise CrdMissing(KATIB_API, "Experiment", "experiments", f"Katib is not installed: {exc}") from None
    run_id = run_id or "ks-" + uuid.uuid4().hex[:10]
    body = experiment_object(experiment, run_id, namespace)
    ns = body["metadata"]["namespace"]
    name = body["metadata"]["name"]
    notes: list[Note] = [Note("katib-mode", f"run by Katib itself on the cluster (context {kube.context}, namespace "
                                            f"{ns}); times are seconds since the Experiment was created")]
    kube.create(body, owner=("katibsim/run", run_id))
    start = clock()
    obj: dict | None = None
    try:
        interval = min(1.0, poll)
        while True:
            obj = kube.get(exp_res, name, ns)
            if obj is None:
                raise KubeError(f"Experiment {name} in namespace {ns} disappeared while katibsim was following it")
            if experiment_finished(obj):
                break
            if clock() - start >= timeout:
                trials = kube.list(trial_res, ns, f"{EXPERIMENT_LABEL}={name}")[0]
                done = sum(1 for t in trials if trial_condition(t)[0] in TERMINAL)
                raise KatibTimeout(f"Experiment {name} did not finish within {timeout:g} s ({done} of {len(trials)} "
                                   "trial(s) done); look at `kubectl describe experiment` and the katib-controller "
                                   "logs (`kubectl -n kubeflow logs deploy/katib-controller`)")
            if progress is not None:
                last = ((obj.get("status") or {}).get("conditions") or [{}])[-1]
                progress(f"{name}: {last.get('type', 'Created')} {last.get('reason', '')}".rstrip())
            sleep(interval)
            interval = min(poll, interval * 2)
        trials = kube.list(trial_res, ns, f"{EXPERIMENT_LABEL}={name}")[0]
        suggestion = kube.get(sug_res, name, ns)
        return result_from_objects(experiment, obj, trials, suggestion, notes=notes, ended=clock() - start)
    finally:
        if not keep:
            try:
                kube.delete(exp_res, name, ns, propagation="Foreground")
            except Exception:  # noqa: BLE001 - never mask the run's own error
                pass


__all__ = [
    "KATIB_API", "KatibTimeout", "parse_time", "experiment_finished", "trial_condition", "result_from_objects",
    "experiment_object", "run_katib",
]
