"""``medianstop``: Katib's median-stopping early-stopping service (``docs/katib-behaviour.md`` §5.10, §6.5).

Settings (strings, as in Katib): ``min_trials_required`` (an int > 0, default 3) and
``start_step`` (an int >= 1, default 4). For every Succeeded trial not seen before, the service
takes the mean of its first ``start_step`` objective reports; once at least
``min_trials_required`` trials are stored, the threshold is the **mean** of those means (Katib's
name says median, its code computes a mean, and katibsim follows the code). The one rule is
``<objective> less <threshold>`` when maximizing (``greater`` when minimizing), checked by the
collector at the ``start_step``-th report against the best value so far.
"""

from __future__ import annotations

from typing import ClassVar, Mapping, Sequence

from katibsim.algorithm import ObjectiveInfo, SettingSpec, Trial, TrialCondition
from katibsim.early_stopping import Comparison, EarlyStopping, EarlyStoppingSettingsError, Rule
from katibsim.hookspecs import hookimpl


class MedianStop(EarlyStopping):
    name: ClassVar[str] = "medianstop"
    description: ClassVar[str] = (
        "Stops a trial whose best objective value at start_step is worse than the mean of the "
        "completed trials' early reports (Katib's medianstop)."
    )
    settings_spec: ClassVar[tuple[SettingSpec, ...]] = (
        SettingSpec("min_trials_required", "3", "succeeded trials needed before any rule is given (int > 0)"),
        SettingSpec("start_step", "4", "the report at which a running trial is compared (int >= 1)"),
    )

    def __init__(self, objective: ObjectiveInfo, settings: Mapping[str, str] | None = None) -> None:
        super().__init__(objective, settings)
        # Katib validates in the order the settings are given and stops at the first problem.
        for key, raw in self.settings.items():
            try:
                value = int(raw)
            except ValueError as exc:
                raise EarlyStoppingSettingsError(f"failed to validate {key}({raw}): {exc}", setting=key) from None
            if key == "min_trials_required" and not value > 0:
                raise EarlyStoppingSettingsError("min_trials_required must be greater than zero (>0)", setting=key)
            if key == "start_step" and not value >= 1:
                raise EarlyStoppingSettingsError("start_step must be greater or equal than one (>=1)", setting=key)
        self.min_trials_required = int(self.setting("min_trials_required") or 3)
        self.start_step = int(self.setting("start_step") or 4)
        self.comparison = Comparison.LESS if objective.maximize else Comparison.GREATER
        # Like Katib's service: a trial's mean is computed once, the first time it is seen Succeeded.
        self._means: dict[str, float] = {}

    def rules(self, trials: Sequence[Trial]) -> list[Rule]:
        for t in trials:
            if t.condition != TrialCondition.SUCCEEDED or t.name in self._means:
                continue
            first = [v for _, v in t.intermediate[: self.start_step]]
            if not first and t.value is not None:
                first = [t.value]  # a trial that reported only its final value
            if not first:
                continue  # Katib would divide by zero here; a trial without logs cannot be averaged
            mean = sum(first) / len(first)
            self._means[t.name] = mean
        if len(self._means) < self.min_trials_required:
            return []
        # Summed afresh in insertion order, as Katib does, so the threshold string matches bit for bit.
        threshold = sum(self._means.values()) / len(self._means)
        return [Rule(metric=self.objective.metric_name, value=threshold, comparison=self.comparison,
                     start_step=self.start_step)]


@hookimpl
def katibsim_register_early_stopping(register):
    register(MedianStop)
