"""Katib-shaped objects from a run: what ``kubectl get experiment|suggestion|trial -o yaml`` would show.

Pure functions of a :class:`~katibsim.engine.result.RunResult`: the Experiment with its
``status`` (conditions, currentOptimalTrial, trial lists and counters), the Suggestion (requests,
suggestionCount, suggestions with their early-stopping rules), each Trial (conditions, observation)
and the ``kubectl get trials`` table. Simulated times are rendered as RFC3339 timestamps from the
run's ``start_time``; field names, omitted empty fields and the null ``completionTime`` of an
unfinished object follow Katib's Go types (``docs/katib-behaviour.md`` §3.1, §3.9, §4.1).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Iterable

from katibsim.engine.arithmetic import Bucket, Condition, mark_completed, set_condition
from katibsim.engine.result import RunResult, TrialResult

API_VERSION = "kubeflow.org/v1beta1"
EXPERIMENT_LABEL = "katib.kubeflow.org/experiment"

# Trial conditions (§3.9): type -> (reason, message).
TRIAL_CONDITIONS = {
    "Created": ("TrialCreated", "Trial is created"),
    "Running": ("TrialRunning", "Trial is running"),
}


def timestamp(result: RunResult, t: float | None) -> str | None:
    """Simulated seconds -> RFC3339 (seconds precision, as metav1.Time serialises); None stays None."""
    if t is None:
        return None
    start = result.options.start_datetime()
    return (start + timedelta(seconds=int(t))).strftime("%Y-%m-%dT%H:%M:%SZ")


def _conditions(result: RunResult, conds: Iterable[Condition]) -> list[dict[str, Any]]:
    return [
        {
            "lastTransitionTime": timestamp(result, c.last_transition),
            "lastUpdateTime": timestamp(result, c.last_update),
            "message": c.message,
            "reason": c.reason,
            "status": c.status,
            "type": c.type,
        }
        for c in conds
    ]


def _assignments(pairs: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"name": k, "value": v} for k, v in pairs]


def _owner(result: RunResult) -> list[dict[str, Any]]:
    return [{"apiVersion": API_VERSION, "blockOwnerDeletion": True, "controller": True, "kind": "Experiment",
             "name": result.experiment}]


def _put(out: dict, key: str, value: Any) -> None:
    """Go's omitempty."""
    if value is None or value == "" or value == 0 or value == [] or value == {}:
        return
    out[key] = value


def run_end(result: RunResult) -> float:
    """The simulated "now" when the run stopped (the last thing that happened)."""
    return max(result.time_to_end, result.last_trial_end)


# -- Experiment ---------------------------------------------------------------------------------------
def experiment_status(result: RunResult) -> dict[str, Any]:
    st = result.status
    c = st.counts
    status: dict[str, Any] = {
        "completionTime": timestamp(result, st.completion_time),
        "conditions": _conditions(result, st.conditions),
        "startTime": timestamp(result, st.start_time),
    }
    opt = st.current_optimal_trial
    optimal: dict[str, Any] = {"observation": {}}
    if opt is not None:
        optimal = {
            "bestTrialName": opt.name,
            "observation": {"metrics": [m.to_dict() for m in opt.metrics]} if opt.metrics else {},
            "parameterAssignments": _assignments(opt.assignment),
        }
    status["currentOptimalTrial"] = optimal
    lists: dict[str, list[str]] = {b.value: [] for b in Bucket}
    for t in result.trials:
        lists[t.condition].append(t.name)
    for key, bucket in (
        ("succeededTrialList", Bucket.SUCCEEDED), ("failedTrialList", Bucket.FAILED),
        ("killedTrialList", Bucket.KILLED), ("earlyStoppedTrialList", Bucket.EARLY_STOPPED),
        ("metricsUnavailableTrialList", Bucket.METRICS_UNAVAILABLE), ("runningTrialList", Bucket.RUNNING),
        ("pendingTrialList", Bucket.PENDING),
    ):
        _put(status, key, lists[bucket.value])
    _put(status, "trials", len(result.trials))
    _put(status, "trialsSucceeded", c.succeeded)
    _put(status, "trialsFailed", c.failed)
    _put(status, "trialsKilled", c.killed)
    _put(status, "trialsEarlyStopped", c.early_stopped)
    _put(status, "trialMetricsUnavailable", c.metrics_unavailable)  # Katib's json key has no "s"
    _put(status, "trialsRunning", c.running)
    _put(status, "trialsPending", c.pending)
    return status


def experiment_object(result: RunResult) -> dict[str, Any]:
    """``kubectl get experiment <name> -o yaml``."""
    return {
        "apiVersion": API_VERSION,
        "kind": "Experiment",
        "metadata": {
            "creationTimestamp": timestamp(result, 0.0),
            "finalizers": ["update-prometheus-metrics"],
            "generation": 1,
            "name": result.experiment,
            "namespace": result.namespace,
        },
        "spec": dict(result.spec),
        "status": experiment_status(result),
    }


# -- Suggestion ----------------------------------------------------------------------------------------
def suggestion_object(result: RunResult) -> dict[str, Any]:
    """``kubectl get suggestion <name> -o yaml``: one suggestion per trial, in creation order."""
    algorithm: dict[str, Any] = {"algorithmName": result.algorithm}
    if result.algorithm_settings:
        algorithm["algorithmSettings"] = _assignments(result.algorithm_settings)
    spec: dict[str, Any] = {"algorithm": algorithm}
    if result.early_stopping:
        es: dict[str, Any] = {"algorithmName": result.early_stopping}
        if result.early_stopping_settings:
            es["algorithmSettings"] = _assignments(result.early_stopping_settings)
        spec["earlyStopping"] = es
    spec["requests"] = result.suggestion.requests
    spec["resumePolicy"] = result.spec.get("resumePolicy", "Never") if result.spec else "Never"
    suggestions = []
    for t in result.trials:
        s: dict[str, Any] = {"name": t.name, "parameterAssignments": _assignments(t.assignment)}
        if t.rules:
            s["earlyStoppingRules"] = [r.to_katib() for r in t.rules]
        if t.labels:  # the reply's labels, as SyncAssignments stores them on the TrialAssignment
            s["labels"] = dict(t.labels)
        suggestions.append(s)
    status: dict[str, Any] = {
        "conditions": _conditions(result, result.suggestion.conditions),
        "startTime": timestamp(result, result.suggestion.start_time),
    }
    _put(status, "suggestionCount", result.suggestion.suggestion_count)
    _put(status, "suggestions", suggestions)
    return {
        "apiVersion": API_VERSION,
        "kind": "Suggestion",
        "metadata": {
            "creationTimestamp": timestamp(result, result.suggestion.start_time),
            "generation": 1,
            "labels": {EXPERIMENT_LABEL: result.experiment},
            "name": result.experiment,
            "namespace": result.namespace,
            "ownerReferences": _owner(result),
        },
        "spec": spec,
        "status": status,
    }


# -- Trials ----------------------------------------------------------------------------------------------
def trial_conditions(trial: TrialResult) -> tuple[Condition, ...]:
    """A trial's conditions as the trial controller (and medianstop) would have written them (§3.9)."""
    t0 = trial.created
    conds: tuple[Condition, ...] = ()
    for typ in ("Created", "Running"):
        reason, message = TRIAL_CONDITIONS[typ]
        conds = set_condition(conds, typ, "True", reason, message, t0)
    if trial.condition in (Bucket.RUNNING.value, Bucket.PENDING.value) or trial.ended is None:
        return conds
    end = trial.ended
    if trial.condition == Bucket.EARLY_STOPPED.value:
        # SetTrialStatus appends EarlyStopped; the Running condition stays True.
        return conds + (Condition("EarlyStopped", "True", trial.reason, trial.message, end, end),)
    return mark_completed(conds, trial.condition, trial.reason, trial.message, end)


def trial_object(result: RunResult, trial: TrialResult, run_spec: dict | None = None) -> dict[str, Any]:
    """``kubectl get trial <name> -o yaml`` (``run_spec``: the rendered template, when available)."""
    spec_src = result.spec or {}
    spec: dict[str, Any] = {}
    if trial.rules:
        spec["earlyStoppingRules"] = [r.to_katib() for r in trial.rules]
    mc = spec_src.get("metricsCollectorSpec")
    if mc:
        spec["metricsCollector"] = mc
    if spec_src.get("objective"):
        spec["objective"] = spec_src["objective"]
    spec["parameterAssignments"] = _assignments(trial.assignment)
    tt = spec_src.get("trialTemplate") or {}
    for key in ("primaryContainerName", "primaryPodLabels", "successCondition", "failureCondition"):
        if tt.get(key):
            spec[key] = tt[key]
    if tt.get("retain"):
        spec["retainRun"] = True
    if run_spec is not None:
        spec["runSpec"] = run_spec
    status: dict[str, Any] = {
        # Set only by the Succeeded / Failed / MetricsUnavailable markings, not by EarlyStopped (§3.9).
        "completionTime": timestamp(result, trial.ended) if trial.condition in (
            Bucket.SUCCEEDED.value, Bucket.FAILED.value, Bucket.METRICS_UNAVAILABLE.value, Bucket.KILLED.value
        ) else None,
        "conditions": _conditions(result, trial_conditions(trial)),
        "startTime": timestamp(result, trial.created),
    }
    if trial.metrics:
        status["observation"] = {"metrics": [m.to_dict() for m in trial.metrics]}
    return {
        "apiVersion": API_VERSION,
        "kind": "Trial",
        "metadata": {
            "creationTimestamp": timestamp(result, trial.created),
            "generation": 1,
            # getTrialInstance: the experiment's label, then the suggestion's labels over it.
            "labels": dict(sorted({EXPERIMENT_LABEL: result.experiment, **dict(trial.labels)}.items())),
            "name": trial.name,
            "namespace": result.namespace,
            "ownerReferences": _owner(result),
        },
        "spec": spec,
        "status": status,
    }


def human_age(seconds: float) -> str:
    """kubectl's AGE column (apimachinery ``HumanDuration``)."""
    s = int(seconds)
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    m = s // 60
    if m < 10:
        rest = s % 60
        return f"{m}m{rest}s" if rest else f"{m}m"
    if m < 180:
        return f"{m}m"
    h = s // 3600
    if h < 8:
        rest = m % 60
        return f"{h}h{rest}m" if rest else f"{h}h"
    if h < 48:
        return f"{h}h"
    if h < 24 * 8:
        rest = h % 24
        return f"{h // 24}d{rest}h" if rest else f"{h // 24}d"
    if h < 24 * 365 * 2:
        return f"{h // 24}d"
    return f"{h // (24 * 365)}y"


def trials_table(result: RunResult) -> str:
    """``kubectl get trials``: NAME, TYPE and STATUS of the last condition, AGE at the run's end."""
    now = run_end(result)
    rows = [("NAME", "TYPE", "STATUS", "AGE")]
    for t in result.trials:
        last = trial_conditions(t)[-1]
        rows.append((t.name, last.type, last.status, human_age(now - t.created)))
    return _columns(rows)


def _columns(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("   ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)


# -- the readable summary -----------------------------------------------------------------------------------
def clock(seconds: float | None) -> str:
    """Simulated elapsed time as H:MM:SS (whole seconds, truncated like the RFC3339 timestamps)."""
    if seconds is None:
        return "-"
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _short(v: str) -> str:
    try:
        f = float(v)
    except ValueError:
        return v
    if v.lstrip("-").isdigit():
        return v
    return f"{f:.6g}"


def summary_table(result: RunResult) -> str:
    """A readable summary: the outcome, each trial (assignment, value, condition, start, end), the
    optimal trial and the notes."""
    lines: list[str] = []
    what = f"{result.algorithm}" + (f" + {result.early_stopping}" if result.early_stopping else "")
    lines.append(f"Experiment {result.namespace}/{result.experiment}: {what}, objective "
                 f"{result.objective or '?'}, seed {result.seed}")
    lines.append(f"  {result.outcome} ({result.reason}) — simulated start {timestamp(result, 0.0)}")
    goal = "" if result.goal is None else (
        f"goal {result.metric_name} {'>=' if result.maximize else '<='} {result.goal:g} "
        + (f"reached at {clock(result.time_to_goal)}" if result.time_to_goal is not None else "not reached")
        + "; "
    )
    lines.append(f"  {goal}ended at {clock(result.time_to_end)}; last trial ended at {clock(result.last_trial_end)}; "
                 f"at most {result.max_concurrent} of {result.parallel_trial_count} trials running at once")
    c = result.status.counts
    parts = [f"{n} {label}" for n, label in (
        (c.succeeded, "succeeded"), (c.failed, "failed"), (c.early_stopped, "early stopped"),
        (c.metrics_unavailable, "metrics unavailable"), (c.killed, "killed"), (c.running, "running"),
    ) if n]
    dup = f", {result.duplicates} duplicate suggestion(s)" if result.duplicates else ""
    lines.append(f"  {len(result.trials)} trials: " + (", ".join(parts) or "none") + dup)
    lines.append("")
    params = [k for k, _ in result.trials[0].assignment] if result.trials else []
    header = ("#", "TRIAL", *params, result.metric_name or "value", "CONDITION", "START", "END")
    rows = [header]
    for t in result.trials:
        value = "-" if t.value is None else f"{t.value:.6g}"
        cond = t.condition + (f"@{t.stopped_at}" if t.stopped_at else "")
        rows.append((str(t.index + 1), t.name, *(_short(v) for _, v in t.assignment), value, cond,
                     clock(t.created), clock(t.ended)))
    lines.append(_columns(rows))
    lines.append("")
    opt = result.status.current_optimal_trial
    if opt is None:
        lines.append("Optimal trial: none (no trial reported the objective metric)")
    else:
        best = result.best_trial
        value = "" if best is None or best.value is None else f" -> {result.metric_name} = {best.value:.6g}"
        assigned = ", ".join(f"{k}={v}" for k, v in opt.assignment)
        lines.append(f"Optimal trial: {opt.name}: {assigned}{value}")
    if result.notes:
        lines.append("")
        lines.append("Notes:")
        for n in result.notes:
            lines.append(f"  - [{n.code}] {n.message}")
    return "\n".join(lines)


__all__ = [
    "timestamp", "experiment_object", "experiment_status", "suggestion_object", "trial_object",
    "trial_conditions", "trials_table", "human_age", "summary_table", "clock", "run_end",
]
