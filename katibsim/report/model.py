"""The comparison report as plain data: curves, distributions, ranks, scores, verdicts, provenance.

Built once from the runs (:mod:`katibsim.report.build`) and rendered many times (Markdown, HTML,
PNG, JUnit), so tests check numbers, not pixels (Optuna's ``_get_*_info`` split,
``docs/reports.md#report-as-data``). Everything here is frozen and JSON-serialisable via
:meth:`ReportModel.to_dict`; non-finite floats are written as the strings "inf", "-inf", "nan".
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, is_dataclass
from typing import Any, Mapping

__all__ = [
    "Curve",
    "Distribution",
    "DuplicateRow",
    "ExplorationView",
    "FailedTrial",
    "FailureTable",
    "Introspection",
    "IntrospectionStep",
    "NormalizedScores",
    "OptimalTrial",
    "OptimalTrials",
    "Provenance",
    "RankTable",
    "ReportModel",
    "SweepPoint",
    "plain",
]


def plain(x: Any) -> Any:
    """A JSON-safe deep copy (dataclasses to dicts, tuples to lists, non-finite floats to strings)."""
    if is_dataclass(x) and not isinstance(x, type):
        return {k: plain(v) for k, v in asdict(x).items()}
    if isinstance(x, float):
        if math.isnan(x):
            return "nan"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return x
    if isinstance(x, Mapping):
        return {str(k): plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [plain(v) for v in x]
    if hasattr(x, "item") and callable(x.item):  # numpy scalars
        return plain(x.item())
    if hasattr(x, "to_dict") and callable(x.to_dict):
        return plain(x.to_dict())
    return x


@dataclass(frozen=True)
class Curve:
    """Best-so-far of one variant against ``x`` (trial number or simulated seconds): median and IQR over seeds."""

    variant: str
    x: tuple[float, ...]
    median: tuple[float, ...]
    q25: tuple[float, ...]
    q75: tuple[float, ...]
    runs: int


@dataclass(frozen=True)
class Distribution:
    """Per-seed values of one metric for one variant, with their summary."""

    variant: str
    metric: str
    values: tuple[float, ...]
    summary: Mapping[str, float]


@dataclass(frozen=True)
class RankTable:
    """Ranks of the variants within each seed on the final best (1 = best; ties share), and the average."""

    variants: tuple[str, ...]
    seed_indices: tuple[int, ...]
    ranks: tuple[tuple[float, ...], ...]
    average: tuple[float, ...]


@dataclass(frozen=True)
class NormalizedScores:
    """Bayesmark's normalised mean score per variant (``docs/reports.md#bayesmark-score``).

    ``score``: norm-mean-perf at the final budget (0 = best value any variant found, 1 = the median
    single random evaluation); ``normed``: score / the random variant's own score (random = 1);
    ``leaderboard``: 100 × (1 − score). ``by_trial``: norm-mean-perf after each trial.
    """

    baseline: str | None
    opt: float | None
    clip: float | None
    score: Mapping[str, float] = field(default_factory=dict)
    normed: Mapping[str, float] = field(default_factory=dict)
    leaderboard: Mapping[str, float] = field(default_factory=dict)
    by_trial: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True)
class SweepPoint:
    value: Any
    variant: str
    regret: Mapping[str, float]  # summary of final regret (or final best, see ExplorationView.quality)
    trials_to: Mapping[str, float]  # summary of trials-to-target (or trials-to-converge without a target)
    converge: Mapping[str, float]  # summary of trials-to-converge
    reached: int  # runs that reached the target (or converged, without a target)
    runs: int
    time_to: Mapping[str, float] = field(default_factory=dict)  # summary of simulated seconds to the target
    end_time: Mapping[str, float] = field(default_factory=dict)  # summary of simulated seconds to the experiment's end


@dataclass(frozen=True)
class ExplorationView:
    """What a swept setting buys and costs: final quality, how often the target is reached, and how
    fast the runs converge, against the swept value."""

    group: str
    key: str
    quality: str  # "final-regret" or "final-best"
    speed: str  # "trials-to-target" or "trials-to-converge"
    points: tuple[SweepPoint, ...]
    numeric: bool


@dataclass(frozen=True)
class OptimalTrial:
    """One run's ``currentOptimalTrial`` as Katib shows it."""

    seed_index: int
    seed: int
    best_trial_name: str | None
    parameter_assignments: tuple[Mapping[str, str], ...]
    metrics: tuple[Mapping[str, Any], ...]
    value: float


@dataclass(frozen=True)
class OptimalTrials:
    variant: str
    trials: tuple[OptimalTrial, ...]
    spread: Mapping[str, Mapping[str, float]]  # parameter -> min/median/max over seeds (numeric ones)
    value: Mapping[str, float]  # summary of the optimal value over seeds


@dataclass(frozen=True)
class IntrospectionStep:
    """One step of the 1-D picture: what the model believed after ``observed`` trials and where it went next."""

    observed: int
    xs: tuple[float, ...]
    ys: tuple[float, ...]
    grid: tuple[float, ...]
    truth: tuple[float, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    acquisition: tuple[float, ...]
    next_x: float | None
    acquisition_name: str = ""


@dataclass(frozen=True)
class Introspection:
    variant: str
    seed_index: int
    parameter: str
    steps: tuple[IntrospectionStep, ...]
    note: str = ""


@dataclass(frozen=True)
class DuplicateRow:
    variant: str
    per_seed: tuple[int, ...]
    total: int
    examples: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True)
class FailedTrial:
    """One trial that did not end well: its run, its condition with Katib's reason and message, and
    the last lines it printed (real backends only; capped, ``omitted_lines`` says how many of the
    kept tail were left out; ``output_path`` holds all of it)."""

    seed_index: int
    seed: int
    trial: str
    condition: str
    reason: str
    message: str
    output_tail: tuple[str, ...] = ()
    omitted_lines: int = 0
    output_path: str | None = None


@dataclass(frozen=True)
class FailureTable:
    """The failed trials of one variant over its runs: ``counts`` by condition, ``total`` trials,
    the first ``trials`` shown (spread over the seeds) and ``omitted`` = those not shown."""

    variant: str
    runs: int
    total: int
    counts: Mapping[str, int]
    trials: tuple[FailedTrial, ...]
    omitted: int = 0


@dataclass(frozen=True)
class KatibServiceFailure:
    """One distinct Katib suggestion service failure of one variant: the service's ``message``,
    ``why`` and ``fix``, and in how many of the variant's ``runs`` it happened."""

    variant: str
    message: str
    why: str
    fix: str
    runs: int


@dataclass(frozen=True)
class Provenance:
    katibsim: str
    python: str
    packages: Mapping[str, str]
    plugins: Mapping[str, str]
    scenario_file: str | None
    scenario_hash: str
    experiment_file: str | None
    objective: str
    master_seed: int
    seeds: tuple[int, ...]
    command: str = ""


@dataclass(frozen=True)
class ReportModel:
    scenario: str
    description: str
    objective: str
    metric_name: str
    maximize: bool
    optimum: float | None
    target: float | None
    target_text: str
    variants: tuple[str, ...]
    variant_info: Mapping[str, Mapping[str, Any]]
    curves_by_trial: tuple[Curve, ...]
    curves_by_time: tuple[Curve, ...]
    final_best: tuple[Distribution, ...]
    metrics: Mapping[str, Mapping[str, tuple[float, ...]]]  # variant -> metric -> per-seed values
    ranks: RankTable
    normalized: NormalizedScores
    exploration: tuple[ExplorationView, ...]
    optimal: tuple[OptimalTrials, ...]
    introspection: Introspection | None
    assertions: tuple[Any, ...]  # katibsim.assertions.AssertionResult
    duplicates: tuple[DuplicateRow, ...]
    provenance: Provenance
    warnings: tuple[str, ...] = ()
    # Curves on a log regret axis: the optimum is known and no observed value lies beyond it
    # (observation noise can push one past it; then the values themselves are drawn).
    regret_axis: bool = False
    failures: tuple[FailureTable, ...] = ()  # one per variant (see katibsim.report.failures)
    # Variants whose runs hit a failure of Katib's own suggestion service (shown first).
    katib_failures: tuple[KatibServiceFailure, ...] = ()
    # Where the objective does not fit the experiment (a goal only noise reaches, an intended
    # mismatch): shown at the top, after the Katib failures.
    objective_remarks: tuple[str, ...] = ()
    regret_note: str = ""  # what final regret is measured on, and why a best value can beat the optimum
    views: Any = None  # katibsim.report.views.RunViews: history, slice/parallel data, importances

    @property
    def passed(self) -> bool:
        return all(a.passed for a in self.assertions)

    def to_dict(self, *, include_command: bool = False) -> dict[str, Any]:
        """The model as JSON data (``summary.json``). The command line is left out by default so a
        resumed comparison writes the same bytes as an uninterrupted one."""
        d = plain(self)
        d["passed"] = self.passed
        d["seeds"] = list(self.provenance.seeds)
        if not include_command:
            d["provenance"].pop("command", None)
        if isinstance(d.get("views"), dict):
            # every trial of every run is already in runs/<variant>/seed-<i>.json; the history
            # and the importances stay (they are what the report concluded)
            d["views"].pop("clouds", None)
        return d
