"""The early-stopping contract, mirroring Katib's EarlyStopping service and its metrics collector.

Katib splits early stopping in two (``docs/katib-behaviour.md`` §4.2, §5.10, §6.5):

* the **service** (``GetEarlyStoppingRules``) turns the history into rules such as
  ``accuracy less 0.71 from step 4``; the controller attaches the rules of each suggestion batch
  to every trial of that batch. A plugin subclasses :class:`EarlyStopping` and implements
  :meth:`EarlyStopping.rules`; its settings are validated in ``__init__`` with Katib's messages
  (``ValidateEarlyStoppingSettings``).
* the **collector** inside the trial's pod watches the trial's metric reports and stops the
  training once every rule is satisfied, then calls ``SetTrialStatus``, which appends the
  ``EarlyStopped`` condition. :func:`collector_stop_index` is that watch as a pure function, so
  every backend (simulated, local, kind) applies the rules the same way.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, Mapping, Sequence

from katibsim.algorithm import ObjectiveInfo, SettingSpec, objective_info, setting_value
from katibsim.trial import Trial
from katibsim.errors import FieldError, SpecError


class Comparison(StrEnum):
    """``EarlyStoppingRule.comparison`` (the proto's EQUAL / LESS / GREATER, lower-case in the CR)."""

    EQUAL = "equal"
    LESS = "less"
    GREATER = "greater"


@dataclass(frozen=True)
class Rule:
    """One early-stopping rule: stop when ``metric`` <comparison> ``value``, checked at ``start_step``.

    ``start_step`` 0 means "checked on every report"; n > 0 means "checked once, at the n-th
    report of that metric" (the collector's countdown, §6.5).
    """

    metric: str
    value: float
    comparison: Comparison
    start_step: int = 0

    def satisfied_by(self, x: float) -> bool:
        if self.comparison == Comparison.EQUAL:
            return x == self.value
        if self.comparison == Comparison.LESS:
            return x < self.value
        return x > self.value

    def to_katib(self) -> dict[str, Any]:
        """The rule as a Trial's ``spec.earlyStoppingRules[]`` entry (the value is a string)."""
        d: dict[str, Any] = {"comparison": self.comparison.value, "name": self.metric, "value": str(self.value)}
        if self.start_step:
            d["startStep"] = self.start_step
        return d

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "value": self.value, "comparison": self.comparison.value,
                "start_step": self.start_step}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Rule":
        return cls(metric=d["metric"], value=float(d["value"]), comparison=Comparison(d["comparison"]),
                   start_step=int(d.get("start_step", 0)))


class EarlyStoppingSettingsError(SpecError):
    """Invalid early-stopping settings, reported at ``spec.earlyStopping.algorithmSettings``."""

    def __init__(self, message: str, *, setting: str | None = None, file: str | None = None):
        self.setting = setting
        self.message = message
        super().__init__([FieldError(path="spec.earlyStopping.algorithmSettings", message=message, file=file,
                                     value=setting)])


class EarlyStopping(ABC):
    """Base class of every early-stopping algorithm (Katib's EarlyStopping gRPC service).

    Subclasses set ``name``, ``description`` and ``settings_spec``, validate their settings in
    ``__init__`` (after ``super().__init__``, which rejects unknown keys with Katib's message
    ``unknown setting <k> for algorithm <name>``), and implement :meth:`rules`.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    settings_spec: ClassVar[tuple[SettingSpec, ...]] = ()

    def __init__(self, objective: ObjectiveInfo, settings: Mapping[str, str] | None = None) -> None:
        self.objective = objective
        self.settings: dict[str, str] = {str(k): str(v) for k, v in (settings or {}).items()}
        known = {s.name for s in self.settings_spec}
        for key in self.settings:
            if key not in known:
                raise EarlyStoppingSettingsError(f"unknown setting {key} for algorithm {self.name}", setting=key)

    def setting(self, key: str) -> str | None:
        """The user's value for ``key``, else the declared default."""
        return setting_value(self.settings, self.settings_spec, key)

    @abstractmethod
    def rules(self, trials: Sequence[Trial]) -> list[Rule]:
        """``GetEarlyStoppingRules``: rules for the next batch of trials, given the history.

        ``trials`` is what Katib sends (every trial except MetricsUnavailable ones and early-stopped
        ones without an observation); a completed trial's ``intermediate`` holds its objective
        reports in order (what the service would read from Katib's DB). An empty list: no rule.
        """

    def set_trial_status(self, trial_name: str) -> None:
        """``SetTrialStatus``: called when a trial was stopped by its rules (the engine appends the
        ``EarlyStopped`` condition). A plugin may record it; the default does nothing."""


def collector_stop_index(
    rules: Sequence[Rule],
    reports: Sequence[tuple[str, float]],
    *,
    objective_metric: str,
    maximize: bool,
) -> int | None:
    """How many reports the collector reads before it stops the trial; None when it never does.

    ``reports`` is the trial's metric log in time order as (metric name, value). Katib's file
    collector (§6.5): for the objective metric the compared value is the best so far (max when
    maximizing, min when minimizing), for other metrics the reported value; a rule with a
    ``start_step`` n > 0 is checked only at the n-th report of its metric (a countdown that is never
    checked again), a rule without one on every report; a satisfied rule is removed, and the trial
    stops as soon as no rule is left. No rules: never stops.
    """
    if not rules:
        return None
    pending = list(rules)
    # The countdown is kept per metric name, as in Katib (one counter shared by same-metric rules).
    countdown: dict[str, int] = {r.metric: r.start_step for r in rules if r.start_step}
    best: float | None = None
    for i, (metric, raw) in enumerate(reports):
        if not any(r.metric == metric for r in pending):
            continue
        x = float(raw)
        if metric == objective_metric:
            if best is None or (x > best if maximize else x < best):
                best = x
            x = best
        # Katib decrements the countdown once per matching rule; with one rule per metric (every
        # built-in service) that is once per report.
        still: list[Rule] = []
        for r in pending:
            if r.metric != metric:
                still.append(r)
                continue
            if r.metric in countdown:
                countdown[r.metric] -= 1
                if countdown[r.metric] != 0:
                    still.append(r)
                    continue
            if not (math.isnan(x)) and r.satisfied_by(x):
                continue
            still.append(r)
        pending = still
        if not pending:
            return i + 1
    return None


__all__ = [
    "Comparison", "Rule", "EarlyStopping", "EarlyStoppingSettingsError", "collector_stop_index",
    "objective_info",  # re-exported from katibsim.algorithm (one rule for both contracts)
]
