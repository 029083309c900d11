"""Scenario assertions evaluated over finished runs: pure functions from (assertion, runs) to a verdict with numbers.

The five families of ``docs/reports.md#assertion-families``: invariants (deterministic, every
run), a target reached within a budget in k of m seeds, a paired test between two variants
(Wilcoxon signed-rank or a sign test, one-sided), a bound on a metric (per seed, k of m, or on an
aggregate), and a comparison with a stored baseline (no worse than, or equal to, within a
tolerance). Every verdict carries the statistic, the threshold and the per-seed values, so the
report can show why it passed or failed and the exit code follows the printed verdict.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from katibsim.report import stats
from katibsim.report.model import plain
from katibsim.report.metrics import METRICS, MetricContext, bayesmark_baselines, metric_value
from katibsim.report.rundata import RunData
from katibsim.scenario import (
    INVARIANT_CHECKS,
    Assertion,
    BaselineAssertion,
    InvariantAssertion,
    PairedAssertion,
    Scenario,
    Target,
    TargetAssertion,
    ThresholdAssertion,
)

__all__ = [
    "AssertionResult",
    "aggregate",
    "evaluate",
    "evaluate_all",
    "metric_context",
    "metric_values",
    "min_p_value",
    "seeds_needed",
    "undecidable",
]

Runs = Mapping[str, Sequence[RunData]]


@dataclass(frozen=True)
class AssertionResult:
    """The verdict of one assertion: ``statement`` is what was asserted, ``outcome`` what was
    measured, ``details`` the numbers (per-seed values, statistic, p-value, ...)."""

    name: str
    kind: str
    path: str
    passed: bool
    statement: str
    outcome: str
    details: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""
    # False when no outcome of the runs could make it pass with the seeds given (it then does not
    # pass, and the report says "cannot be decided" instead of FAIL; see :func:`undecidable`).
    decided: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "path": self.path,
            "passed": self.passed,
            "decided": self.decided,
            "statement": self.statement,
            "outcome": self.outcome,
            "description": self.description,
            "details": plain(self.details),
        }


def _fmt(x: float) -> str:
    if isinstance(x, float) and math.isinf(x):
        return "never" if x > 0 else "-inf"
    if isinstance(x, float) and math.isnan(x):
        return "n/a"
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e9:
        return str(int(x))
    return f"{x:.4g}"


def _fmt_in(x: float, unit: str) -> str:
    """``x`` in the report's units: simulated seconds as s / min / h (not ``1.611e+04``)."""
    if unit == "s" and isinstance(x, (int, float)) and math.isfinite(x):
        from katibsim.report.format import seconds

        return seconds(x)
    return _fmt(x)


def _bound_in(x: float, unit: str) -> str:
    return _fmt_in(float(x), unit) if unit == "s" else f"{x:g}"


def _maximize(runs: Runs) -> bool:
    for rs in runs.values():
        for r in rs:
            return r.maximize
    return False


def _optimum(runs: Runs) -> float | None:
    for rs in runs.values():
        for r in rs:
            return r.optimum
    return None


def metric_context(
    scenario: Scenario, runs: Runs, *, target: Target | None = None, tolerance: float | None = None
) -> MetricContext:
    """The context metrics are computed in: the (resolved) target, the convergence tolerance and
    Bayesmark's opt/clip from the scenario's random-search variant."""
    t = target if target is not None else scenario.target
    opt, clip = bayesmark_baselines(runs, scenario.report.baseline)
    return MetricContext(
        target=t.resolve(optimum=_optimum(runs), maximize=_maximize(runs)) if t is not None else None,
        tolerance=tolerance if tolerance is not None else scenario.tolerance,
        opt_loss=opt,
        clip_loss=clip,
    )


def metric_values(name: str, runs: Sequence[RunData], ctx: MetricContext) -> list[float]:
    """Metric ``name`` for each run, in seed order."""
    return [metric_value(name, r, ctx) for r in sorted(runs, key=lambda r: r.seed_index)]


def aggregate(values: Sequence[float], how: str) -> float:
    """median / mean / min / max / q25 / q75 of ``values`` (infinite values take part: a median of
    trials-to-target is "never" when most seeds never got there)."""
    a = np.asarray(values, dtype=float)
    if a.size == 0:
        return math.nan
    if how == "mean":
        return float(a.mean())
    if how == "min":
        return float(a.min())
    if how == "max":
        return float(a.max())
    q = {"median": 0.5, "q25": 0.25, "q75": 0.75}[how]
    # "lower"/"higher" around infinities would be arbitrary; inverted_cdf picks an actual value.
    if not np.all(np.isfinite(a)):
        return float(np.quantile(a, q, method="inverted_cdf"))
    return float(np.quantile(a, q))


# -- decidability ---------------------------------------------------------------------------
MAX_SEEDS_SEARCHED = 200


def min_p_value(test: str, n: int) -> float:
    """The smallest p-value the one-sided paired ``test`` can give on ``n`` pairs: every pair won,
    no ties, distinct differences (computed with the test itself: scipy's exact Wilcoxon
    distribution gives 1/2**n, the sign test's binomial 0.5**n)."""
    if n < 1:
        return 1.0
    return stats.paired_test([0.0] * n, [float(i) for i in range(1, n + 1)], test=test).p_value


def seeds_needed(test: str, level: float) -> int | None:
    """The fewest paired seeds with which ``test`` can reach p < ``level`` (None: not within 200)."""
    for n in range(1, MAX_SEEDS_SEARCHED + 1):
        if min_p_value(test, n) < level:
            return n
    return None


def undecidable(a: Assertion, seeds: int) -> str | None:
    """Why ``a`` cannot pass whatever the runs do with ``seeds`` paired seeds (None when it can).

    Known before any run: a paired test whose smallest attainable p-value is not below its level.
    (A k-of-m count asking for more seeds than there are is refused when the scenario is read.)
    """
    if isinstance(a, PairedAssertion):
        p = min_p_value(a.test, seeds)
        if p >= a.level:
            test = "Wilcoxon signed-rank test" if a.test == "wilcoxon" else "sign test"
            need = seeds_needed(a.test, a.level)
            more = f"; it needs at least {need} seeds" if need is not None else ""
            return (
                f"cannot be decided with {seeds} seed{'s' if seeds != 1 else ''}: the smallest p-value a one-sided "
                f"{test} can reach on {seeds} pair{'s' if seeds != 1 else ''} (every seed won) is {p:.4g}, "
                f"not below the level {a.level:g}{more}"
            )
        return None
    return None


def undecidable_all(scenario: Scenario) -> list[tuple[Assertion, str]]:
    """The assertions of ``scenario`` that its seed count cannot decide, with why."""
    out = []
    for a in scenario.assertions:
        why = undecidable(a, scenario.seeds.count)
        if why:
            out.append((a, why))
    return out


# --------------------------------------------------------------------------------------------
def evaluate_all(scenario: Scenario, runs: Runs) -> list[AssertionResult]:
    """Every assertion of ``scenario`` over ``runs`` ({variant: [RunData by seed]}), in file order.

    An assertion the seed count cannot decide is not evaluated as a FAIL: its verdict says so
    (``decided=False``) and names the seeds it needs; the measured numbers are kept beside it.
    """
    out = []
    for a in scenario.assertions:
        r = evaluate(a, scenario, runs)
        why = undecidable(a, scenario.seeds.count)
        if why:
            r = AssertionResult(r.name, r.kind, r.path, False, r.statement, f"{why} (measured: {r.outcome})",
                                {**r.details, "undecidable": why}, r.description, decided=False)
        out.append(r)
    return out


def evaluate(a: Assertion, scenario: Scenario, runs: Runs) -> AssertionResult:
    if isinstance(a, InvariantAssertion):
        return _invariant(a, runs)
    if isinstance(a, TargetAssertion):
        return _target(a, scenario, runs)
    if isinstance(a, PairedAssertion):
        return _paired(a, scenario, runs)
    if isinstance(a, ThresholdAssertion):
        return _threshold(a, scenario, runs)
    if isinstance(a, BaselineAssertion):
        return _baseline(a, scenario, runs)
    raise TypeError(f"unknown assertion {a!r}")


def _result(a: Assertion, passed: bool, statement: str, outcome: str, **details: Any) -> AssertionResult:
    return AssertionResult(a.name, a.kind, a.path, bool(passed), statement, outcome, details, a.description)


def _missing(a: Assertion, variants: Sequence[str], runs: Runs) -> AssertionResult | None:
    """A variant without results never passes silently."""
    gone = [v for v in variants if not runs.get(v)]
    if gone:
        return _result(a, False, a.name, f"no results for variant{'' if len(gone) == 1 else 's'} {', '.join(gone)}", missing=gone)
    return None


# -- invariants -----------------------------------------------------------------------------
def invariant_violation(check: str, run: RunData, equals: int | None = None) -> str | None:
    """Why ``run`` breaks invariant ``check`` (None when it holds)."""
    if check == "no-duplicates":
        n = max(run.duplicate_count(), run.duplicates)
        return f"{n} duplicate suggestion{'' if n == 1 else 's'}" if n else None
    if check == "max-parallel":
        peak = max(run.max_running(), run.max_concurrent)
        return f"{peak} trials running at once > parallelTrialCount {run.parallel_trial_count}" if peak > run.parallel_trial_count else None
    if check == "trial-count":
        n = len(run.trials)
        if equals is not None:
            return None if n == equals else f"{n} trials, expected exactly {equals}"
        if run.max_trial_count is not None and n > run.max_trial_count:
            return f"{n} trials > maxTrialCount {run.max_trial_count}"
        if run.reason == "ExperimentMaxTrialsReached" and run.max_trial_count is not None:
            done = sum(1 for t in run.trials if t.end is not None)
            if done != run.max_trial_count:
                return f"ExperimentMaxTrialsReached with {done} completed trials, maxTrialCount {run.max_trial_count}"
        return None
    if check == "in-space":
        return f"{run.out_of_space} assignment{'' if run.out_of_space == 1 else 's'} outside the feasible space" if run.out_of_space else None
    if check == "goal-consistent":
        if run.reason == "ExperimentGoalReached":
            if run.goal is None or not run.reached(run.final_best, run.goal):
                return f"ExperimentGoalReached but best {_fmt(run.final_best)} does not reach goal {run.goal}"
        return None
    if check == "succeeded":
        return None if run.reason not in (None, "ExperimentFailed") else f"ended with reason {run.reason}"
    raise ValueError(f"unknown invariant {check!r}")


def _invariant(a: InvariantAssertion, runs: Runs) -> AssertionResult:
    miss = _missing(a, a.variants, runs)
    statement = f"{INVARIANT_CHECKS[a.check]} (every run of {', '.join(a.variants)})"
    if miss:
        return _result(a, False, statement, miss.outcome, **miss.details)
    violations = []
    total = 0
    for v in a.variants:
        for r in sorted(runs[v], key=lambda r: r.seed_index):
            total += 1
            why = invariant_violation(a.check, r, a.equals)
            if why:
                violations.append({"variant": v, "seed_index": r.seed_index, "seed": r.seed, "violation": why})
    if not violations:
        return _result(a, True, statement, f"held in all {total} runs", runs=total, violations=[])
    first = "; ".join(f"{x['variant']} seed #{x['seed_index']}: {x['violation']}" for x in violations[:3])
    more = f" (and {len(violations) - 3} more)" if len(violations) > 3 else ""
    return _result(
        a, False, statement, f"violated in {len(violations)} of {total} runs: {first}{more}", runs=total, violations=violations
    )


# -- target within a budget, k of m ---------------------------------------------------------
def _target(a: TargetAssertion, scenario: Scenario, runs: Runs) -> AssertionResult:
    rs = sorted(runs.get(a.variant, ()), key=lambda r: r.seed_index)
    maximize = _maximize(runs)
    budget = f" within {a.within_trials} trials" if a.within_trials else (f" within {_bound_in(a.within_time, 's')} simulated" if a.within_time else "")
    m = len(rs)
    statement = f"{a.variant} reaches {a.target.describe(maximize)}{budget} in {a.seeds.describe(m or scenario.seeds.count)}"
    miss = _missing(a, [a.variant], runs)
    if miss:
        return _result(a, False, statement, miss.outcome)
    tv = a.target.resolve(optimum=_optimum(runs), maximize=maximize)
    if tv is None:
        return _result(a, False, statement, "the target needs the objective's optimum, which is unknown")
    trials = [r.trials_to(tv) for r in rs]
    times = [r.time_to(tv) for r in rs]
    hits = []
    for n, t in zip(trials, times):
        ok = math.isfinite(n)
        if a.within_trials is not None:
            ok = ok and n <= a.within_trials
        if a.within_time is not None:
            ok = ok and t <= a.within_time
        hits.append(ok)
    k = sum(hits)
    passed = a.seeds.holds(k, m)
    word = ">=" if a.seeds.at_least else "<="
    outcome = (
        f"reached in {k} of {m} seeds (needed {word} {a.seeds.needed(m)}); "
        f"trials to target per seed: {', '.join(_fmt(x) for x in trials)}"
    )
    return _result(
        a, passed, statement, outcome, target_value=tv, hits=k, seeds=m, needed=a.seeds.needed(m),
        at_least=a.seeds.at_least, trials_to_target=trials, time_to_target=times, reached=hits,
    )


# -- paired test ----------------------------------------------------------------------------
def _paired(a: PairedAssertion, scenario: Scenario, runs: Runs) -> AssertionResult:
    metric = METRICS[a.metric]
    test_name = "Wilcoxon signed-rank" if a.test == "wilcoxon" else "sign test"
    statement = f"{a.better} is better than {a.than} on {a.metric} (one-sided {test_name}, paired by seed, level {a.level:g})"
    miss = _missing(a, [a.better, a.than], runs)
    if miss:
        return _result(a, False, statement, miss.outcome)
    ctx = metric_context(scenario, runs, target=a.target, tolerance=a.tolerance)
    if "target" in metric.needs and ctx.target is None:
        return _result(a, False, statement, "the target needs the objective's optimum, which is unknown")
    ra = {r.seed_index: r for r in runs[a.better]}
    rb = {r.seed_index: r for r in runs[a.than]}
    common = sorted(set(ra) & set(rb))
    va = [metric_value(a.metric, ra[i], ctx) for i in common]
    vb = [metric_value(a.metric, rb[i], ctx) for i in common]
    la = [metric.loss(x, ra[i]) for x, i in zip(va, common)]
    lb = [metric.loss(x, rb[i]) for x, i in zip(vb, common)]
    res = stats.paired_test(la, lb, test=a.test)
    passed = res.p_value < a.level
    outcome = (
        f"{a.better} wins {res.wins}, ties {res.ties}, loses {res.losses} of {res.n} seeds; "
        f"statistic {_fmt(res.statistic)}, p = {res.p_value:.4g} {'<' if passed else '>='} {a.level:g}; "
        f"median {a.metric}: {_fmt_in(aggregate(va, 'median'), metric.unit)} vs {_fmt_in(aggregate(vb, 'median'), metric.unit)}"
    )
    return _result(
        a, passed, statement, outcome, test=res.to_dict(), level=a.level, seed_indices=common,
        values_better=va, values_than=vb, target_value=ctx.target,
    )


# -- threshold ------------------------------------------------------------------------------
def _bounds(lo: float | None, hi: float | None, unit: str = "") -> str:
    if lo is not None and hi is not None:
        return f"in [{_bound_in(lo, unit)}, {_bound_in(hi, unit)}]"
    return f">= {_bound_in(lo, unit)}" if lo is not None else f"<= {_bound_in(hi, unit)}"


def _within(x: float, lo: float | None, hi: float | None) -> bool:
    if math.isnan(x):
        return False
    return (lo is None or x >= lo) and (hi is None or x <= hi)


def _threshold(a: ThresholdAssertion, scenario: Scenario, runs: Runs) -> AssertionResult:
    m = len(runs.get(a.variant, ()))
    unit = METRICS[a.metric].unit
    bound = _bounds(a.min, a.max, unit)
    if a.aggregate:
        statement = f"{a.aggregate} over seeds of {a.variant} {a.metric} {bound}"
    else:
        statement = f"{a.variant} {a.metric} {bound} in {a.seeds.describe(m or scenario.seeds.count)}"
    miss = _missing(a, [a.variant], runs)
    if miss:
        return _result(a, False, statement, miss.outcome)
    ctx = metric_context(scenario, runs, target=a.target, tolerance=a.tolerance)
    if METRICS[a.metric].needs and any(
        (n == "target" and ctx.target is None) or (n == "baseline" and ctx.clip_loss is None) for n in METRICS[a.metric].needs
    ):
        return _result(a, False, statement, f"metric {a.metric} cannot be computed here (missing target or random-search baseline)")
    values = metric_values(a.metric, runs[a.variant], ctx)
    if a.aggregate:
        agg = aggregate(values, a.aggregate)
        passed = _within(agg, a.min, a.max)
        outcome = f"{a.aggregate} = {_fmt_in(agg, unit)} over {m} seeds; per seed: {', '.join(_fmt_in(x, unit) for x in values)}"
        return _result(a, passed, statement, outcome, value=agg, values=values, min=a.min, max=a.max)
    hits = sum(_within(x, a.min, a.max) for x in values)
    passed = a.seeds.holds(hits, m)
    word = ">=" if a.seeds.at_least else "<="
    outcome = f"within the bound in {hits} of {m} seeds (needed {word} {a.seeds.needed(m)}); per seed: {', '.join(_fmt_in(x, unit) for x in values)}"
    return _result(a, passed, statement, outcome, hits=hits, seeds=m, needed=a.seeds.needed(m), values=values, min=a.min, max=a.max)


# -- baseline -------------------------------------------------------------------------------
def _from_json(x: Any) -> float:
    if isinstance(x, str):
        return float(x)  # "inf", "-inf", "nan"
    return math.nan if x is None else float(x)


def load_baseline(path: str, variant: str, metric: str) -> tuple[list[float], list[int] | None]:
    """Per-seed values of ``metric`` for ``variant`` from a stored ``summary.json``, and its seeds."""
    data = json.loads(Path(path).read_text())
    values = [_from_json(x) for x in data["metrics"][variant][metric]]
    seeds = data.get("seeds")
    return values, (list(seeds) if isinstance(seeds, list) else None)


def _baseline(a: BaselineAssertion, scenario: Scenario, runs: Runs) -> AssertionResult:
    metric = METRICS[a.metric]
    bvar = a.baseline_variant or a.variant
    tol = []
    if a.absolute:
        tol.append(f"{a.absolute:g} absolute")
    if a.relative:
        tol.append(f"{a.relative:.0%} relative")
    tol_s = f" within {' or '.join(tol)}" if tol else ""
    rel = "equals" if a.mode == "equal" else "is no worse than"
    where = f"{a.aggregate} over seeds" if a.aggregate else "each seed's value"
    statement = f"{where} of {a.variant} {a.metric} {rel} the baseline ({Path(a.file).name}, {bvar}){tol_s}"
    miss = _missing(a, [a.variant], runs)
    if miss:
        return _result(a, False, statement, miss.outcome)
    try:
        base, base_seeds = load_baseline(a.file, bvar, a.metric)
    except (OSError, KeyError, ValueError, json.JSONDecodeError) as err:
        return _result(a, False, statement, f"cannot read the baseline: {err}")
    ctx = metric_context(scenario, runs)
    rs = sorted(runs[a.variant], key=lambda r: r.seed_index)
    cur = [metric_value(a.metric, r, ctx) for r in rs]
    hib = metric.better_is_higher(_maximize(runs))

    def ok(c: float, b: float) -> bool:
        if math.isinf(b) or math.isinf(c):
            return c == b if a.mode == "equal" else (c >= b if hib else c <= b)
        allowed = max(a.absolute, a.relative * abs(b))
        if a.mode == "equal":
            return abs(c - b) <= allowed
        return c >= b - allowed if hib else c <= b + allowed

    if a.aggregate:
        c, b = aggregate(cur, a.aggregate), aggregate(base, a.aggregate)
        passed = ok(c, b)
        outcome = f"{a.aggregate} {_fmt_in(c, metric.unit)} now vs {_fmt_in(b, metric.unit)} in the baseline ({'higher' if hib else 'lower'} is better)"
        return _result(a, passed, statement, outcome, value=c, baseline=b, values=cur, baseline_values=base)
    seeds_now = [r.seed for r in rs]
    if base_seeds is not None and base_seeds[: len(seeds_now)] != seeds_now:
        return _result(a, False, statement, "the baseline ran on other seeds; per-seed comparison is impossible", seeds=seeds_now, baseline_seeds=base_seeds)
    if len(base) < len(cur):
        return _result(a, False, statement, f"the baseline has {len(base)} seeds, this run {len(cur)}")
    hits = sum(ok(c, b) for c, b in zip(cur, base))
    m = len(cur)
    passed = a.seeds.holds(hits, m)
    outcome = f"holds in {hits} of {m} seeds (needed {'>=' if a.seeds.at_least else '<='} {a.seeds.needed(m)})"
    return _result(a, passed, statement, outcome, hits=hits, seeds=m, values=cur, baseline_values=base[:m])
