"""The report's view of one run: its trials in order, with values and simulated times, and its Katib status.

Reports and assertions read runs only through :class:`RunData`, so they do not depend on the
engine's result layout; :func:`katibsim.runner.run_data` is the one adapter from the engine's
``RunResult.to_dict()``, and tests build ``RunData`` by hand.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

from katibsim.report import stats

__all__ = ["RunData", "TrialRecord"]


@dataclass(frozen=True)
class TrialRecord:
    """One trial: ``number`` is its 1-based creation order; ``value`` the objective metric under the
    experiment's strategy (None for failed / unavailable / still running); times are simulated seconds."""

    number: int
    name: str
    assignment: Mapping[str, Any]
    value: float | None
    condition: str = "Succeeded"
    start: float | None = None
    end: float | None = None
    true_value: float | None = None  # the objective's noise-free value at this assignment, when known
    # Why it ended as it did (the reason and message of its last condition, as Katib writes them),
    # and, from real backends only, the last lines the process printed and the file holding all of it.
    reason: str = ""
    message: str = ""
    output_tail: tuple[str, ...] = ()
    output_path: str | None = None


@dataclass(frozen=True)
class RunData:
    """One run (variant × seed) reduced to what reports and assertions need."""

    variant: str
    seed_index: int
    seed: int
    maximize: bool
    trials: tuple[TrialRecord, ...]
    parallel_trial_count: int = 1
    max_trial_count: int | None = None
    goal: float | None = None
    optimum: float | None = None  # the objective's known optimum (noise-free), for regret
    optimal_trial: Mapping[str, Any] | None = None  # Katib's status.currentOptimalTrial
    duplicates: int = 0
    duplicate_examples: tuple[Mapping[str, Any], ...] = ()
    max_concurrent: int = 0
    time_to_goal: float | None = None
    end_time: float | None = None
    reason: str | None = None  # reason of the final Succeeded/Failed condition
    counts: Mapping[str, int] = field(default_factory=dict)  # Katib status counters
    out_of_space: int = 0
    extrapolated: int = 0  # trials suggested outside the region an objective's data covers (from-trials)

    # -- orderings ---------------------------------------------------------------------------
    def completed(self) -> list[TrialRecord]:
        """Trials that ended, in the order their results became known (end time, then number)."""
        done = [t for t in self.trials if t.end is not None]
        return sorted(done, key=lambda t: (t.end, t.number))

    def loss(self, value: float | None) -> float:
        """``value`` as a loss (lower is better); ``nan`` for no value."""
        if value is None or not math.isfinite(value):
            return math.nan
        return -value if self.maximize else value

    # -- curves ------------------------------------------------------------------------------
    def best_by_trial(self) -> list[float]:
        """Best objective value known after the 1st, 2nd, ... completed trial (``nan`` before any value)."""
        return stats.best_so_far([t.value for t in self.completed()], maximize=self.maximize)

    def best_by_time(self) -> tuple[list[float], list[float]]:
        """(end times, best-so-far) of the completed trials: a step function of simulated time."""
        done = self.completed()
        return [float(t.end) for t in done], stats.best_so_far([t.value for t in done], maximize=self.maximize)

    # -- scalars -----------------------------------------------------------------------------
    @property
    def final_best(self) -> float:
        curve = self.best_by_trial()
        return curve[-1] if curve else math.nan

    def best_trial(self) -> TrialRecord | None:
        """The first completed trial holding the final best value."""
        best = self.final_best
        if math.isnan(best):
            return None
        for t in self.completed():
            if t.value is not None and t.value == best:
                return t
        return None

    def final_regret(self) -> float:
        """Simple regret of the run's answer: the noise-free value at the best observed trial (what
        the run would recommend) against the optimum. With a noisy objective an observed value can
        lie beyond the optimum; the noise-free value cannot. Falls back to the observed value."""
        bt = self.best_trial()
        if bt is None:
            return math.nan
        return self.regret(bt.true_value if bt.true_value is not None else float(bt.value))

    def regret(self, value: float) -> float:
        """Simple regret of ``value`` against the known optimum (``nan`` when unknown)."""
        if self.optimum is None or math.isnan(value):
            return math.nan
        return max(0.0, (self.optimum - value) if self.maximize else (value - self.optimum))

    def reached(self, value: float | None, target: float) -> bool:
        return value is not None and math.isfinite(value) and (value >= target if self.maximize else value <= target)

    def first_reaching(self, target: float) -> TrialRecord | None:
        """The first completed trial (in completion order) whose value reaches ``target``."""
        for t in self.completed():
            if self.reached(t.value, target):
                return t
        return None

    def trials_to(self, target: float) -> float:
        """Number of completed trials when ``target`` was first reached (``inf`` if never)."""
        for i, t in enumerate(self.completed(), start=1):
            if self.reached(t.value, target):
                return float(i)
        return math.inf

    def time_to(self, target: float) -> float:
        """Simulated time when ``target`` was first reached (``inf`` if never)."""
        t = self.first_reaching(target)
        return float(t.end) if t is not None and t.end is not None else math.inf

    def trials_to_converge(self, tolerance: float) -> float:
        """Completed trials until the best-so-far came within ``tolerance`` of this run's final best."""
        curve = self.best_by_trial()
        final = self.final_best
        if math.isnan(final):
            return math.inf
        for i, b in enumerate(curve, start=1):
            if not math.isnan(b) and abs(final - b) <= tolerance:
                return float(i)
        return math.inf

    def max_running(self) -> int:
        """Most trials running at one simulated instant, recomputed from start/end times.

        A trial ending at t and another starting at t do not overlap (the slot is reused).
        """
        events: list[tuple[float, int]] = []
        for t in self.trials:
            if t.start is None:
                continue
            events.append((float(t.start), 1))
            events.append((float(t.end) if t.end is not None else math.inf, -1))
        events.sort(key=lambda e: (e[0], e[1]))
        running = peak = 0
        for _, step in events:
            running += step
            peak = max(peak, running)
        return peak

    def duplicate_count(self) -> int:
        """Trials whose assignment repeats an earlier trial's (recomputed from the assignments)."""
        seen: set[tuple] = set()
        dup = 0
        for t in sorted(self.trials, key=lambda t: t.number):
            key = tuple(sorted((k, _canon(v)) for k, v in t.assignment.items()))
            if key in seen:
                dup += 1
            seen.add(key)
        return dup


def _canon(v: Any) -> Any:
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v
