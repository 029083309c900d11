"""Katib's controller arithmetic as pure functions: request counts, bucketing, best trial, completion.

Every function here restates one rule of Katib's experiment controller
(``pkg/controller.v1beta1/experiment/``: ``util/status_util.go``, ``experiment_controller.go``,
and the suggestion client; the § marks number the rules as ``docs/simulation.md`` describes them) so
it can be tested against hand-computed cases without a clock, a backend or an algorithm. The engine
(:mod:`katibsim.engine.controller`) calls these; the best trial it folds in one trial at a time
with :func:`replaces_best`, which is tested to agree with the full scan :func:`best_trial`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

UNAVAILABLE = "unavailable"  # Katib's literal for a metric that was not collected

# apimachinery's utilrand alphabet (no vowels, no 0/1/3): Katib's trial-name suffixes (§3.6).
NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
NAME_SUFFIX_LENGTH = 8


# ---------------------------------------------------------------------------------------------
# Trial buckets (§3.4)
# ---------------------------------------------------------------------------------------------
class Bucket(StrEnum):
    """The one list of ``status`` a trial is counted in (``<bucket>TrialList``)."""

    KILLED = "Killed"
    FAILED = "Failed"
    SUCCEEDED = "Succeeded"
    EARLY_STOPPED = "EarlyStopped"
    RUNNING = "Running"
    METRICS_UNAVAILABLE = "MetricsUnavailable"
    PENDING = "Pending"

    @property
    def is_active(self) -> bool:
        return self in (Bucket.RUNNING, Bucket.PENDING)


# Katib checks the conditions in this order; the first one that is True wins (§3.4).
BUCKET_PRIORITY: tuple[Bucket, ...] = (
    Bucket.KILLED,
    Bucket.FAILED,
    Bucket.SUCCEEDED,
    Bucket.EARLY_STOPPED,
    Bucket.RUNNING,
    Bucket.METRICS_UNAVAILABLE,
)


def bucket_of(true_conditions: Iterable[str]) -> Bucket:
    """The bucket of a trial whose conditions of these types have status True (§3.4).

    >>> bucket_of({"Created", "Running", "EarlyStopped"})
    <Bucket.EARLY_STOPPED: 'EarlyStopped'>
    """
    present = set(true_conditions)
    for b in BUCKET_PRIORITY:
        if b.value in present:
            return b
    return Bucket.PENDING


@dataclass(frozen=True)
class TrialCounts:
    """The status counters of an experiment (``trialsSucceeded`` ... ``trialMetricsUnavailable``)."""

    succeeded: int = 0
    failed: int = 0
    killed: int = 0
    early_stopped: int = 0
    metrics_unavailable: int = 0
    running: int = 0
    pending: int = 0

    @classmethod
    def of(cls, buckets: Iterable[Bucket]) -> "TrialCounts":
        n = {b: 0 for b in Bucket}
        for b in buckets:
            n[b] += 1
        return cls(
            succeeded=n[Bucket.SUCCEEDED], failed=n[Bucket.FAILED], killed=n[Bucket.KILLED],
            early_stopped=n[Bucket.EARLY_STOPPED], metrics_unavailable=n[Bucket.METRICS_UNAVAILABLE],
            running=n[Bucket.RUNNING], pending=n[Bucket.PENDING],
        )

    @property
    def total(self) -> int:
        return (self.succeeded + self.failed + self.killed + self.early_stopped
                + self.metrics_unavailable + self.running + self.pending)

    @property
    def active(self) -> int:
        """pending + running (§3.5, §3.6)."""
        return self.pending + self.running

    @property
    def completed(self) -> int:
        """``completed`` of the completion check: MetricsUnavailable included (§3.5)."""
        return self.succeeded + self.failed + self.killed + self.early_stopped + self.metrics_unavailable

    @property
    def failed_for_completion(self) -> int:
        """``failed`` of the completion check: Failed + MetricsUnavailable (§3.5, v0.14+)."""
        return self.failed + self.metrics_unavailable

    def completed_for_requests(self, *, katib_compat: bool = True) -> int:
        """``completed`` of ReconcileTrials (§3.6).

        Katib leaves MetricsUnavailable out here while the completion check counts it, which can
        create more than ``maxTrialCount`` trials; ``katib_compat=False`` counts it (the fix).
        """
        base = self.succeeded + self.failed + self.killed + self.early_stopped
        return base if katib_compat else base + self.metrics_unavailable


# ---------------------------------------------------------------------------------------------
# How many trials to request (§3.6)
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrialsDecision:
    """What one ``ReconcileTrials`` does: create ``add`` trials or delete ``delete`` trials."""

    add: int = 0
    delete: int = 0


def reconcile_trials(parallel: int, max_trial_count: int | None, active: int, completed: int) -> TrialsDecision:
    """Katib's ``ReconcileTrials`` arithmetic (§3.6).

    ``completed`` is :meth:`TrialCounts.completed_for_requests`. When ``active`` exceeds
    ``parallel`` the surplus is deleted (§3.7); otherwise ``min(parallel, max − completed) −
    active`` trials are created (``parallel − active`` without a maxTrialCount), never fewer than 0.

    >>> reconcile_trials(3, 12, active=1, completed=10)
    TrialsDecision(add=1, delete=0)
    """
    if active > parallel:
        return TrialsDecision(delete=active - parallel)
    required = parallel if max_trial_count is None else min(parallel, max_trial_count - completed)
    return TrialsDecision(add=max(0, required - active))


def suggestion_requests(total_trials: int, add: int, incomplete_early_stopped: int) -> int:
    """``Suggestion.spec.requests`` set by ``createTrials`` (§3.6).

    ``incomplete_early_stopped`` is the number of EarlyStopped trials without an available
    observation; Katib subtracts them, so such trials shrink what is asked of the algorithm.
    """
    return total_trials + add - incomplete_early_stopped


def assignments_to_request(requests: int, suggestion_count: int) -> int:
    """``current`` of ``SyncAssignments``: how many new assignments the service is asked for (§4.2)."""
    return max(0, requests - suggestion_count)


# ---------------------------------------------------------------------------------------------
# Metrics: logs -> observation -> objective value (§3.4, §3.10)
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MetricObservation:
    """One entry of ``status.observation.metrics``: Katib strings, ``"unavailable"`` when missing."""

    name: str
    min: str = UNAVAILABLE
    max: str = UNAVAILABLE
    latest: str = UNAVAILABLE

    def to_dict(self) -> dict[str, str]:
        return {"latest": self.latest, "max": self.max, "min": self.min, "name": self.name}

    @classmethod
    def from_dict(cls, d: Mapping[str, str]) -> "MetricObservation":
        return cls(name=d["name"], min=d.get("min", UNAVAILABLE), max=d.get("max", UNAVAILABLE),
                   latest=d.get("latest", UNAVAILABLE))


def metric_string(value: float | str) -> str:
    """The string a simulated metric log carries (Python ``str`` of the float, as a trainer prints)."""
    if isinstance(value, str):
        return value
    return str(float(value))


def _as_float(s: str) -> float | None:
    try:
        return float(s)
    except ValueError:
        return None


def metric_number(s: str) -> float | None:
    """A metric string as a number: None for ``"unavailable"`` and for words (DARTS' genotypes).

    Go's ``strconv.ParseFloat`` accepts what Python's ``float`` does for metric logs ("NaN",
    "inf", "1e-3").
    """
    return None if s == UNAVAILABLE else _as_float(s)


def observe_metric(name: str, values: Sequence[float | str]) -> MetricObservation:
    """min / max / latest of one metric's logs in time order, as ``getMetrics`` builds them (§3.10).

    Numeric logs set min and max (the first sets both; after that a lower one replaces min, *else*
    a higher one replaces max); non-numeric logs ("unavailable", genotype strings) never touch
    them; latest is the last log. The original strings are kept.
    """
    lo_s = hi_s = UNAVAILABLE
    lo = hi = 0.0
    latest = UNAVAILABLE
    for v in values:
        s = metric_string(v)
        x = _as_float(s) if s != UNAVAILABLE else None
        if x is not None:
            if lo_s == UNAVAILABLE:
                lo_s = hi_s = s
                lo = hi = x
            elif x < lo:
                lo_s, lo = s, x
            elif x > hi:
                hi_s, hi = s, x
        latest = s
    return MetricObservation(name=name, min=lo_s, max=hi_s, latest=latest)


def objective_value_string(metric: MetricObservation | None, strategy: str) -> str:
    """``getObjectiveMetricValue``: the trial's objective under its strategy (§3.4).

    ``min`` / ``max`` fall back to ``latest`` when unavailable; a missing metric or an unknown
    strategy gives ``"unavailable"``.
    """
    if metric is None:
        return UNAVAILABLE
    if strategy == "min":
        return metric.latest if metric.min == UNAVAILABLE else metric.min
    if strategy == "max":
        return metric.latest if metric.max == UNAVAILABLE else metric.max
    if strategy == "latest":
        return metric.latest
    return UNAVAILABLE


def objective_value(metric: MetricObservation | None, strategy: str) -> float | None:
    """:func:`objective_value_string` as a float; None when unavailable or not numeric."""
    return metric_number(objective_value_string(metric, strategy))


# ---------------------------------------------------------------------------------------------
# Best trial and goal (§3.4)
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BestTrial:
    index: int | None  # position in the scanned list, None when no trial has a value
    value: float | None
    goal_reached: bool


def best_trial(
    values: Sequence[str], objective_type: str | None, goal: float | None, order: Sequence[int] | None = None
) -> BestTrial:
    """Katib's best-trial scan over the objective-value strings of every trial, in list order.

    ``order`` is the list order as positions into ``values`` (default: as given); the result's
    ``index`` is a position into ``values``. Katib lists trials from its informer cache, whose
    order is Go's map order: arbitrary, and not the same from one reconcile to the next (see
    :func:`replaces_best`). "unavailable" is skipped; a string that does not parse as a float makes that trial the best
    ("latest string wins") without touching the best value; the first number initialises the best;
    afterwards minimize/maximize replace it only when strictly better. The goal is tested after
    each numeric trial (``best <= goal`` / ``best >= goal``). Go's ``ParseFloat`` accepts "NaN";
    a NaN best is never replaced, exactly as in Katib.
    """
    best_index: int | None = None
    best = 0.0
    reached = False
    for i in (range(len(values)) if order is None else order):
        s = values[i]
        if s == UNAVAILABLE:
            continue
        x = _as_float(s)
        if x is None:
            best_index = i
            continue
        if best_index is None:
            best, best_index = x, i
        if objective_type == "minimize":
            if x < best:
                best, best_index = x, i
            if goal is not None and best <= goal:
                reached = True
        elif objective_type == "maximize":
            if x > best:
                best, best_index = x, i
            if goal is not None and best >= goal:
                reached = True
    value = best if best_index is not None and _as_float(values[best_index]) is not None else None
    return BestTrial(index=best_index, value=value, goal_reached=reached)


def is_better(value: float, best: float | None, maximize: bool) -> bool:
    """Strict improvement, as the scan uses it (on a tie the trial listed first stays the best)."""
    if best is None:
        return True
    return value > best if maximize else value < best


def replaces_best(value: float, rank: Any, best: float | None, best_rank: Any, maximize: bool) -> bool:
    """Does a trial with ``value`` become the best over the current best, whatever order they arrive in?

    The incremental form of :func:`best_trial` for finite numbers: the scan keeps the first trial
    in list order among those with the best value, so a newcomer replaces the best when strictly
    better, or equal and listed earlier (smaller ``rank``, its position in the list order).

    Katib's list order (its informer cache's, Go map order) is arbitrary: among trials with equal
    values Katib's ``currentOptimalTrial`` is any one of them and can change between reconciles.
    The engine models it with the trial names' order (the order the API server itself lists
    them in, random with respect to creation since names are random); ``katib_compat: false``
    ranks by creation instead, so the earliest of the tied trials is the best.
    """
    if best is None or is_better(value, best, maximize):
        return True
    return value == best and rank < best_rank


def goal_reached(best: float | None, goal: float | None, maximize: bool) -> bool:
    if best is None or goal is None:
        return False
    return best >= goal if maximize else best <= goal


# ---------------------------------------------------------------------------------------------
# Completion (§3.5) and conditions (§3.2)
# ---------------------------------------------------------------------------------------------
class ExperimentReason(StrEnum):
    CREATED = "ExperimentCreated"
    RUNNING = "ExperimentRunning"
    RESTARTING = "ExperimentRestarting"
    GOAL_REACHED = "ExperimentGoalReached"
    MAX_TRIALS_REACHED = "ExperimentMaxTrialsReached"
    SUGGESTION_END_REACHED = "ExperimentSuggestionEndReached"
    FAILED = "ExperimentFailed"


EXPERIMENT_MESSAGES: Mapping[ExperimentReason, str] = {
    ExperimentReason.CREATED: "Experiment is created",
    ExperimentReason.RUNNING: "Experiment is running",
    ExperimentReason.RESTARTING: "Experiment is restarted",
    ExperimentReason.GOAL_REACHED: "Experiment has succeeded because Objective goal has reached",
    ExperimentReason.MAX_TRIALS_REACHED: "Experiment has succeeded because max trial count has reached",
    ExperimentReason.SUGGESTION_END_REACHED: "Experiment has succeeded because suggestion service has reached the end",
    ExperimentReason.FAILED: "Experiment has failed because max failed count has reached",
}


@dataclass(frozen=True)
class Completion:
    """The outcome of ``UpdateExperimentStatusCondition``: a condition type, reason and message."""

    type: str  # "Succeeded" | "Failed" | "Running"
    reason: ExperimentReason

    @property
    def message(self) -> str:
        return EXPERIMENT_MESSAGES[self.reason]

    @property
    def is_completed(self) -> bool:
        return self.type in ("Succeeded", "Failed")


def completion(
    counts: TrialCounts,
    *,
    goal_is_reached: bool,
    max_trial_count: int | None,
    max_failed_trial_count: int | None,
    suggestion_done: bool = False,
) -> Completion:
    """Katib's completion checks, first match wins (§3.5).

    1. goal reached; 2. ``maxFailedTrialCount`` set, failed != 0 and failed >= it (failed =
    Failed + MetricsUnavailable; so ``0`` fails on the first failure); 3. ``maxTrialCount`` set and
    completed >= it; 4. suggestion end with no active trial (dead code in Katib: it always passes
    ``suggestion_done=False``; katibsim passes True only when asked to correct an exhausted
    search space); 5. still running.
    """
    if goal_is_reached:
        return Completion("Succeeded", ExperimentReason.GOAL_REACHED)
    failed = counts.failed_for_completion
    if max_failed_trial_count is not None and failed != 0 and failed >= max_failed_trial_count:
        return Completion("Failed", ExperimentReason.FAILED)
    if max_trial_count is not None and counts.completed >= max_trial_count:
        return Completion("Succeeded", ExperimentReason.MAX_TRIALS_REACHED)
    if suggestion_done and counts.active == 0:
        return Completion("Succeeded", ExperimentReason.SUGGESTION_END_REACHED)
    return Completion("Running", ExperimentReason.RUNNING)


@dataclass(frozen=True)
class Condition:
    """One Kubernetes-style condition; times are simulated seconds since the run started."""

    type: str
    status: str  # "True" | "False"
    reason: str
    message: str
    last_update: float
    last_transition: float

    def to_dict(self) -> dict:
        return {"type": self.type, "status": self.status, "reason": self.reason, "message": self.message,
                "last_update": self.last_update, "last_transition": self.last_transition}

    @classmethod
    def from_dict(cls, d: Mapping) -> "Condition":
        return cls(type=d["type"], status=d["status"], reason=d["reason"], message=d["message"],
                   last_update=float(d["last_update"]), last_transition=float(d["last_transition"]))


def set_condition(
    conditions: tuple[Condition, ...], type: str, status: str, reason: str, message: str, now: float
) -> tuple[Condition, ...]:
    """Katib's ``setCondition`` (§3.2).

    Nothing changes when a condition of this type already has the same status and reason;
    otherwise the old entry is removed and the new one appended (so the last condition is the most
    recent change), keeping ``lastTransitionTime`` when only the reason or message changed.
    """
    old = next((c for c in conditions if c.type == type), None)
    if old is not None and old.status == status and old.reason == reason:
        return conditions
    transition = old.last_transition if old is not None and old.status == status else now
    kept = tuple(c for c in conditions if c.type != type)
    return kept + (Condition(type, status, reason, message, now, transition),)


def mark_completed(
    conditions: tuple[Condition, ...], type: str, reason: str, message: str, now: float
) -> tuple[Condition, ...]:
    """Mark Succeeded / Failed: a Running condition is first re-set to False with its reason (§3.2)."""
    running = next((c for c in conditions if c.type == "Running"), None)
    if running is not None:
        conditions = set_condition(conditions, "Running", "False", running.reason, running.message, now)
    return set_condition(conditions, type, "True", reason, message, now)


# ---------------------------------------------------------------------------------------------
# Trial names (§3.6)
# ---------------------------------------------------------------------------------------------
def trial_name(experiment: str, rng: np.random.Generator) -> str:
    """``<experiment>-<8 chars>`` from apimachinery's alphabet, drawn from ``rng``."""
    idx = rng.integers(0, len(NAME_ALPHABET), size=NAME_SUFFIX_LENGTH)
    return experiment + "-" + "".join(NAME_ALPHABET[i] for i in idx)


class TrialNamer:
    """Unique Katib-style trial names from one generator, drawn in blocks (cheap per name).

    A collision (27^8 ≈ 2.8e11 suffixes) is redrawn: Katib would fail to create the duplicate
    Trial and try again on the next reconcile, with the same end result.
    """

    _BLOCK = 4096

    def __init__(self, experiment: str, rng: np.random.Generator) -> None:
        self.prefix = experiment + "-"
        self.rng = rng
        self.used: set[str] = set()
        self._buf: list[str] = []

    _TABLE = np.frombuffer(NAME_ALPHABET.encode("ascii"), dtype=np.uint8)

    def _refill(self) -> None:
        codes = self.rng.integers(0, len(NAME_ALPHABET), size=(self._BLOCK, NAME_SUFFIX_LENGTH))
        text = self._TABLE[codes].tobytes().decode("ascii")
        n = NAME_SUFFIX_LENGTH
        # Reversed so pop() hands names out in the order they were drawn.
        self._buf = [text[i:i + n] for i in range((self._BLOCK - 1) * n, -1, -n)]

    def __call__(self) -> str:
        while True:
            if not self._buf:
                self._refill()
            name = self.prefix + self._buf.pop()
            if name not in self.used:
                self.used.add(name)
                return name


# ---------------------------------------------------------------------------------------------
# Which trials the algorithm sees (§4.2)
# ---------------------------------------------------------------------------------------------
def sent_to_services(bucket: Bucket, observation_available: bool) -> bool:
    """``ConvertTrials``: every trial except MetricsUnavailable ones and EarlyStopped ones without
    an available observation."""
    if bucket == Bucket.METRICS_UNAVAILABLE:
        return False
    if bucket == Bucket.EARLY_STOPPED and not observation_available:
        return False
    return True


__all__ = [
    "UNAVAILABLE", "NAME_ALPHABET", "Bucket", "BUCKET_PRIORITY", "bucket_of", "TrialCounts",
    "TrialsDecision", "reconcile_trials", "suggestion_requests", "assignments_to_request",
    "MetricObservation", "metric_number", "metric_string", "observe_metric", "objective_value_string", "objective_value",
    "BestTrial", "best_trial", "is_better", "replaces_best", "goal_reached", "ExperimentReason", "EXPERIMENT_MESSAGES",
    "Completion", "completion", "Condition", "set_condition", "mark_completed",
    "trial_name", "TrialNamer", "sent_to_services",
]
