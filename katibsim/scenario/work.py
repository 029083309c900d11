"""How much work a comparison is, estimated before anything runs, and the limit on it.

The work of a scenario is the number of trials it may create: for every variant, the seeds times
the trials one run may create (``maxTrialCount``, or the simulation's ``unbounded_trial_limit``
when the experiment has none). Above :data:`DEFAULT_MAX_WORK` ``katibsim compare`` and
``katibsim simulate`` refuse to start and name the field that made the work big, so a typo
(``seeds.count: 1000000000``) costs a second, not an hour and the machine's memory
(``docs/scenarios.md``, "Limits").
"""

from __future__ import annotations

from dataclasses import dataclass

from katibsim.engine.options import SimulationOptions
from katibsim.errors import FieldError
from katibsim.scenario.model import Scenario

__all__ = ["DEFAULT_MAX_WORK", "UNBOUNDED_TRIAL_LIMIT", "Work", "estimate", "refusal", "single_run"]

#: Trials a comparison (over every scenario given) or a simulation may create without
#: ``--max-work N`` or ``--no-limit``: about ten minutes of simple runs on one core.
DEFAULT_MAX_WORK = 1_000_000
#: The simulation's own stop for an experiment without maxTrialCount.
UNBOUNDED_TRIAL_LIMIT = SimulationOptions().unbounded_trial_limit


@dataclass(frozen=True)
class Work:
    """An estimate: ``runs`` (variant × seed), ``trials`` (at most), and the field that weighs most
    with its value (``seeds.count``, ``budget.maxTrialCount``, ``variants[0].sweep.kappa``)."""

    runs: int
    trials: int
    field: str
    value: int
    where: str | None = None  # the file that holds ``field``

    def describe(self) -> str:
        return f"{self.runs:,} run(s), up to {self.trials:,} trials"


def _trials_per_run(scenario: Scenario, value: int | None) -> int:
    if value is not None:
        return value
    limit = scenario.simulation.get("unbounded_trial_limit") if isinstance(scenario.simulation, dict) else None
    return limit if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0 else UNBOUNDED_TRIAL_LIMIT


def estimate(scenario: Scenario, *, seeds_field: str = "seeds.count") -> Work:
    """The work of ``scenario``; ``seeds_field`` names where the seed count came from (``--seeds``)."""
    seeds = scenario.seeds.count
    trials = 0
    biggest_run, biggest_field, biggest_where = 0, "", None
    for v in scenario.variants:
        value, field = scenario.max_trial_count(v)
        per_run = _trials_per_run(scenario, value)
        trials += per_run * seeds
        if per_run > biggest_run:
            where = scenario.experiment_file if field.startswith("spec.") else scenario.file
            if value is None:
                field = "simulation.unbounded_trial_limit (the experiment has no maxTrialCount)"
                where = scenario.file
            biggest_run, biggest_field, biggest_where = per_run, field, where
    runs = len(scenario.variants) * seeds
    # Which factor weighs most: the seeds, the number of variants (a sweep), or one run's trials.
    sweep = max(scenario.sweeps, key=lambda s: len(s.variants), default=None)
    candidates = [(seeds, seeds_field, scenario.file if seeds_field.startswith("seeds") else None),
                  (biggest_run, biggest_field, biggest_where)]
    if sweep is not None:
        first = scenario.variant(sweep.variants[0]) if sweep.variants else None
        path = f"{first.path}.sweep.{sweep.key}" if first is not None else "variants"
        candidates.append((len(sweep.variants), path, scenario.file))
    else:
        candidates.append((len(scenario.variants), "variants", scenario.file))
    value, field, where = max(candidates, key=lambda c: c[0])
    return Work(runs=runs, trials=trials, field=field, value=value, where=where)


def single_run(max_trial_count: int | None, *, unbounded_limit: int, file: str | None) -> Work:
    """The work of one simulation of an experiment (``katibsim simulate``)."""
    if max_trial_count is None:
        return Work(1, unbounded_limit, "unbounded_trial_limit (the experiment has no spec.maxTrialCount)", unbounded_limit, file)
    return Work(1, max_trial_count, "spec.maxTrialCount", max_trial_count, file)


def refusal(works: list[Work], limit: int, *, option: str = "--max-work") -> FieldError | None:
    """The error refusing ``works`` at the field that weighs most (None when within ``limit``)."""
    total = sum(w.trials for w in works)
    if total <= limit:
        return None
    runs = sum(w.runs for w in works)
    worst = max(works, key=lambda w: w.trials)
    return FieldError(
        worst.field,
        f"makes this {runs:,} run(s) of up to {total:,} trials in all, more than the limit of {limit:,} "
        f"trials; lower it, or raise the limit with {option} N (or --no-limit) if you mean it",
        worst.where,
        worst.value,
    )
