"""Per-variant views of where the trials went, as data: one run's history, every trial's parameters
against the objective (slice and parallel coordinates) and the parameters' importances.

The figures (:mod:`katibsim.report.png_views`) and the tables (:mod:`katibsim.report.view_sections`)
draw these numbers; nothing here renders. Importances are permutation importances of a random
forest fitted to the trials (scikit-learn's ``RandomForestRegressor`` and
``sklearn.inspection.permutation_importance``; ``docs/reports.md#where-the-trials-went``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from katibsim.report.rundata import RunData

__all__ = [
    "HistoryView",
    "Importance",
    "ParameterAxis",
    "RunViews",
    "TrialCloud",
    "build_views",
    "history_view",
    "importance",
    "trial_cloud",
]

IMPORTANCE_METHOD = (
    "permutation importance (scikit-learn permutation_importance, 10 repeats) of a random forest "
    "(RandomForestRegressor, 64 trees) fitted to every completed trial of the variant: the drop in R² "
    "when one parameter's values are shuffled"
)
MIN_IMPORTANCE_TRIALS = 8  # fewer points than this give a forest nothing to split on
MAX_IMPORTANCE_TRIALS = 2000  # a deterministic subsample above this (the ranking, not the fit, is the point)


@dataclass(frozen=True)
class HistoryView:
    """One run's optimisation history (Optuna's ``plot_optimization_history``): every completed
    trial's value in the order results arrived (``nan`` for a trial without one) and the best so far."""

    variant: str
    seed_index: int
    seed: int
    numbers: tuple[int, ...]  # 1-based position in completion order
    names: tuple[str, ...]
    values: tuple[float, ...]
    best: tuple[float, ...]
    chosen: str  # why this run


@dataclass(frozen=True)
class ParameterAxis:
    """One parameter's value in each trial of a :class:`TrialCloud`: numbers for a numeric
    parameter, else category codes into ``categories`` (in order of first appearance)."""

    name: str
    numeric: bool
    values: tuple[float, ...]
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class TrialCloud:
    """Every completed trial with a value, over every seed of one variant."""

    variant: str
    parameters: tuple[ParameterAxis, ...]
    objective: tuple[float, ...]
    seed_index: tuple[int, ...]
    order: tuple[int, ...]  # position in its run's completion order (1-based)


@dataclass(frozen=True)
class Importance:
    """Parameters ranked by importance (most important first)."""

    variant: str
    parameters: tuple[str, ...]
    mean: tuple[float, ...]
    std: tuple[float, ...]
    trials: int
    method: str = IMPORTANCE_METHOD
    note: str = ""


@dataclass(frozen=True)
class RunViews:
    history: tuple[HistoryView, ...]
    clouds: tuple[TrialCloud, ...]
    importances: tuple[Importance, ...]


def _median_run(rs: Sequence[RunData]) -> RunData:
    """The run whose final best is the (lower) median of its variant's: a typical run, not the luckiest."""
    keyed = sorted(rs, key=lambda r: (math.inf if math.isnan(r.loss(r.final_best)) else r.loss(r.final_best), r.seed_index))
    return keyed[(len(keyed) - 1) // 2]


def history_view(rs: Sequence[RunData]) -> HistoryView | None:
    """The optimisation history of the median run of ``rs`` (None without runs)."""
    if not rs:
        return None
    r = _median_run(rs)
    done = r.completed()
    values = tuple(float(t.value) if t.value is not None and math.isfinite(t.value) else math.nan for t in done)
    why = "the median run by final best" if len(rs) > 1 else "the only run"
    return HistoryView(
        r.variant, r.seed_index, r.seed, tuple(range(1, len(done) + 1)), tuple(t.name for t in done), values,
        tuple(float(b) for b in r.best_by_trial()), why,
    )


def _as_number(x: Any) -> float | None:
    if isinstance(x, bool):
        return None
    if isinstance(x, (int, float)):
        return float(x)
    try:
        return float(str(x))
    except ValueError:
        return None


def trial_cloud(variant: str, rs: Sequence[RunData]) -> TrialCloud:
    """Every completed trial of ``rs`` that has a value, with its parameters as axes."""
    rows: list[tuple[Mapping[str, Any], float, int, int]] = []
    for r in sorted(rs, key=lambda r: r.seed_index):
        for i, t in enumerate(r.completed(), start=1):
            if t.value is not None and math.isfinite(t.value):
                rows.append((t.assignment, float(t.value), r.seed_index, i))
    names: list[str] = []
    for a, *_ in rows:
        for k in a:
            if k not in names:
                names.append(k)
    axes = []
    for name in names:
        raw = [a.get(name) for a, *_ in rows]
        nums = [_as_number(x) for x in raw]
        if all(n is not None for n in nums):
            axes.append(ParameterAxis(name, True, tuple(float(n) for n in nums)))  # type: ignore[arg-type]
        else:
            cats: list[str] = []
            for x in raw:
                if str(x) not in cats:
                    cats.append(str(x))
            axes.append(ParameterAxis(name, False, tuple(float(cats.index(str(x))) for x in raw), tuple(cats)))
    return TrialCloud(
        variant, tuple(axes), tuple(v for _, v, _, _ in rows), tuple(s for _, _, s, _ in rows), tuple(o for *_, o in rows)
    )


def importance(cloud: TrialCloud, *, seed: int = 0) -> Importance:
    """Permutation importance of each parameter for the objective over ``cloud``'s trials.

    Categorical parameters enter as their category codes (a forest splits codes as well as
    one-hot columns, and one column per parameter keeps one importance per parameter).
    """
    names = tuple(p.name for p in cloud.parameters)
    n = len(cloud.objective)
    if not names:
        return Importance(cloud.variant, (), (), (), n, note="the experiment has no parameters")
    if n < MIN_IMPORTANCE_TRIALS:
        return Importance(cloud.variant, names, (math.nan,) * len(names), (math.nan,) * len(names), n,
                          note=f"only {n} completed trial{'s' if n != 1 else ''} with a value (needs {MIN_IMPORTANCE_TRIALS})")
    X = np.column_stack([np.asarray(p.values, dtype=float) for p in cloud.parameters])
    y = np.asarray(cloud.objective, dtype=float)
    if float(np.ptp(y)) == 0.0:
        return Importance(cloud.variant, names, (0.0,) * len(names), (0.0,) * len(names), n,
                          note="every trial has the same value: nothing to explain")
    if n > MAX_IMPORTANCE_TRIALS:
        idx = np.random.default_rng(seed).choice(n, MAX_IMPORTANCE_TRIALS, replace=False)
        X, y = X[idx], y[idx]
    try:
        from sklearn.ensemble import RandomForestRegressor
        from sklearn.inspection import permutation_importance
    except ImportError:
        return Importance(cloud.variant, names, (math.nan,) * len(names), (math.nan,) * len(names), n,
                          note="scikit-learn is not installed (pip install 'katibsim[report]')")

    forest = RandomForestRegressor(n_estimators=64, min_samples_leaf=2, random_state=seed, n_jobs=1).fit(X, y)
    res = permutation_importance(forest, X, y, n_repeats=10, random_state=seed, n_jobs=1)
    order = sorted(range(len(names)), key=lambda i: (-float(res.importances_mean[i]), names[i]))
    return Importance(
        cloud.variant,
        tuple(names[i] for i in order),
        tuple(float(res.importances_mean[i]) for i in order),
        tuple(float(res.importances_std[i]) for i in order),
        n,
    )


def build_views(runs: Mapping[str, Sequence[RunData]], *, importances: bool = True) -> RunViews:
    """The views of every variant of ``runs`` (in its order)."""
    hist = tuple(h for h in (history_view(rs) for rs in runs.values()) if h is not None)
    clouds = tuple(trial_cloud(v, rs) for v, rs in runs.items() if rs)
    imps = tuple(importance(c) for c in clouds) if importances else ()
    return RunViews(hist, clouds, imps)
