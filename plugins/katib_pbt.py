"""``pbt``: Katib's Population Based Training service (``pkg/suggestion/v1beta1/pbt/service.py``).

The service keeps its population in memory (a queue of jobs: pending, running, completed). It
seeds ``n_population`` jobs by sampling each parameter from ``numpy.arange(min, max + step/2,
step)`` (an int's step defaults to 1; **a double without a step crashes the service**: every
``GetSuggestions`` fails with ``could not convert string to float: ''``), hands them out in order,
and once more than ``n_population`` of the current generation have completed it builds the next
one: the bottom ``truncation_threshold`` quantile *exploits* (takes the hyperparameters of a
random top-quantile trial), the rest *explores* (each parameter multiplied by 0.8 or 1.2 and
clipped, a categorical moved to a neighbouring value; with ``resample_probability``, resampled
instead). Failed and killed trials are queued again unchanged. Every job carries the labels
``pbt.suggestion.katib.kubeflow.org/generation`` and ``.../parent``; the parent's checkpoint
directory is copied for the child, so the child **continues training from its parent's
checkpoint** with its own hyperparameters.

Katib's defects, reproduced: an exploiting child continues from the checkpoint of the *bottom*
trial it replaces (its parent label names that trial), not of the top trial whose hyperparameters
it copies — so exploitation copies hyperparameters but not progress (``corrected``: the parent is
the top trial); ``resample_probability`` is compared as a string with numbers in validation, so
any value fails it; a service restart loses the population (a trial it does not know fails the
call with a ``KeyError``; ``corrected`` skips it).

katibsim names trials itself, so the jobs handed out are matched to the history's trials in
order (by assignment); ``last_labels`` holds the labels of the last answer, one mapping per
assignment, which the engine attaches to the trials it creates (the parent label then names the
parent's katibsim trial, and the simulated objective resumes from that trial's checkpoint). Off-grid
explore values are snapped onto the parameter's step grid (Katib sends them as they are); the
random draws come from one generator seeded by the run (Katib's global numpy state is unseeded).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping, Sequence

import numpy as np

from katibsim.algorithm import Algorithm, Capabilities, ObjectiveInfo, SettingsError, SettingSpec, Trial, TrialCondition
from katibsim.errors import FieldError, SuggestionServiceFailure
from katibsim.hookspecs import hookimpl
from katibsim.spec.space import Parameter, ParameterType, SearchSpace, Value

GENERATION_LABEL = "pbt.suggestion.katib.kubeflow.org/generation"
PARENT_LABEL = "pbt.suggestion.katib.kubeflow.org/parent"
_REQUIRED = ("suggestion_trial_dir", "n_population", "truncation_threshold")
_SOURCE = "pkg/suggestion/v1beta1/pbt/service.py"


@dataclass
class Job:
    """Katib's ``PbtJob``: one member of the population."""

    uid: int
    params: dict[str, Value]
    generation: int
    parent: int | None = None
    metric_value: float | None = None
    trial: str | None = None  # the katibsim trial that runs it, once matched


@dataclass
class Sampler:
    """Katib's ``HyperParameterSampler`` of one parameter."""

    parameter: Parameter
    values: list[Value] = field(default_factory=list)  # sample_list
    continuous: bool = False  # corrected: a double without step is drawn uniformly

    def sample(self, rng: np.random.Generator) -> Value:
        if self.continuous:
            return float(rng.uniform(float(self.parameter.min), float(self.parameter.max)))
        return self.values[int(rng.integers(len(self.values)))]

    def perturb(self, value: Value, rng: np.random.Generator) -> Value:
        p = self.parameter
        if p.type == ParameterType.INT:
            new = int(int(value) * float(rng.choice([0.8, 1.2])))
            return p.snap(max(float(p.min), min(float(p.max), new)))
        if p.type == ParameterType.DOUBLE:
            new = float(value) * float(rng.choice([0.8, 1.2]))
            return p.snap(max(float(p.min), min(float(p.max), new)))
        strings = list(p.values)
        i = strings.index(p.format(value)) + int(rng.choice([-1, 1]))
        s = strings[0] if i >= len(strings) else strings[i]  # -1 wraps to the last, as in Python
        return p.coerce(s) if p.type == ParameterType.DISCRETE else s


def build_sampler(p: Parameter, corrected: bool) -> Sampler:
    if p.type in (ParameterType.CATEGORICAL, ParameterType.DISCRETE):
        values: list[Value] = [p.coerce(v) if p.type == ParameterType.DISCRETE else v for v in p.values]
        return Sampler(p, values)
    step = p.step if p.step is not None else (1 if p.type == ParameterType.INT else None)
    if step is None:
        if corrected:
            return Sampler(p, continuous=True)
        raise SuggestionServiceFailure(
            "could not convert string to float: ''",
            why=f"Katib's pbt samples every int and double from numpy.arange(min, max + step/2, step); double "
                f"{p.name} has no step, so the service crashes on every GetSuggestions call ({_SOURCE}: "
                "HyperParameterSampler)",
            fix=f"give {p.name} a feasibleSpace.step")
    grid = np.arange(float(p.min), float(p.max) + float(step) / 2, float(step))
    values = [p.snap(int(x) if p.type == ParameterType.INT else float(x)) for x in grid]
    return Sampler(p, values)


class Pbt(Algorithm):
    """Katib's PBT: a population that exploits and explores generation by generation, from checkpoints."""

    name = "pbt"
    description = ("Population Based Training (Katib's own service): generations that copy the best and perturb the "
                   "rest; children continue from their parent's checkpoint")
    capabilities = Capabilities(multi_fidelity=True)
    #: Settings for the conformance kit, and the checks Katib's behaviour breaks.
    kit_settings: ClassVar[Mapping[str, str]] = {
        "suggestion_trial_dir": "/var/log/katib/checkpoints/", "n_population": "5", "truncation_threshold": "0.2"}
    kit_exempt: ClassVar[Mapping[str, str]] = {
        **{c: "the kit draws doubles without a step, which crash Katib's pbt (tests/katib_algorithms/test_pbt.py "
              "runs the kit on the --corrected variant)"
           for c in ("check_in_space", "check_exact_count", "check_deterministic", "check_pickles", "check_batch",
                     "check_history_with_failed_nan_running_earlystopped", "check_history_unchanged")},
        "check_rebuild_same_answer": "the population lives in memory, as in Katib",
        "check_rejects_junk_settings": "Katib's pbt ignores unknown setting names",
    }
    settings_spec = (
        SettingSpec("suggestion_trial_dir", None, "where the trial's checkpoint volume is mounted; required"),
        SettingSpec("n_population", None, "population size, an int >= 5; required"),
        SettingSpec("truncation_threshold", None, "bottom/top quantile exploited/copied, in [0, 1]; required"),
        SettingSpec("resample_probability", None, "resample instead of perturbing (Katib's validation rejects any value)"),
    )

    def __init__(self, space: SearchSpace, objective: ObjectiveInfo, settings: Mapping[str, str] | None = None,
                 seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(space, objective, {}, seed, **kwargs)  # Katib's pbt ignores unknown names
        self.settings = dict(settings or {})
        s = self.settings
        missing = [k for k in _REQUIRED if k not in s]
        if missing:
            raise SettingsError(f"Required params missing: {', '.join(missing)}", setting=missing[0])
        try:
            n = int(s["n_population"])
        except ValueError as exc:
            raise SettingsError(f"Exception calling application: {exc}", setting="n_population") from None
        if n < 5:
            raise SettingsError("Param(n_population) should be >= 5", setting="n_population")
        try:
            trunc = float(s["truncation_threshold"])
        except ValueError as exc:
            raise SettingsError(f"Exception calling application: {exc}", setting="truncation_threshold") from None
        if not 0 <= trunc <= 1:
            raise SettingsError("Param(truncation_threshold) should be between 0 and 1, inclusive",
                                setting="truncation_threshold")
        if "resample_probability" in s:
            # Katib: `0 <= settings["resample_probability"] <= 1` compares an int with a str.
            raise SettingsError("Exception calling application: '<=' not supported between instances of 'int' and "
                                "'str'", setting="resample_probability")
        self.population_size = n
        self.truncation_threshold = trunc
        self.resample_probability: float | None = None
        self.rng = np.random.default_rng(abs(int(seed)) if seed is not None else 0)
        self.samplers: list[Sampler] | None = None
        self.jobs: list[Job] = []
        self.pending: deque[int] = deque()
        self.running: dict[int, Job] = {}
        self.completed: dict[int, Job] = {}
        self.pool: dict[str, list[int]] = {"previous": [], "current": []}
        self._handed: deque[int] = deque()  # jobs handed out, not yet matched to a trial
        self._by_trial: dict[str, int] = {}
        #: Labels of the last answer, one mapping per assignment (the engine attaches them to the trials).
        self.last_labels: list[dict[str, str]] = []

    def predicted_failures(self) -> list[FieldError]:
        out = []
        for i, p in enumerate(self.space):
            if p.type == ParameterType.DOUBLE and p.step is None:
                out.append(FieldError(f"spec.parameters[{i}].feasibleSpace.step",
                                      f"Katib's pbt crashes on every GetSuggestions call (\"could not convert string to "
                                      f"float: ''\") because double {p.name} has no step: it samples from "
                                      "numpy.arange(min, max + step/2, step); give it a step", severity="warning"))
        if self.parallel_trial_count is not None and self.parallel_trial_count > self.population_size:
            out.append(FieldError("spec.parallelTrialCount",
                                  f"parallelTrialCount {self.parallel_trial_count} is larger than n_population "
                                  f"{self.population_size}: Katib's pbt seeds extra random members instead of a "
                                  "generation", severity="warning"))
        return out

    # -- the queue (Katib's PbtJobQueue) ------------------------------------------------------------------
    def _append(self, params: dict[str, Value], generation: int, parent: int | None = None) -> None:
        job = Job(len(self.jobs), dict(params), generation, parent)
        self.jobs.append(job)
        self.pending.append(job.uid)

    def _seed(self, count: int) -> None:
        assert self.samplers is not None
        for _ in range(count):
            self._append({s.parameter.name: s.sample(self.rng) for s in self.samplers}, 0)

    def _match(self, trial: Trial) -> Job | None:
        """The handed-out job that ``trial`` runs: the first not yet matched with equal parameters."""
        uid = self._by_trial.get(trial.name)
        if uid is not None:
            return self.jobs[uid]
        try:
            key = self.space.key(trial.assignment)
        except (KeyError, TypeError, ValueError):
            return None
        for k, cand in enumerate(self._handed):
            if self.space.key(self.jobs[cand].params) == key:
                del self._handed[k]
                job = self.jobs[cand]
                job.trial = trial.name
                self._by_trial[trial.name] = cand
                return job
        return None

    def _update(self, trial: Trial) -> None:
        if trial.condition in (TrialCondition.CREATED, TrialCondition.RUNNING):
            job = self._match(trial)  # match early, so the order of the history is followed
            if job is None and not self.corrected:
                raise self._unknown(trial)
            return
        job = self._match(trial)
        if job is None:
            if self.corrected:
                return
            raise self._unknown(trial)
        if job.uid in self.completed:
            return
        self.running.pop(job.uid, None)
        job.metric_value = None if trial.value is None else (1 if self.objective.maximize else -1) * trial.value
        self.completed[job.uid] = job
        if trial.condition in (TrialCondition.KILLED, TrialCondition.FAILED):
            self._append(dict(job.params), job.generation, job.parent)
            return
        self.pool["current"].append(job.uid)

    def _unknown(self, trial: Trial) -> SuggestionServiceFailure:
        return SuggestionServiceFailure(
            f"KeyError: '{trial.name}'",
            why="Katib's pbt keeps its population in memory and looks every finished trial up among the jobs it handed "
                f"out; trial {trial.name} is not one of them (the suggestion pod restarted, or the trial came from "
                f"elsewhere), so every GetSuggestions call fails ({_SOURCE}: PbtJobQueue.update)",
            fix="restart the Experiment from scratch, or run with --corrected")

    def _segment(self, pool: str, count: int) -> tuple[list[int], list[int], list[int]]:
        jobs = [self.completed[uid] for uid in self.pool[pool]]
        values = [j.metric_value for j in jobs]
        if any(v is None for v in values) or not values:
            raise SuggestionServiceFailure(
                "unsupported operand type(s) for quantile: a trial without an objective value",
                why="Katib's pbt takes quantiles of the objective values of the generation", fix="make every trial report the objective metric")
        lo, hi = np.quantile(np.asarray(values, dtype=float), (self.truncation_threshold, 1 - self.truncation_threshold))
        exploit, explore, upper = [], [], []
        for j in jobs:
            if j.metric_value < lo:  # type: ignore[operator]
                exploit.append(j.uid)
            else:
                explore.append(j.uid)
                if j.metric_value >= hi:  # type: ignore[operator]
                    upper.append(j.uid)
        exploit = list(self.rng.permutation(exploit))[: int(count * self.truncation_threshold)]
        explore = list(self.rng.permutation(explore))[: count - len(exploit)]
        return [int(u) for u in exploit], [int(u) for u in explore], upper

    def _generate(self, min_count: int) -> None:
        if len(self.pool["current"]) <= self.population_size:
            if not self.pool["previous"]:
                self._seed(min_count)
                return
            exploit, explore, upper = self._segment("previous", min_count)
        else:
            exploit, explore, upper = self._segment("current", self.population_size)
            self.pool["previous"], self.pool["current"] = self.pool["current"], []
        if exploit and not upper:
            raise SuggestionServiceFailure("a cannot be empty unless no samples are taken",
                                           why="Katib's pbt draws the trials to copy from an empty top quantile",
                                           fix="lower truncation_threshold")
        replacements = [upper[int(i)] for i in self.rng.integers(len(upper), size=len(exploit))] if exploit else []
        for uid, top in zip(exploit, replacements):
            job = self.completed[uid]
            # Katib: the child continues from the bottom job's checkpoint; corrected: from the top one's.
            if self.corrected:
                source = self.completed[top]
                self._append(dict(source.params), source.generation + 1, top)
            else:
                self._append(dict(self.completed[top].params), job.generation + 1, job.uid)
        assert self.samplers is not None
        for uid in explore:
            job = self.completed[uid]
            params = {s.parameter.name: s.perturb(job.params[s.parameter.name], self.rng) for s in self.samplers}
            self._append(params, job.generation + 1, job.uid)

    # -- GetSuggestions ----------------------------------------------------------------------------------
    def suggest(self, trials: Sequence[Trial], count: int) -> list[dict[str, Value]]:
        if self.samplers is None:
            self.samplers = [build_sampler(p, self.corrected) for p in self.space]
            self._seed(self.population_size)
        for t in trials:
            self._update(t)
        if len(self.pending) < count:
            self._generate(count)
        if len(self.pending) < count:
            raise SuggestionServiceFailure("Pending queue is empty!",
                                           why="Katib's pbt could not fill the request from its queue "
                                               f"({len(self.pending)} pending for {count} requested)",
                                           fix="raise n_population or lower parallelTrialCount")
        out, labels = [], []
        for _ in range(count):
            uid = self.pending.popleft()
            job = self.jobs[uid]
            self.running[uid] = job
            self._handed.append(uid)
            out.append(dict(job.params))
            lab = {GENERATION_LABEL: str(job.generation)}
            if job.parent is not None:
                parent = self.jobs[job.parent]
                lab[PARENT_LABEL] = parent.trial or f"job-{parent.uid}"
            labels.append(lab)
        self.last_labels = labels
        return out


@hookimpl
def katibsim_register_algorithms(register):
    register(Pbt)
