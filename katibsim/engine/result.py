"""The result of one run (one experiment, one algorithm setting, one seed): frozen data with a JSON round trip.

A :class:`RunResult` holds everything a comparison report needs without re-running anything: what
was run (experiment, algorithm and settings, early stopping, objective, seed, simulation options),
every trial (assignment as Katib strings, condition and reason, objective value, observation
metrics, intermediate curve, simulated times), the best-so-far trace, the final Experiment and
Suggestion status as Katib would show them, the duplicate count, notes on every place the run hit a
Katib quirk or departed from Katib, and the timing figures (time to goal, to the end, the largest
number of trials running at once).

``to_dict()`` gives plain JSON-ready data with a stable key order (the order below);
``from_dict()`` reads it back, so ``RunResult.from_dict(json.loads(json.dumps(r.to_dict()))) == r``.
Times are simulated seconds since the run started; ``start_time`` says which wall-clock instant
that is (RFC3339, UTC) for rendering.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from katibsim.early_stopping import Rule
from katibsim.engine.arithmetic import Condition, MetricObservation, TrialCounts
from katibsim.engine.options import SimulationOptions

SCHEMA_VERSION = 1


def _pairs(items: Any) -> tuple[tuple[str, str], ...]:
    if isinstance(items, Mapping):
        return tuple((str(k), str(v)) for k, v in items.items())
    return tuple((str(d["name"]), str(d["value"])) for d in items)


def _pairs_out(pairs: tuple[tuple[str, str], ...]) -> list[dict[str, str]]:
    return [{"name": k, "value": v} for k, v in pairs]


def _opt_float(x: Any) -> float | None:
    return None if x is None else float(x)


@dataclass(frozen=True)
class TrialResult:
    """One trial as it ended.

    ``condition`` is the trial's bucket (Succeeded, Failed, MetricsUnavailable, EarlyStopped,
    Killed, Running); ``reason`` / ``message`` the reason and message of its last condition, as
    Katib writes them; ``value`` the objective value under the metric strategy (None when
    unavailable); ``metrics`` its ``status.observation.metrics``; ``curve`` the objective reports
    ``(step, value)`` the collector saw (also for failed trials, which Katib stores but never
    observes); ``created`` / ``started`` / ``ended`` the Trial's creation, the start of training
    after the start-up delay, and the end of its run; ``rules`` the early-stopping rules it carried.
    """

    name: str
    index: int
    assignment: tuple[tuple[str, str], ...]
    condition: str
    reason: str
    message: str
    value: float | None
    metrics: tuple[MetricObservation, ...] = ()
    curve: tuple[tuple[int, float], ...] = ()
    created: float = 0.0
    started: float | None = None
    ended: float | None = None
    rules: tuple[Rule, ...] = ()
    stopped_at: int | None = None
    observation_available: bool = False
    # Real backends only (empty for simulated trials): the process's last output lines and the
    # file holding all of it.
    output_tail: tuple[str, ...] = ()
    output_path: str | None = None
    #: The labels the algorithm gave the trial (Katib's PBT: generation and parent), sorted by key.
    labels: tuple[tuple[str, str], ...] = ()
    # The objective marked the trial's point as outside what it knows (from-trials: outside the
    # region its trials cover).
    extrapolated: bool = False

    def to_dict(self) -> dict[str, Any]:
        d = self._dict()
        # Only when set, so simulated results keep their exact bytes.
        if self.labels:
            d["labels"] = dict(self.labels)
        if self.extrapolated:
            d["extrapolated"] = True
        if self.output_tail:
            d["output_tail"] = list(self.output_tail)
        if self.output_path is not None:
            d["output_path"] = self.output_path
        return d

    def _dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "index": self.index,
            "assignment": _pairs_out(self.assignment),
            "condition": self.condition,
            "reason": self.reason,
            "message": self.message,
            "value": self.value,
            "metrics": [m.to_dict() for m in self.metrics],
            "curve": [[s, v] for s, v in self.curve],
            "created": self.created,
            "started": self.started,
            "ended": self.ended,
            "rules": [r.to_dict() for r in self.rules],
            "stopped_at": self.stopped_at,
            "observation_available": self.observation_available,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "TrialResult":
        return cls(
            name=d["name"],
            index=int(d["index"]),
            assignment=_pairs(d["assignment"]),
            condition=d["condition"],
            reason=d["reason"],
            message=d["message"],
            value=_opt_float(d.get("value")),
            metrics=tuple(MetricObservation.from_dict(m) for m in d.get("metrics", ())),
            curve=tuple((int(s), float(v)) for s, v in d.get("curve", ())),
            created=float(d.get("created", 0.0)),
            started=_opt_float(d.get("started")),
            ended=_opt_float(d.get("ended")),
            rules=tuple(Rule.from_dict(r) for r in d.get("rules", ())),
            stopped_at=None if d.get("stopped_at") is None else int(d["stopped_at"]),
            observation_available=bool(d.get("observation_available", False)),
            output_tail=tuple(str(x) for x in d.get("output_tail", ())),
            output_path=d.get("output_path"),
            labels=tuple(sorted((str(k), str(v)) for k, v in (d.get("labels") or {}).items())),
            extrapolated=bool(d.get("extrapolated", False)),
        )


@dataclass(frozen=True)
class BestPoint:
    """The best objective value changed: at ``time``, after ``completed`` trials had ended."""

    time: float
    completed: int
    trial: str
    value: float

    def to_dict(self) -> dict[str, Any]:
        return {"time": self.time, "completed": self.completed, "trial": self.trial, "value": self.value}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "BestPoint":
        return cls(float(d["time"]), int(d["completed"]), d["trial"], float(d["value"]))


@dataclass(frozen=True)
class OptimalTrial:
    """``status.currentOptimalTrial``."""

    name: str
    assignment: tuple[tuple[str, str], ...]
    metrics: tuple[MetricObservation, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "assignment": _pairs_out(self.assignment),
                "metrics": [m.to_dict() for m in self.metrics]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "OptimalTrial":
        return cls(d["name"], _pairs(d["assignment"]),
                   tuple(MetricObservation.from_dict(m) for m in d.get("metrics", ())))


@dataclass(frozen=True)
class ExperimentStatus:
    """The final ``Experiment.status`` (trial name lists are derived from the trials)."""

    conditions: tuple[Condition, ...]
    start_time: float
    completion_time: float | None
    current_optimal_trial: OptimalTrial | None
    counts: TrialCounts

    def to_dict(self) -> dict[str, Any]:
        c = self.counts
        return {
            "conditions": [x.to_dict() for x in self.conditions],
            "start_time": self.start_time,
            "completion_time": self.completion_time,
            "current_optimal_trial": None if self.current_optimal_trial is None else self.current_optimal_trial.to_dict(),
            "counts": {
                "succeeded": c.succeeded, "failed": c.failed, "killed": c.killed,
                "early_stopped": c.early_stopped, "metrics_unavailable": c.metrics_unavailable,
                "running": c.running, "pending": c.pending,
            },
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "ExperimentStatus":
        opt = d.get("current_optimal_trial")
        return cls(
            conditions=tuple(Condition.from_dict(x) for x in d["conditions"]),
            start_time=float(d["start_time"]),
            completion_time=_opt_float(d.get("completion_time")),
            current_optimal_trial=None if opt is None else OptimalTrial.from_dict(opt),
            counts=TrialCounts(**{k: int(v) for k, v in d["counts"].items()}),
        )


@dataclass(frozen=True)
class SuggestionStatus:
    """The final Suggestion: ``spec.requests``, ``status.suggestionCount`` and its conditions."""

    requests: int
    suggestion_count: int
    conditions: tuple[Condition, ...]
    start_time: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"requests": self.requests, "suggestion_count": self.suggestion_count,
                "conditions": [c.to_dict() for c in self.conditions], "start_time": self.start_time}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "SuggestionStatus":
        return cls(int(d["requests"]), int(d["suggestion_count"]),
                   tuple(Condition.from_dict(c) for c in d["conditions"]), float(d.get("start_time", 0.0)))


@dataclass(frozen=True)
class Note:
    """Something the reader of a run must know: a Katib quirk that bit, a departure, a warning.

    ``code`` is stable (for reports and tests), ``message`` says what happened in words.
    """

    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}

    @classmethod
    def from_dict(cls, d: Mapping[str, str]) -> "Note":
        return cls(d["code"], d["message"])


@dataclass(frozen=True)
class KatibFailure:
    """Katib's own suggestion service failed (``katibsim.errors.SuggestionServiceFailure``).

    ``message`` is the service's error as Katib logs it, ``why`` the library rule behind it,
    ``fix`` how to change the Experiment; ``time`` and ``trials`` say when it first happened
    (simulated seconds, trials created by then); ``attempts`` how many reconciles asked and got
    the same failure (Katib retries on every one).
    """

    message: str
    why: str
    fix: str
    time: float
    trials: int
    attempts: int = 1

    def retried(self) -> "KatibFailure":
        return KatibFailure(self.message, self.why, self.fix, self.time, self.trials, self.attempts + 1)

    def to_dict(self) -> dict[str, Any]:
        return {"message": self.message, "why": self.why, "fix": self.fix, "time": self.time,
                "trials": self.trials, "attempts": self.attempts}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "KatibFailure":
        return cls(str(d["message"]), str(d["why"]), str(d["fix"]), float(d["time"]), int(d["trials"]),
                   int(d.get("attempts", 1)))


@dataclass(frozen=True)
class RunResult:
    """One run. See the module docstring; every time is simulated seconds since the start."""

    experiment: str
    namespace: str
    algorithm: str
    seed: int
    trials: tuple[TrialResult, ...]
    status: ExperimentStatus
    suggestion: SuggestionStatus
    outcome: str  # the experiment's final state: "Succeeded" | "Failed" | "Running"
    reason: str  # Katib's reason, or katibsim's when Katib would never end (see notes)
    algorithm_settings: tuple[tuple[str, str], ...] = ()
    early_stopping: str | None = None
    early_stopping_settings: tuple[tuple[str, str], ...] = ()
    objective: str | None = None
    objective_options: tuple[tuple[str, str], ...] = ()
    mapping: str | None = None
    backend: str = "sim"
    options: SimulationOptions = field(default_factory=SimulationOptions)
    metric_name: str = ""
    maximize: bool = False
    goal: float | None = None
    parallel_trial_count: int = 3
    max_trial_count: int | None = None
    max_failed_trial_count: int | None = None
    source_file: str | None = None
    source_api_version: str | None = None
    spec: Mapping[str, Any] = field(default_factory=dict)  # the Experiment's v1beta1 spec, as Katib stores it
    best_so_far: tuple[BestPoint, ...] = ()
    duplicates: int = 0
    notes: tuple[Note, ...] = ()
    time_to_goal: float | None = None
    time_to_end: float = 0.0  # completionTime, or when the run stopped if Katib would never complete it
    last_trial_end: float = 0.0  # when the last trial ended (Katib does not stop running trials at completion)
    max_concurrent: int = 0
    katib_failures: tuple[KatibFailure, ...] = ()  # Katib's suggestion service failed (see KatibFailure)
    extrapolated_trials: int = 0  # trials whose point the objective marked as extrapolated
    schema: int = SCHEMA_VERSION

    # -- conveniences ---------------------------------------------------------------------------------
    @property
    def best_value(self) -> float | None:
        return self.best_so_far[-1].value if self.best_so_far else None

    @property
    def best_trial(self) -> TrialResult | None:
        opt = self.status.current_optimal_trial
        if opt is None:
            return None
        return next((t for t in self.trials if t.name == opt.name), None)

    @property
    def goal_reached(self) -> bool:
        return self.reason == "ExperimentGoalReached"

    def trial(self, name: str) -> TrialResult:
        for t in self.trials:
            if t.name == name:
                return t
        raise KeyError(name)

    # -- JSON ---------------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        d = self._dict()
        if self.katib_failures:  # only when set, so other results keep their exact bytes
            d = {"katib_failures": [f.to_dict() for f in self.katib_failures], **d}
        if self.extrapolated_trials:  # likewise
            d["extrapolated_trials"] = self.extrapolated_trials
        return d

    def _dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "experiment": self.experiment,
            "namespace": self.namespace,
            "source_file": self.source_file,
            "source_api_version": self.source_api_version,
            "algorithm": self.algorithm,
            "algorithm_settings": _pairs_out(self.algorithm_settings),
            "early_stopping": self.early_stopping,
            "early_stopping_settings": _pairs_out(self.early_stopping_settings),
            "objective": self.objective,
            "objective_options": _pairs_out(self.objective_options),
            "mapping": self.mapping,
            "backend": self.backend,
            "seed": self.seed,
            "options": self.options.to_dict(),
            "metric_name": self.metric_name,
            "maximize": self.maximize,
            "goal": self.goal,
            "parallel_trial_count": self.parallel_trial_count,
            "max_trial_count": self.max_trial_count,
            "max_failed_trial_count": self.max_failed_trial_count,
            "outcome": self.outcome,
            "reason": self.reason,
            "time_to_goal": self.time_to_goal,
            "time_to_end": self.time_to_end,
            "last_trial_end": self.last_trial_end,
            "max_concurrent": self.max_concurrent,
            "duplicates": self.duplicates,
            "notes": [n.to_dict() for n in self.notes],
            "best_so_far": [b.to_dict() for b in self.best_so_far],
            "status": self.status.to_dict(),
            "suggestion": self.suggestion.to_dict(),
            "spec": dict(self.spec),
            "trials": [t.to_dict() for t in self.trials],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "RunResult":
        schema = int(d.get("schema", SCHEMA_VERSION))
        if schema > SCHEMA_VERSION:
            from katibsim.errors import InputError

            raise InputError(f"run result has schema {schema}; this katibsim reads up to {SCHEMA_VERSION}")
        return cls(
            schema=schema,
            experiment=d["experiment"],
            namespace=d["namespace"],
            source_file=d.get("source_file"),
            source_api_version=d.get("source_api_version"),
            algorithm=d["algorithm"],
            algorithm_settings=_pairs(d.get("algorithm_settings", ())),
            early_stopping=d.get("early_stopping"),
            early_stopping_settings=_pairs(d.get("early_stopping_settings", ())),
            objective=d.get("objective"),
            objective_options=_pairs(d.get("objective_options", ())),
            mapping=d.get("mapping"),
            backend=d.get("backend", "sim"),
            seed=int(d["seed"]),
            options=SimulationOptions.from_dict(d.get("options")),
            metric_name=d.get("metric_name", ""),
            maximize=bool(d.get("maximize", False)),
            goal=_opt_float(d.get("goal")),
            parallel_trial_count=int(d.get("parallel_trial_count", 3)),
            max_trial_count=None if d.get("max_trial_count") is None else int(d["max_trial_count"]),
            max_failed_trial_count=None if d.get("max_failed_trial_count") is None else int(d["max_failed_trial_count"]),
            outcome=d["outcome"],
            reason=d["reason"],
            time_to_goal=_opt_float(d.get("time_to_goal")),
            time_to_end=float(d.get("time_to_end", 0.0)),
            last_trial_end=float(d.get("last_trial_end", 0.0)),
            max_concurrent=int(d.get("max_concurrent", 0)),
            katib_failures=tuple(KatibFailure.from_dict(f) for f in d.get("katib_failures", ())),
            extrapolated_trials=int(d.get("extrapolated_trials", 0)),
            duplicates=int(d.get("duplicates", 0)),
            notes=tuple(Note.from_dict(n) for n in d.get("notes", ())),
            best_so_far=tuple(BestPoint.from_dict(b) for b in d.get("best_so_far", ())),
            status=ExperimentStatus.from_dict(d["status"]),
            suggestion=SuggestionStatus.from_dict(d["suggestion"]),
            spec=dict(d.get("spec") or {}),
            trials=tuple(TrialResult.from_dict(t) for t in d["trials"]),
        )


__all__ = [
    "SCHEMA_VERSION", "TrialResult", "BestPoint", "OptimalTrial", "ExperimentStatus", "SuggestionStatus",
    "KatibFailure", "Note", "RunResult",
]
