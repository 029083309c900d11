"""The experiment controller: Katib's reconcile loop, driven by a backend's events.

One :class:`Controller` runs one experiment to its end (Katib's
``pkg/controller.v1beta1/experiment/experiment_controller.go`` and the suggestion client's
``SyncAssignments``; docs/simulation.md describes the run step by step):

1. the Experiment is created (``Created``) and the Suggestion is asked for its first trials; on a
   simulated backend its service answers after ``suggestion_startup_delay``;
2. every time trials end, the backend returns their events, the controller updates the trials'
   conditions and observations, recomputes the status (buckets, counters, best trial, goal) and
   runs the completion checks in Katib's order; when the experiment is not complete it asks for
   ``min(parallel, max − completed) − active`` more trials through ``checked_suggest``, attaches
   the early-stopping rules of that batch, and starts them on the backend;
3. when the experiment completes, running trials are not stopped (Katib does not stop them,
   issue #2061): they finish, and their results still update the status, but no trial is created;
4. when Katib's own suggestion service fails (``SuggestionServiceFailure``), no trial is created,
   the Experiment stays Running and the call is retried on every later reconcile.

Every decision is taken by the pure functions of :mod:`katibsim.engine.arithmetic`; here only the
state they read is kept incrementally (counters, best trial, the history the algorithm sees in
:mod:`katibsim.engine.history`), so a step costs O(1) apart from the algorithm itself.

Why one module of about 700 lines: it is one state machine. Reconciling, applying trial events,
folding in the best trial and assembling the result read and write the same run state (counts,
running trials, conditions, the Suggestion's requests, notes); split apart they would pass that
state around or share it through a second object. What has a job of its own already lives
elsewhere: the rules (arithmetic.py), the history (history.py), the result types (result.py), the
Katib-shaped objects (status.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from katibsim.algorithm import Algorithm
from katibsim.errors import SuggestionServiceFailure
from katibsim.history_keys import HistoryKeys
from katibsim.suggest_check import checked_suggest
from katibsim.trial import Metric, Observation, Trial, TrialCondition
from katibsim.backends.base import Backend, Outcome, RunContext, TrialEvent, TrialLaunch
from katibsim.early_stopping import EarlyStopping, Rule
from katibsim.engine.arithmetic import (
    UNAVAILABLE,
    Bucket,
    Condition,
    ExperimentReason,
    EXPERIMENT_MESSAGES,
    MetricObservation,
    TrialCounts,
    TrialNamer,
    assignments_to_request,
    best_trial,
    completion,
    goal_reached,
    mark_completed,
    metric_number,
    objective_value,
    objective_value_string,
    observe_metric,
    reconcile_trials,
    replaces_best,
    sent_to_services,
    set_condition,
    suggestion_requests,
)
from katibsim.engine.history import History
from katibsim.engine.options import SimulationOptions
from katibsim.engine.result import (
    BestPoint,
    ExperimentStatus,
    KatibFailure,
    Note,
    OptimalTrial,
    RunResult,
    SuggestionStatus,
    TrialResult,
)
from katibsim.spec.model import Experiment

_CONDITION_OF = {
    Bucket.SUCCEEDED: TrialCondition.SUCCEEDED,
    Bucket.FAILED: TrialCondition.FAILED,
    Bucket.KILLED: TrialCondition.KILLED,
    Bucket.EARLY_STOPPED: TrialCondition.EARLY_STOPPED,
    Bucket.METRICS_UNAVAILABLE: TrialCondition.METRICS_UNAVAILABLE,
    Bucket.RUNNING: TrialCondition.RUNNING,
    Bucket.PENDING: TrialCondition.CREATED,
}

_BUCKET_OF = {
    Outcome.SUCCEEDED: Bucket.SUCCEEDED,
    Outcome.FAILED: Bucket.FAILED,
    Outcome.METRICS_UNAVAILABLE: Bucket.METRICS_UNAVAILABLE,
    Outcome.EARLY_STOPPED: Bucket.EARLY_STOPPED,
    Outcome.KILLED: Bucket.KILLED,
}


@dataclass(frozen=True)
class RunInfo:
    """What was run, for the result: names and settings as given by the caller."""

    algorithm: str
    seed: int
    algorithm_settings: tuple[tuple[str, str], ...] = ()
    early_stopping: str | None = None
    early_stopping_settings: tuple[tuple[str, str], ...] = ()
    objective: str | None = None
    objective_options: tuple[tuple[str, str], ...] = ()
    mapping: str | None = None
    backend: str = "sim"
    spec: Any = None
    notes: tuple[Note, ...] = ()
    plugin: str | None = None  # the plugin that registered the algorithm, named when it breaks the contract


_NO_LABELS: dict[str, str] = {}  # the labels of a trial the algorithm did not label (read-only)


class _TrialState:
    """A trial while the run goes on (mutable for speed; frozen into a TrialResult at the end)."""

    __slots__ = ("index", "name", "assignment", "strings", "rules", "created", "started", "ended",
                 "bucket", "reason", "message", "value", "metrics", "curve", "stopped_at", "obs",
                 "output_tail", "output_path", "labels", "extrapolated")

    def __init__(self, index: int, name: str, assignment: dict, strings: tuple, rules: tuple, created: float):
        self.index = index
        self.name = name
        self.assignment = assignment
        self.strings = strings
        self.rules = rules
        self.created = created
        self.started: float | None = None
        self.ended: float | None = None
        self.bucket = Bucket.RUNNING
        self.reason = "TrialRunning"
        self.message = "Trial is running"
        self.value: float | None = None
        self.metrics: tuple[MetricObservation, ...] = ()
        self.curve: tuple = ()
        self.stopped_at: int | None = None
        self.obs = False
        self.output_tail: tuple[str, ...] = ()
        self.output_path: str | None = None
        self.labels: dict[str, str] = _NO_LABELS  # shared, never mutated
        self.extrapolated = False


class Controller:
    """Runs one experiment on one backend; see the module docstring. Use :meth:`run` once."""

    def __init__(
        self,
        experiment: Experiment,
        *,
        algorithm: Algorithm,
        backend: Backend,
        context: RunContext,
        info: RunInfo,
        names_rng: np.random.Generator,
        early_stopping: EarlyStopping | None = None,
        options: SimulationOptions | None = None,
    ) -> None:
        self.exp = experiment
        self.spec = experiment.spec
        self.algorithm = algorithm
        self.backend = backend
        self.context = context
        self.info = info
        self.es = early_stopping
        self.opts = options or context.options
        self.compat = self.opts.katib_compat
        obj = self.spec.objective
        assert obj is not None and obj.objective_metric_name
        self.metric = obj.objective_metric_name
        self.maximize = obj.type == "maximize"
        self.goal = obj.goal
        self.metric_names = context.metric_names
        self.strategies = {m: obj.strategy_for(m) for m in self.metric_names}
        self.parallel = int(self.spec.parallel_trial_count or 3)
        self.max_trials = self.spec.max_trial_count
        self.max_failed = self.spec.max_failed_trial_count
        self.retain = bool(self.spec.trial_template and self.spec.trial_template.retain)
        self.space = algorithm.space
        self._param_names = self.space.names
        self.names = TrialNamer(experiment.name, names_rng)
        self.render = not backend.simulated

        self.trials: list[_TrialState] = []
        self.running: dict[str, _TrialState] = {}  # trials not yet ended, by name (small: <= parallel)
        self.history = History()
        self.history_keys = HistoryKeys(self.space)  # duplicates are counted against the history's keys
        self.katib_failures: list[KatibFailure] = []
        self.count = {b: 0 for b in Bucket}
        self.incomplete = 0  # early-stopped trials without an available observation
        self.best: _TrialState | None = None
        self.best_value: float | None = None
        self.nan_seen = False
        self.best_so_far: list[BestPoint] = []
        self.completed_trials = 0

        self.conditions: tuple[Condition, ...] = ()
        self.completion_time: float | None = None
        self.time_to_goal: float | None = None
        self.s_conditions: tuple[Condition, ...] = ()
        self.requests = 0
        self.suggestion_count = 0
        self.suggestion_ready = False
        self.exhausted = False
        self.exhausted_message = ""
        self.duplicates = 0
        self.max_concurrent = 0
        self.notes: list[Note] = list(info.notes)
        self._note_codes: set[str] = {n.code for n in self.notes}
        self.stall_reason = ""
        self.last_event = 0.0
        self._running_marked = False
        self._completed = False

    # -- helpers -------------------------------------------------------------------------------------
    def note(self, code: str, message: str) -> None:
        if code not in self._note_codes:
            self._note_codes.add(code)
            self.notes.append(Note(code, message))

    @property
    def is_completed(self) -> bool:
        return self._completed

    def counts(self) -> TrialCounts:
        c = self.count
        return TrialCounts(
            succeeded=c[Bucket.SUCCEEDED], failed=c[Bucket.FAILED], killed=c[Bucket.KILLED],
            early_stopped=c[Bucket.EARLY_STOPPED], metrics_unavailable=c[Bucket.METRICS_UNAVAILABLE],
            running=c[Bucket.RUNNING], pending=c[Bucket.PENDING],
        )

    @property
    def active(self) -> int:
        return self.count[Bucket.RUNNING] + self.count[Bucket.PENDING]

    # -- the run ----------------------------------------------------------------------------------------
    def run(self) -> RunResult:
        return self._run()

    def _run(self) -> RunResult:
        backend = self.backend
        now = backend.now()
        # First reconcile: startTime and Created; trials come from the next reconcile on (§3.3).
        self.conditions = set_condition(self.conditions, "Created", "True", ExperimentReason.CREATED.value,
                                        EXPERIMENT_MESSAGES[ExperimentReason.CREATED], now)
        self.s_conditions = set_condition((), "Created", "True", "SuggestionCreated", "Suggestion is created", now)
        delay = self.opts.suggestion_startup_delay if backend.simulated else 0.0
        self._reconcile(now)  # sets spec.requests; the service is not ready to answer yet
        if delay > 0:
            backend.wait(deadline=now + delay)
        now = backend.now()
        self.suggestion_ready = True
        self.s_conditions = set_condition(self.s_conditions, "DeploymentReady", "True", "DeploymentReady",
                                          "Deployment is ready", now)
        self.s_conditions = set_condition(self.s_conditions, "Running", "True", "SuggestionRunning",
                                          "Suggestion is running", now)
        while True:
            self._reconcile(backend.now())
            if backend.active == 0:
                break
            events = backend.wait()
            if not events:  # a real backend interrupted, or nothing left to wait for
                if backend.interrupted:
                    self.stall_reason = "Interrupted"
                    self.note("interrupted", backend.interrupted)
                break
            for ev in events:
                self._apply(ev)
            self.last_event = backend.now()
        return self._result(backend.now())

    # -- reconcile ----------------------------------------------------------------------------------------
    def _reconcile(self, now: float) -> None:
        if self.is_completed:
            return  # status is refreshed as events arrive; no new trials (§3.3 step 2)
        if self.trials:
            self._update_condition(now)
            if self.is_completed:
                return
        self._reconcile_trials(now)

    def _goal_reached(self) -> bool:
        if self.nan_seen:
            return self._scan().goal_reached
        return goal_reached(self.best_value, self.goal, self.maximize)

    def _update_condition(self, now: float) -> None:
        done = completion(
            self.counts(),
            goal_is_reached=self._goal_reached(),
            max_trial_count=self.max_trials,
            max_failed_trial_count=self.max_failed,
            suggestion_done=self.exhausted and not self.compat,
        )
        if done.is_completed:
            self.conditions = mark_completed(self.conditions, done.type, done.reason.value, done.message, now)
            self._completed = True
            self.completion_time = now
            if done.reason == ExperimentReason.GOAL_REACHED:
                self.time_to_goal = now
            self._complete_suggestion(now)
            if self.active:
                self.note("trials-running-after-completion",
                          f"{self.active} trial(s) were still running when the experiment completed; Katib does "
                          "not stop them (issue #2061), so they ran to their end and still updated the status")
            if done.reason == ExperimentReason.SUGGESTION_END_REACHED:
                self.note("suggestion-end-reached",
                          "corrected behaviour (katib_compat: false): the search space was exhausted, so the "
                          "experiment ended with ExperimentSuggestionEndReached, a reason Katib defines but never "
                          f"sets ({self.exhausted_message})")
        else:
            self.conditions = set_condition(self.conditions, "Running", "True", done.reason.value, done.message, now)

    def _complete_suggestion(self, now: float) -> None:
        policy = self.spec.resume_policy or "Never"
        if policy not in ("Never", "FromVolume"):
            return  # LongRunning keeps the suggestion service running
        message = ("Suggestion is succeeded, can't be restarted" if policy == "Never"
                   else "Suggestion is succeeded, suggestion volume is not deleted, can be restarted")
        c = self.s_conditions
        c = set_condition(c, "DeploymentReady", "False", "Suggestion is succeeded", "Deployment is not ready", now)
        c = set_condition(c, "Running", "False", "Suggestion is succeeded", "Suggestion is not running", now)
        c = set_condition(c, "Succeeded", "True", "Experiment is succeeded", message, now)
        self.s_conditions = c

    def _reconcile_trials(self, now: float) -> None:
        counts = self.counts()
        decision = reconcile_trials(self.parallel, self.max_trials, counts.active,
                                    counts.completed_for_requests(katib_compat=self.compat))
        add = decision.add
        if add <= 0:
            return
        if self.max_trials is None:
            room = self.opts.unbounded_trial_limit - len(self.trials)
            if room <= 0:
                self.stall_reason = "TrialLimitReached"
                self.note("unbounded-trial-limit",
                          f"the experiment has no maxTrialCount, so Katib would create trials forever; the simulation "
                          f"stopped creating them at unbounded_trial_limit={self.opts.unbounded_trial_limit}")
                return
            add = min(add, room)
        self.requests = suggestion_requests(len(self.trials), add, self.incomplete)
        if not self.suggestion_ready:
            return
        current = assignments_to_request(self.requests, self.suggestion_count)
        if current < add and self.incomplete:
            self.note("early-stopped-without-observation-requests",
                      f"early-stopped trials without an observation (trialTemplate.retain is false, Katib issue "
                      "#1377) are subtracted from the Suggestion's requests, so parallel slots stayed empty")
        if current <= 0:
            if self.active == 0:
                self.stall_reason = "RequestsExhausted"
            return
        history = self.history.compact()
        try:
            result = checked_suggest(self.algorithm, history, current, plugin=self.info.plugin,
                                     history_keys=self.history_keys)
        except SuggestionServiceFailure as failure:
            self._service_failed(failure, now)
            return
        assignments = result.assignments
        self.exhausted = result.exhausted
        if result.exhausted:
            self.exhausted_message = result.message or "the algorithm has no new assignment"
            if self.compat:
                # Katib stores nothing when the reply does not hold exactly `current` assignments
                # ("The response contains unexpected trials", §4.2) and retries forever.
                assignments = ()
                if self.active == 0:
                    self.stall_reason = "SuggestionExhausted"
                self.note("suggestion-exhausted-katib-hangs",
                          f"the algorithm ran out of assignments ({self.exhausted_message}); Katib would keep this "
                          "Experiment Running forever with no new trial (issues #1124, #1534). The simulation "
                          "stopped when no trial was left running; set katib_compat: false to end it with "
                          "ExperimentSuggestionEndReached instead")
        if not assignments:
            return
        self.duplicates += result.duplicates
        rules: tuple[Rule, ...] = tuple(self.es.rules(history)) if self.es is not None else ()
        self.suggestion_count += len(assignments)
        keys = result.keys if len(result.keys) == len(assignments) else [self.space.key(a) for a in assignments]
        # Per-assignment trial labels of the answer, when the algorithm gives them (Katib's PBT).
        labels = getattr(self.algorithm, "last_labels", None)
        if not labels or len(labels) != len(assignments):
            labels = None
        # Trial names the service chose (a reply's trial_name; Katib's PBT names its trials), "" for none.
        given = getattr(self.algorithm, "last_trial_names", None)
        if not given or len(given) != len(assignments):
            given = None
        for k, (a, key) in enumerate(zip(assignments, keys)):
            self._create_trial(a, key, rules, now, labels[k] if labels else None, given[k] if given else None)
        active = self.active
        if active > self.max_concurrent:
            self.max_concurrent = active
        if not self._running_marked:
            # The first trials trigger another reconcile at once, which marks the experiment
            # Running; creating trials changes nothing else the completion checks look at.
            self._running_marked = True
            self.conditions = set_condition(self.conditions, "Running", "True", ExperimentReason.RUNNING.value,
                                            EXPERIMENT_MESSAGES[ExperimentReason.RUNNING], now)

    def _service_failed(self, failure: SuggestionServiceFailure, now: float) -> None:
        """Katib's answer to a failing GetSuggestions: ``SyncAssignments`` returns the error, no
        assignment is stored, no trial is created, the Experiment stays Running, and the call is
        retried on every later reconcile (and on the controller's backoff, which changes nothing
        for a service that fails the same way on the same history). With no trial left running
        nothing will ever change: the simulation ends there, the Experiment still Running."""
        trials = len(self.trials)
        same = next((f for f in self.katib_failures if f.message == failure.message), None)
        if same is None:
            self.katib_failures.append(KatibFailure(failure.message, failure.why, failure.fix, now, trials))
        else:
            self.katib_failures[self.katib_failures.index(same)] = same.retried()
        if self.active == 0:
            self.stall_reason = "SuggestionServiceFailed"
            self.note("suggestion-service-failed",
                      f"Katib's suggestion service for {self.info.algorithm} fails after {trials} trial(s): "
                      f"{failure.message}. Why: {failure.why}. Fix: {failure.fix}. Katib creates no trial, keeps "
                      "the Experiment Running and retries on every reconcile, forever; the simulation stopped "
                      "when no trial was left running")

    def _create_trial(self, assignment: dict, key: tuple[str, ...], rules: tuple[Rule, ...], now: float,
                      labels: dict[str, str] | None = None, name: str | None = None) -> None:
        """``key`` is the assignment's SearchSpace.key: its Katib strings in parameter order;
        ``name`` the service's name for the trial (``SyncAssignments``: the reply's ``trial_name``
        when set, else ``<experiment>-<8 random characters>``)."""
        if name:
            self.names.used.add(name)
        else:
            name = self.names()
        strings = tuple(zip(self._param_names, key))
        st = _TrialState(len(self.trials), name, assignment, strings, rules, now)
        if labels:
            st.labels = dict(labels)
        self.trials.append(st)
        self.running[name] = st
        self.count[Bucket.RUNNING] += 1
        self.history.add(Trial(name=name, assignment=assignment, condition=TrialCondition.RUNNING,
                                  start_time=now, labels=st.labels))
        run_spec = None
        if self.render:
            from katibsim.spec.templates import render_trial

            run_spec = render_trial(self.exp, name, dict(strings))
        self.backend.start(TrialLaunch(name=name, index=st.index, assignment=assignment,
                                       parameter_assignments=strings, rules=rules, run_spec=run_spec,
                                       labels=st.labels))

    # -- events ---------------------------------------------------------------------------------------------
    def _observe(self, reports) -> tuple[MetricObservation, ...]:
        out = []
        for m in self.metric_names:
            logs = reports.get(m)
            if logs:
                out.append(observe_metric(m, [v for _, v in logs]))
        return tuple(out)

    def _algorithm_observation(self, metrics: tuple[MetricObservation, ...]) -> Observation:
        return Observation(tuple(_metric(m) for m in metrics))

    def _apply(self, ev: TrialEvent) -> None:
        st = self.running.pop(ev.name, None)
        if st is None:
            if ev.name not in self.names.used:
                raise KeyError(ev.name)
            return  # a late duplicate event from a real backend
        self.count[st.bucket] -= 1
        bucket = _BUCKET_OF[ev.outcome]
        st.ended = ev.time
        st.started = ev.started
        st.stopped_at = ev.stopped_at
        obj_logs = ev.reports.get(self.metric, ())
        st.curve = _numeric_curve(obj_logs)
        st.output_tail = ev.output_tail
        st.output_path = ev.output_path
        st.extrapolated = ev.extrapolated
        job_reason = f". Job reason: {ev.reason}" if ev.reason else ""
        job_message = f". Job message: {ev.message}" if ev.message else ""
        obs = False
        if bucket == Bucket.SUCCEEDED:
            metrics = self._observe(ev.reports)
            objective = next((m for m in metrics if m.name == self.metric), None)
            if objective is None or objective.latest == UNAVAILABLE:
                # The job succeeded but the objective was never reported. Katib requeues such a
                # trial forever (it stays Running, §3.9 step 5); the simulation ends it as
                # MetricsUnavailable and says so.
                bucket = Bucket.METRICS_UNAVAILABLE
                self.note("objective-never-reported",
                          f"trial {st.name} succeeded without reporting {self.metric}; Katib would leave it Running "
                          "forever (issues #1795, #1801); katibsim counts it MetricsUnavailable")
            st.metrics = metrics
            obs = bucket == Bucket.SUCCEEDED
        elif bucket == Bucket.METRICS_UNAVAILABLE:
            st.metrics = self._observe(ev.reports)
        elif bucket == Bucket.EARLY_STOPPED:
            if self.compat and not self.retain:
                # With retain: false the job is deleted before the observation is fetched (#1377).
                self.note("early-stopped-without-observation",
                          "early-stopped trials have no observation: trialTemplate.retain is false, and Katib "
                          "deletes the job before fetching it (issue #1377); set retain: true as Katib's "
                          "early-stopping examples do, or katib_compat: false to keep the observation")
                st.metrics = ()
            else:
                if not self.retain:
                    self.note("early-stopped-observation-kept",
                              "corrected behaviour (katib_compat: false): early-stopped trials kept their observation; "
                              "with trialTemplate.retain false Katib would lose it (issue #1377) and leave parallel "
                              "slots empty")
                st.metrics = self._observe(ev.reports)
                obs = any(m.name == self.metric and m.latest != UNAVAILABLE for m in st.metrics)
        st.bucket = bucket
        st.obs = obs
        self.count[bucket] += 1
        self.completed_trials += 1
        if bucket == Bucket.SUCCEEDED:
            st.reason, st.message = "TrialSucceeded" + job_reason, "Trial has succeeded" + job_message
        elif bucket == Bucket.FAILED:
            st.reason, st.message = "TrialFailed" + job_reason, "Trial has failed" + job_message
        elif bucket == Bucket.METRICS_UNAVAILABLE:
            st.reason, st.message = "MetricsUnavailable" + job_reason, "Metrics are not available" + job_message
        elif bucket == Bucket.EARLY_STOPPED:
            st.reason, st.message = "TrialEarlyStopped", "Trial is early stopped"
            if self.es is not None:
                self.es.set_trial_status(st.name)  # SetTrialStatus (§5.10)
        else:
            st.reason, st.message = "TrialKilled", "Trial is killed" + job_message

        value = None
        if obs:
            objective = next((m for m in st.metrics if m.name == self.metric), None)
            value = objective_value(objective, self.strategies[self.metric])
        st.value = value
        if bucket == Bucket.EARLY_STOPPED and not obs:
            self.incomplete += 1

        # What the algorithm sees from now on (§4.2).
        if not sent_to_services(bucket, obs):
            self.history.drop(st.name)
        else:
            self.history.put(Trial(
                name=st.name, assignment=st.assignment, condition=_CONDITION_OF[bucket], value=value,
                observation=self._algorithm_observation(st.metrics) if st.metrics else None,
                intermediate=st.curve, start_time=st.created, completion_time=st.ended, labels=st.labels,
            ), final=True)
        if value is not None:
            self._update_best(st, value, ev.time)

    def _rank(self, st: _TrialState) -> Any:
        """A trial's place in the list order of Katib's best-trial scan (see :func:`replaces_best`)."""
        return st.name if self.compat else st.index

    def _update_best(self, st: _TrialState, value: float, now: float) -> None:
        if math.isnan(value):
            self.nan_seen = True
            self.note("nan-objective", f"trial {st.name} reported NaN; Katib parses it as a number that never "
                                       "compares better, so a NaN listed first blocks every later best")
        if self.nan_seen:
            scan = self._scan()
            new = self.trials[scan.index] if scan.index is not None else None
            if new is not None and new is not self.best:
                self.best, self.best_value = new, scan.value
                if scan.value is not None:
                    self.best_so_far.append(BestPoint(now, self.completed_trials, new.name, scan.value))
            return
        best = self.best
        if replaces_best(value, self._rank(st), self.best_value, None if best is None else self._rank(best),
                         self.maximize):
            changed = best is None or value != self.best_value
            self.best, self.best_value = st, value
            if changed:
                self.best_so_far.append(BestPoint(now, self.completed_trials, st.name, value))

    def _scan(self):
        """Katib's best-trial scan over every trial, in the scan's list order (the slow, exact path)."""
        strategy = self.strategies[self.metric]
        values = [objective_value_string(next((m for m in t.metrics if m.name == self.metric), None), strategy)
                  if t.obs else UNAVAILABLE for t in self.trials]
        obj_type = self.spec.objective.type if self.spec.objective else None
        order = sorted(range(len(self.trials)), key=lambda i: self._rank(self.trials[i]))
        return best_trial(values, obj_type, self.goal, order)

    def _tie_note(self) -> None:
        if not self.compat or self.best is None or self.best_value is None or self.nan_seen:
            return
        tied = sum(1 for t in self.trials if t.value == self.best_value)
        if tied > 1:
            self.note("tied-best",
                      f"{tied} trials share the best value {self.best_value}; Katib's currentOptimalTrial is the one "
                      "its informer cache lists first, an arbitrary order (Go map order) that can change between "
                      "reconciles; katibsim takes the first by name (katib_compat: false: the first created)")

    # -- the result --------------------------------------------------------------------------------------------
    def _result(self, now: float) -> RunResult:
        self._tie_note()
        completed = self.is_completed
        last = self.conditions[-1]
        if completed:
            outcome = "Succeeded" if last.type == "Succeeded" else "Failed"
            reason = last.reason
            end = self.completion_time if self.completion_time is not None else now
        else:
            outcome = "Running"
            reason = self.stall_reason or ("SuggestionExhausted" if self.exhausted else "Stalled")
            end = now
            if reason == "Stalled":
                self.note("stalled", "the experiment stopped making progress with no trial running; Katib would "
                                     "leave it Running")
        if self.compat:
            extra = self.count[Bucket.METRICS_UNAVAILABLE]
            if extra and self.max_trials is not None and len(self.trials) > self.max_trials:
                self.note("more-trials-than-max",
                          f"{len(self.trials)} trials were created for maxTrialCount {self.max_trials}: Katib leaves "
                          f"MetricsUnavailable trials ({extra}) out of the count that decides how many trials to "
                          "create but counts them as completed (§3.6); set katib_compat: false to count them")
        elif self.count[Bucket.METRICS_UNAVAILABLE] and self.max_trials is not None:
            self.note("metrics-unavailable-counted",
                      f"corrected behaviour (katib_compat: false): {self.count[Bucket.METRICS_UNAVAILABLE]} "
                      "MetricsUnavailable trial(s) counted as completed when deciding how many trials to create, so "
                      f"no more than maxTrialCount {self.max_trials} were created; Katib leaves them out (§3.6) and "
                      "can create more")
        for code, message in self.backend.notes():
            self.note(code, message)
        if self.exp.source_api_version != self.exp.api_version:
            self.note("v1beta1-semantics",
                      f"the experiment is {self.exp.source_api_version}; it was simulated with the v1beta1 "
                      "controller's rules (v1alpha3 Katib counted failures with '>' and had no EarlyStopped or "
                      "MetricsUnavailable buckets)")

        trials = tuple(
            TrialResult(
                name=t.name, index=t.index, assignment=t.strings, condition=t.bucket.value, reason=t.reason,
                message=t.message, value=t.value, metrics=t.metrics, curve=t.curve, created=t.created,
                started=t.started, ended=t.ended, rules=t.rules, stopped_at=t.stopped_at,
                observation_available=t.obs, output_tail=t.output_tail, output_path=t.output_path,
                labels=tuple(sorted(t.labels.items())),
                extrapolated=t.extrapolated,
            )
            for t in self.trials
        )
        optimal = None
        if self.best is not None:
            optimal = OptimalTrial(self.best.name, self.best.strings, self.best.metrics)
        status = ExperimentStatus(conditions=self.conditions, start_time=0.0, completion_time=self.completion_time,
                                  current_optimal_trial=optimal, counts=self.counts())
        suggestion = SuggestionStatus(self.requests, self.suggestion_count, self.s_conditions, 0.0)
        ends = [t.ended for t in self.trials if t.ended is not None]
        info = self.info
        obj = self.spec.objective
        return RunResult(
            experiment=self.exp.name,
            namespace=self.exp.namespace,
            source_file=self.exp.source_file,
            source_api_version=self.exp.source_api_version,
            algorithm=info.algorithm,
            algorithm_settings=info.algorithm_settings,
            early_stopping=info.early_stopping,
            early_stopping_settings=info.early_stopping_settings,
            objective=info.objective,
            objective_options=info.objective_options,
            mapping=info.mapping,
            backend=info.backend,
            seed=info.seed,
            options=self.opts,
            metric_name=self.metric,
            maximize=self.maximize,
            goal=obj.goal if obj else None,
            parallel_trial_count=self.parallel,
            max_trial_count=self.max_trials,
            max_failed_trial_count=self.max_failed,
            spec=info.spec or {},
            trials=trials,
            status=status,
            suggestion=suggestion,
            outcome=outcome,
            reason=reason,
            best_so_far=tuple(self.best_so_far),
            duplicates=self.duplicates,
            notes=tuple(self.notes),
            time_to_goal=self.time_to_goal,
            time_to_end=end,
            last_trial_end=max(ends) if ends else now,
            max_concurrent=self.max_concurrent,
            katib_failures=tuple(self.katib_failures),
            extrapolated_trials=sum(1 for t in trials if t.extrapolated),
        )


def _numeric_curve(logs) -> tuple[tuple[int, float], ...]:
    """The objective's numeric reports. Real collectors keep Katib's strings ("0.9700"); those that
    parse as numbers count, "unavailable" and other words do not."""
    out = []
    for s, v in logs:
        if isinstance(v, str):
            if v == UNAVAILABLE:
                continue
            try:
                v = float(v)
            except ValueError:
                continue
        out.append((s, v))
    return tuple(out)


def _metric(m: MetricObservation) -> Metric:
    return Metric(name=m.name, min=metric_number(m.min), max=metric_number(m.max), latest=metric_number(m.latest))


__all__ = ["Controller", "History", "RunInfo"]  # History re-exported: it lives in engine.history
