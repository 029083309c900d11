"""Finished trials of a real workload, as one table: what an objective learned from them starts from.

A :class:`TrialTable` is what every reader (``katibsim.workload.readers``: Katib's Trial objects as
``kubectl get trials -o yaml`` prints them, an Experiment with its trials, katibsim's own result
files, a CSV or JSON table) produces: the objective metric and its direction, the search space
(declared by the Experiment when it was given, otherwise inferred from the values the trials
took, see :attr:`TrialTable.declared`), and one :class:`ObservedTrial` per trial.

The types are frozen: a table is read once and then only looked at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from katibsim.spec.space import SearchSpace

#: Trial conditions whose observation is a usable objective value (Katib's terminal conditions
#: with an observation: an early-stopped trial reports the value it had when it was stopped).
USABLE_STATUSES: frozenset[str] = frozenset({"Succeeded", "EarlyStopped"})


@dataclass(frozen=True)
class ObservedTrial:
    """One trial as it ran.

    ``parameters``: the assignments as Katib writes them (strings, by parameter name);
    ``status``: the trial's last true condition (Succeeded, Failed, EarlyStopped,
    MetricsUnavailable, Killed, Running, ...); ``value``: the objective metric per the
    Experiment's metric strategy (Katib's ``status.observation``), None without one; ``curve``:
    ``(step, value)`` reports of the objective metric when the source has them (katibsim's
    results, a table's per-step columns; Katib's Trial objects do not carry them); ``created``,
    ``started``, ``ended``: seconds after the first trial of the table was created (None when the
    source has no times); ``metrics``: other metrics by name (their latest value);
    ``reported_duration``: the trial's duration in seconds when the source states it (a table's
    ``duration`` column) rather than giving its times.
    """

    name: str
    parameters: Mapping[str, str]
    status: str
    value: float | None = None
    curve: tuple[tuple[float, float], ...] = ()
    created: float | None = None
    started: float | None = None
    ended: float | None = None
    metrics: Mapping[str, float] = field(default_factory=dict)
    reported_duration: float | None = None

    @property
    def usable(self) -> bool:
        """A finished trial whose objective value can be learned from."""
        return self.status in USABLE_STATUSES and self.value is not None

    @property
    def duration(self) -> float | None:
        """The stated duration, else seconds from start (or creation) to the end; None without either."""
        if self.reported_duration is not None:
            return self.reported_duration
        begin = self.started if self.started is not None else self.created
        if begin is None or self.ended is None:
            return None
        return max(0.0, self.ended - begin)


@dataclass(frozen=True)
class TrialTable:
    """The trials of one finished (or still running) experiment.

    ``source``: the file(s) read, for messages; ``experiment_name``: when known;
    ``metric_name`` and ``direction`` ("maximize" | "minimize", None when no source said);
    ``goal``: the Experiment's goal when known; ``space``: the search space, one parameter per
    assignment name; ``declared``: the names whose range comes from an Experiment's feasible space
    (the others are inferred from the values seen: the range of the values, a positive parameter
    spanning orders of magnitude on a log scale, strings as categorical); ``experiment``: the raw
    Experiment document when one was given (a mapping as read from YAML), for what-if comparisons
    that re-run it; ``algorithm_name``, ``parallel_trial_count``, ``max_trial_count``: how the
    real run was set up, when known.
    """

    source: str
    metric_name: str
    direction: str | None
    space: SearchSpace
    trials: tuple[ObservedTrial, ...]
    declared: frozenset[str] = frozenset()
    experiment_name: str | None = None
    goal: float | None = None
    experiment: Mapping[str, Any] | None = None
    algorithm_name: str | None = None
    algorithm_settings: Mapping[str, str] = field(default_factory=dict)
    parallel_trial_count: int | None = None
    max_trial_count: int | None = None

    @property
    def usable(self) -> tuple[ObservedTrial, ...]:
        """The trials an objective can be learned from (finished, with a value), in order."""
        return tuple(t for t in self.trials if t.usable)

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.space.parameters)
