"""Build the :class:`ReportModel` of one scenario from its runs and assertion verdicts (pure; no I/O).

Curves follow Syne Tune's "median with percentiles" aggregation: runs that ended early keep their
last best (forward fill) on the trial axis, and the time axis samples every run's best-so-far step
function on one shared grid of simulated seconds (``docs/reports.md#shared-grid``).
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

from katibsim.assertions import AssertionResult, metric_context
from katibsim.report import stats
from katibsim.report.failures import failure_table
from katibsim.report.metrics import METRICS, metric_value
from katibsim.report.model import (
    KatibServiceFailure,
    Curve,
    Distribution,
    DuplicateRow,
    ExplorationView,
    Introspection,
    NormalizedScores,
    OptimalTrial,
    OptimalTrials,
    Provenance,
    RankTable,
    ReportModel,
    SweepPoint,
)
from katibsim.report.rundata import RunData
from katibsim.report.views import build_views
from katibsim.scenario import Scenario

__all__ = ["build_report", "time_grid"]

MAX_TIME_POINTS = 300


def _ordered(runs: Mapping[str, Sequence[RunData]], scenario: Scenario) -> dict[str, list[RunData]]:
    return {v: sorted(runs.get(v, ()), key=lambda r: r.seed_index) for v in scenario.variant_names}


def _first(runs: Mapping[str, Sequence[RunData]]) -> RunData | None:
    for rs in runs.values():
        if rs:
            return rs[0]
    return None


def time_grid(runs: Mapping[str, Sequence[RunData]], max_points: int = MAX_TIME_POINTS) -> list[float]:
    """Every simulated completion time of every run (exact steps), or an even grid when there are too many."""
    ends = sorted({float(t.end) for rs in runs.values() for r in rs for t in r.trials if t.end is not None})
    if len(ends) <= max_points:
        return ends
    return [float(x) for x in np.linspace(ends[0], ends[-1], max_points)]


def _curves_by_trial(runs: dict[str, list[RunData]], maximize: bool) -> tuple[Curve, ...]:
    out = []
    for v, rs in runs.items():
        curves = [r.best_by_trial() for r in rs]
        n = max((len(c) for c in curves), default=0)
        rows = [stats.forward_fill(c, n) for c in curves]
        b = stats.band(rows, maximize=maximize) if rows and n else stats.Band((), (), ())
        out.append(Curve(v, tuple(float(i) for i in range(1, n + 1)), b.median, b.q25, b.q75, len(rs)))
    return tuple(out)


def _curves_by_time(runs: dict[str, list[RunData]], maximize: bool) -> tuple[Curve, ...]:
    grid = time_grid(runs)
    out = []
    for v, rs in runs.items():
        rows = []
        for r in rs:
            times, best = r.best_by_time()
            rows.append(stats.step_at(times, best, grid))
        b = stats.band(rows, maximize=maximize) if rows and grid else stats.Band((), (), ())
        out.append(Curve(v, tuple(grid), b.median, b.q25, b.q75, len(rs)))
    return tuple(out)


def _available_metrics(scenario: Scenario, optimum: float | None, ctx) -> list[str]:
    names = []
    for name, m in METRICS.items():
        if "optimum" in m.needs and optimum is None:
            continue
        if "target" in m.needs and ctx.target is None:
            continue
        if "baseline" in m.needs and ctx.clip_loss is None:
            continue
        names.append(name)
    return names


def _ranks(runs: dict[str, list[RunData]]) -> RankTable:
    variants = tuple(runs)
    by_seed: dict[int, dict[str, RunData]] = {}
    for v, rs in runs.items():
        for r in rs:
            by_seed.setdefault(r.seed_index, {})[v] = r
    seeds = tuple(i for i in sorted(by_seed) if len(by_seed[i]) == len(variants))
    rows = []
    for i in seeds:
        losses = []
        for v in variants:
            r = by_seed[i][v]
            loss = r.loss(r.final_best)
            losses.append(math.inf if math.isnan(loss) else loss)
        rows.append(losses)
    ranked = stats.rank_rows(rows)
    avg = stats.average_ranks(rows) if rows else [math.nan] * len(variants)
    return RankTable(variants, seeds, tuple(tuple(r) for r in ranked), tuple(avg))


def _normalized(runs: dict[str, list[RunData]], baseline: str | None, opt: float | None, clip: float | None) -> NormalizedScores:
    if baseline is None:
        return NormalizedScores(None, None, None, note="no random-search variant in the scenario, so no normalised score")
    if opt is None or clip is None or not clip > opt:
        return NormalizedScores(baseline, opt, clip, note="random search found nothing worse than the best: the score is undefined")
    score, normed, board, by_trial = {}, {}, {}, {}
    for v, rs in runs.items():
        curves = [[r.loss(b) for b in r.best_by_trial()] for r in rs]
        n = max((len(c) for c in curves), default=0)
        rows = [stats.forward_fill(c, n) for c in curves]
        by_trial[v] = tuple(stats.normalized_mean_perf([row[t] for row in rows], opt=opt, clip=clip) for t in range(n))
        score[v] = stats.normalized_mean_perf([r.loss(r.final_best) for r in rs], opt=opt, clip=clip)
        board[v] = 100.0 * (1.0 - score[v]) if not math.isnan(score[v]) else math.nan
    base = score.get(baseline, math.nan)
    for v, s in score.items():
        normed[v] = s / base if base and not math.isnan(base) else math.nan
    note = ""
    if score and min(score, key=lambda k: score[k]) == baseline:
        note = "random search is itself the best variant here (Bayesmark warns about this case)"
    return NormalizedScores(baseline, opt, clip, score, normed, board, by_trial, note)


def _exploration(scenario: Scenario, runs: dict[str, list[RunData]], ctx, optimum: float | None) -> tuple[ExplorationView, ...]:
    quality = "final-regret" if optimum is not None else "final-best"
    speed = "trials-to-target" if ctx.target is not None else "trials-to-converge"
    out = []
    for sw in scenario.sweeps:
        points = []
        for value, v in zip(sw.values, sw.variants):
            rs = runs.get(v, [])
            q = [metric_value(quality, r, ctx) for r in rs]
            s = [metric_value(speed, r, ctx) for r in rs]
            c = [metric_value("trials-to-converge", r, ctx) for r in rs]
            tt = [metric_value("time-to-target", r, ctx) for r in rs] if ctx.target is not None else []
            end = [metric_value("end-time", r, ctx) for r in rs]
            points.append(
                SweepPoint(value, v, stats.summary(q), stats.summary(s), stats.summary(c), sum(math.isfinite(x) for x in s), len(rs),
                           stats.summary(tt) if tt else {}, stats.summary(end))
            )
        numeric = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in sw.values)
        out.append(ExplorationView(sw.group, sw.key, quality, speed, tuple(points), numeric))
    return tuple(out)


def _fmt_value(v: Any) -> str:
    if isinstance(v, float):
        return repr(v)
    return str(v)


def _optimal(runs: dict[str, list[RunData]], metric_name: str) -> tuple[OptimalTrials, ...]:
    out = []
    for v, rs in runs.items():
        rows = []
        params: dict[str, list[float]] = {}
        for r in rs:
            cot = r.optimal_trial or {}
            name = cot.get("bestTrialName")
            assigns = tuple(dict(a) for a in (cot.get("parameterAssignments") or ()))
            metrics = tuple(dict(m) for m in ((cot.get("observation") or {}).get("metrics") or ()))
            value = r.final_best
            if not cot:
                # No Katib status recorded: show the best trial the way Katib would.
                bt = r.best_trial()
                if bt is not None:
                    name = bt.name
                    assigns = tuple({"name": k, "value": _fmt_value(x)} for k, x in bt.assignment.items())
                    metrics = ({"name": metric_name, "latest": _fmt_value(bt.value)},)
            rows.append(OptimalTrial(r.seed_index, r.seed, name, assigns, metrics, value))
            for a in assigns:
                try:
                    params.setdefault(a["name"], []).append(float(a["value"]))
                except (TypeError, ValueError, KeyError):
                    pass
        spread = {}
        for p, xs in params.items():
            s = stats.summary(xs)
            spread[p] = {"min": s["min"], "median": s["median"], "max": s["max"]}
        out.append(OptimalTrials(v, tuple(rows), spread, stats.summary([row.value for row in rows])))
    return tuple(out)


def _duplicate_examples(r: RunData, limit: int = 3) -> list[dict[str, Any]]:
    seen: dict[tuple, str] = {}
    out = []
    for t in sorted(r.trials, key=lambda t: t.number):
        key = tuple(sorted((k, (int(x) if isinstance(x, float) and x.is_integer() else x)) for k, x in t.assignment.items()))
        if key in seen and len(out) < limit:
            out.append({"seed_index": r.seed_index, "trial": t.name, "repeats": seen[key], "assignment": dict(t.assignment)})
        seen.setdefault(key, t.name)
    return out


def _duplicates(runs: dict[str, list[RunData]]) -> tuple[DuplicateRow, ...]:
    out = []
    for v, rs in runs.items():
        per = tuple(max(r.duplicate_count(), r.duplicates) for r in rs)
        ex: list[dict[str, Any]] = []
        for r in rs:
            ex.extend(_duplicate_examples(r, 3 - len(ex)))
        out.append(DuplicateRow(v, per, sum(per), tuple(ex[:3])))
    return tuple(out)


def _regret_note(runs: dict[str, list[RunData]], optimum: float | None, maximize: bool) -> str:
    """Say what the final regret is measured on, and explain a best value beyond the optimum."""
    if optimum is None:
        return ""
    best = [(r, r.best_trial()) for rs in runs.values() for r in rs]
    best = [(r, t) for r, t in best if t is not None]
    if not best:
        return ""
    clean = sum(1 for _, t in best if t.true_value is not None)
    if clean == len(best):
        text = ("Final regret is measured on the noise-free value: the objective's value without observation noise at "
                "the best observed trial (what the run would recommend), against the noise-free optimum "
                f"{optimum:.6g}.")
    elif clean == 0:
        text = f"Final regret is measured on the observed value of the best trial against the optimum {optimum:.6g} (the objective reports no noise-free value)."
    else:
        text = (f"Final regret is measured on the noise-free value of the best trial where the objective gives one ({clean} of "
                f"{len(best)} runs), else on the observed value.")
    beyond = sum(1 for r, t in best if r.loss(float(t.value)) < r.loss(optimum) - 1e-12 * max(1.0, abs(optimum)))
    if beyond:
        text += (f" In {beyond} of {len(best)} runs the best observed value lies beyond the optimum: observation noise "
                 "(the objective adds noise to what a trial reports) lifted a lucky trial past the noise-free optimum. "
                 "Its noise-free value cannot pass the optimum, so its regret stays >= 0; the curves then show "
                 "observed values, not regret.")
    return text


def build_report(
    scenario: Scenario,
    runs: Mapping[str, Sequence[RunData]],
    results: Sequence[AssertionResult],
    provenance: Provenance,
    *,
    introspection: Introspection | None = None,
    metric_name: str = "objective",
    warnings: Sequence[str] = (),
    katib_failures: Sequence[KatibServiceFailure] = (),
    objective_remarks: Sequence[str] = (),
) -> ReportModel:
    """The report of ``scenario``: ``runs`` maps each variant to its runs (any order)."""
    ordered = _ordered(runs, scenario)
    first = _first(ordered)
    maximize = first.maximize if first else True
    optimum = first.optimum if first else None
    ctx = metric_context(scenario, ordered)
    warn = list(warnings)
    for v, rs in ordered.items():
        if len(rs) != scenario.seeds.count:
            warn.append(f"variant {v}: {len(rs)} runs, expected {scenario.seeds.count} (one per seed)")

    names = _available_metrics(scenario, optimum, ctx)
    table = {v: {m: tuple(metric_value(m, r, ctx) for r in rs) for m in names} for v, rs in ordered.items()}
    dists = tuple(
        Distribution(v, "final-best", table[v]["final-best"], stats.summary(table[v]["final-best"])) for v in ordered
    )
    info = {}
    for var in scenario.variants:
        rs = ordered.get(var.name) or []
        info[var.name] = {
            "algorithm": var.algorithm or (scenario.experiment.get("spec", {}).get("algorithm") or {}).get("algorithmName"),
            "settings": dict(var.settings),
            "overrides": dict(var.overrides),
            "parallelTrialCount": rs[0].parallel_trial_count if rs else None,
            "maxTrialCount": rs[0].max_trial_count if rs else None,
        }
    target_text = scenario.target.describe(maximize) if scenario.target else ""
    regret_axis = optimum is not None and all(
        math.isnan(r.final_best) or r.loss(r.final_best) >= r.loss(optimum) - 1e-12 * max(1.0, abs(optimum))
        for rs in ordered.values()
        for r in rs
    )
    return ReportModel(
        regret_note=_regret_note(ordered, optimum, maximize),
        scenario=scenario.name,
        description=scenario.description,
        objective=scenario.objective.name,
        metric_name=metric_name,
        maximize=maximize,
        optimum=optimum,
        target=ctx.target,
        target_text=target_text,
        variants=scenario.variant_names,
        variant_info=info,
        curves_by_trial=_curves_by_trial(ordered, maximize),
        curves_by_time=_curves_by_time(ordered, maximize),
        final_best=dists,
        metrics=table,
        ranks=_ranks(ordered),
        normalized=_normalized(ordered, scenario.report.baseline, ctx.opt_loss, ctx.clip_loss),
        exploration=_exploration(scenario, ordered, ctx, optimum),
        optimal=_optimal(ordered, metric_name),
        introspection=introspection,
        assertions=tuple(results),
        duplicates=_duplicates(ordered),
        provenance=provenance,
        warnings=tuple(warn),
        regret_axis=regret_axis,
        failures=tuple(failure_table(v, rs) for v, rs in ordered.items()),
        katib_failures=tuple(katib_failures),
        objective_remarks=tuple(objective_remarks),
        views=build_views(ordered),
    )
