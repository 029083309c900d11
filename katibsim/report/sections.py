"""The report's reading order as renderer-neutral blocks (headings, paragraphs, tables, images).

Markdown and HTML render the same blocks, so the two never disagree on a number; this module
decides what a reader sees and in which order (``docs/reports.md#report-layout``):
the verdict first, then the curves, distributions, ranks and scores, the exploration view, the
optimal trials, the model step by step, the failed trials, duplicates, and provenance last.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

from katibsim.report.format import iqr, num, seconds, settings_text, verdict_word
from katibsim.report.blocks import Block, Bullets, Code, Details, Heading, Image, Para, Table
from katibsim.report.model import ReportModel
from katibsim.report.png import exploration_file, figure_names

__all__ = ["Block", "Bullets", "Code", "Details", "Heading", "Image", "Para", "Table", "blocks"]


def _badge(passed: bool) -> str:
    return ("✅ " if passed else "❌ ") + verdict_word(passed)


def _verdict(a: Any) -> str:
    """PASS / FAIL, or CANNOT DECIDE for an assertion the seed count could never make pass."""
    if not getattr(a, "decided", True):
        return "⚠️ CANNOT DECIDE"
    return _badge(a.passed)


def _variant_table(m: ReportModel) -> Table:
    rows = []
    for v in m.variants:
        info = m.variant_info.get(v, {})
        rows.append(
            (
                v,
                str(info.get("algorithm") or "–"),
                settings_text(info.get("settings", {})),
                num(info.get("parallelTrialCount")),
                num(info.get("maxTrialCount")),
            )
        )
    return Table(("variant", "algorithm", "settings", "parallelTrialCount", "maxTrialCount"), tuple(rows))


def _results_table(m: ReportModel) -> Table:
    has_regret = m.optimum is not None
    has_target = m.target is not None
    header = ["variant", f"final best {m.metric_name}: median [IQR]", "mean ± sd"]
    if has_regret:
        header.append("final regret (noise-free): median [IQR]" if "noise-free value:" in m.regret_note else "final regret: median [IQR]")
    if has_target:
        header.append("trials to target: median [IQR]")
        header.append("reached target")
    header.append("time to end (median)")
    header.append("average rank")
    if m.normalized.score:
        header.append("normalised score (Bayesmark, 100 = best)")
    ranks = dict(zip(m.ranks.variants, m.ranks.average))
    rows = []
    from katibsim.report.stats import summary

    for d in m.final_best:
        v = d.variant
        row = [v, iqr(d.summary, 4), f"{num(d.summary['mean'], 4)} ± {num(d.summary['sd'], 2)}"]
        if has_regret:
            row.append(iqr(summary(m.metrics[v].get("final-regret", ())), 3))
        if has_target:
            t = m.metrics[v].get("trials-to-target", ())
            row.append(iqr(summary(t), 3))
            row.append(f"{sum(1 for x in t if math.isfinite(x))}/{len(t)}")
        ends = [x for x in m.metrics[v].get("end-time", ()) if math.isfinite(x)]
        row.append(seconds(summary(ends)["median"]) if ends else "–")
        row.append(num(ranks.get(v), 3))
        if m.normalized.score:
            row.append(f"{num(m.normalized.leaderboard.get(v), 3)} (score {num(m.normalized.score.get(v), 3)})")
        rows.append(tuple(row))
    return Table(tuple(header), tuple(rows))


def _assertion_blocks(m: ReportModel) -> list[Any]:
    if not m.assertions:
        return [Para("This scenario states no assertions.")]
    rows = tuple((_verdict(a), a.name, a.statement, a.outcome) for a in m.assertions)
    out: list[Any] = [Table(("verdict", "assertion", "asserted", "measured"), rows)]
    notes = [f"{a.name}: {a.description}" for a in m.assertions if a.description]
    if notes:
        out.append(Bullets(tuple(notes)))
    return out


def _sweep_times(p: Any, with_target: bool) -> tuple[str, ...]:
    """Simulated time to the target (when there is one) and to the experiment's end, in s / min / h."""
    end = seconds(p.end_time.get("median")) if p.end_time else "–"
    if not with_target:
        return (end,)
    return (seconds(p.time_to.get("median")) if p.time_to else "–", end)


def _exploration_blocks(m: ReportModel) -> list[Any]:
    out: list[Any] = []
    for i, view in enumerate(m.exploration):
        out.append(Heading(3, f"{view.group.replace('{value}', '*')}: {view.key} swept over {', '.join(str(p.value) for p in view.points)}"))
        speed_word = "reached target" if view.speed == "trials-to-target" else "converged"
        if view.speed == "trials-to-target":
            rows = tuple(
                (str(p.value), p.variant, iqr(p.regret, 3), f"{p.reached}/{p.runs}", iqr(p.trials_to, 3), iqr(p.converge, 3))
                + _sweep_times(p, True)
                for p in view.points
            )
            header = (view.key, "variant", f"{view.quality}: median [IQR]", speed_word, "trials-to-target: median [IQR]",
                      "trials-to-converge: median [IQR]", "time to target (median)", "time to end (median)")
        else:
            rows = tuple((str(p.value), p.variant, iqr(p.regret, 3), f"{p.reached}/{p.runs}", iqr(p.converge, 3)) + _sweep_times(p, False)
                         for p in view.points)
            header = (view.key, "variant", f"{view.quality}: median [IQR]", speed_word, "trials-to-converge: median [IQR]",
                      "time to end (median)")
        out.append(Table(header, rows))
        out.append(Image(exploration_file(i, view), f"{view.quality} and {view.speed} against {view.key}"))
    return out


def _optimal_blocks(m: ReportModel) -> list[Any]:
    out: list[Any] = [
        Para(
            "The best trial of each run, as Katib's status.currentOptimalTrial shows it, and how much it "
            "moves between seeds (a stable optimum has a narrow spread)."
        )
    ]
    for o in m.optimal:
        spread = "; ".join(f"{p} in [{num(s['min'])}, {num(s['max'])}] (median {num(s['median'])})" for p, s in o.spread.items())
        out.append(Para(f"{o.variant}: {m.metric_name} median {iqr(o.value, 4)}. Spread over seeds: {spread or '–'}."))
        rows = []
        for t in o.trials:
            assigns = ", ".join(f"{a.get('name')}={a.get('value')}" for a in t.parameter_assignments)
            metrics = "; ".join(
                f"{x.get('name')}: " + ", ".join(f"{k}={x[k]}" for k in ("min", "max", "latest") if k in x) for x in t.metrics
            )
            rows.append((f"#{t.seed_index} ({t.seed})", t.best_trial_name or "–", assigns or "–", metrics or "–"))
        out.append(Details(f"{o.variant}: currentOptimalTrial per seed", (Table(("seed", "bestTrialName", "parameterAssignments", "observation.metrics"), tuple(rows)),)))
    return out


def _introspection_blocks(m: ReportModel) -> list[Any]:
    intro = m.introspection
    if intro is None:
        return []
    out: list[Any] = [
        Heading(2, f"The model step by step: {intro.variant}, seed #{intro.seed_index}"),
        Para(
            "The chosen run's history replayed through a fresh algorithm: after each number of trials, the "
            "objective (black), the Gaussian process's belief (blue, with a 95% band), the acquisition below, "
            "and the point it chose next (green)."
            + (f" {intro.note}" if intro.note else "")
        ),
    ]
    if intro.steps:
        counts = ", ".join(str(s.observed) for s in intro.steps)
        out.append(Image("model-steps.png", f"the model after {counts} trials"))
    return out


def _failure_blocks(m: ReportModel) -> list[Any]:
    if not any(f.total for f in m.failures):
        return [Para("No trial ended Failed or MetricsUnavailable in any run.")]
    out: list[Any] = [
        Para(
            "Trials that ended Failed or MetricsUnavailable (Katib counts both against maxFailedTrialCount), and "
            "EarlyStopped ones whose message says more than Katib's default, with the reason and message of their "
            "last condition. Trials run as real processes also show the last lines they printed; simulated "
            "failures have no output."
        ),
        Table(
            ("variant", "runs", "failed trials", "by condition"),
            tuple(
                (f.variant, str(f.runs), str(f.total), ", ".join(f"{c} {n}" for c, n in f.counts.items()) or "–")
                for f in m.failures
            ),
        ),
    ]
    for f in m.failures:
        if not f.total:
            continue
        out.append(Heading(3, f"{f.variant}: {f.total} trial{'s' if f.total != 1 else ''} in {f.runs} run{'s' if f.runs != 1 else ''}"))
        rows = tuple(
            (f"#{t.seed_index} ({t.seed})", t.trial, t.condition, t.reason or "–", t.message or "–") for t in f.trials
        )
        out.append(Table(("seed", "trial", "condition", "reason", "message"), rows))
        if f.omitted:
            out.append(Para(f"… and {f.omitted} more not shown here (every trial is in the runs' result files)."))
        for t in f.trials:
            if not t.output_tail and not t.output_path:
                continue
            if t.output_tail:
                what = f"last {len(t.output_tail)} line{'s' if len(t.output_tail) != 1 else ''} of output"
            else:
                what = "printed nothing"
            body: list[Any] = []
            where = []
            if t.omitted_lines:
                where.append(f"{t.omitted_lines} earlier line{'s' if t.omitted_lines != 1 else ''} left out")
            if t.output_path:
                where.append(f"all of it in {t.output_path}")
            if where:
                text = "; ".join(where)
                body.append(Para(text[0].upper() + text[1:] + "."))
            if t.output_tail:
                body.append(Code("\n".join(t.output_tail)))
            out.append(Details(f"seed #{t.seed_index}: {t.trial} ({t.condition}): {what}", tuple(body)))
    return out


def _duplicate_blocks(m: ReportModel) -> list[Any]:
    total = sum(d.total for d in m.duplicates)
    rows = tuple((d.variant, str(d.total), ", ".join(str(x) for x in d.per_seed)) for d in m.duplicates)
    out: list[Any] = [
        Para(
            "Suggestions that repeat an earlier trial's assignment (Katib issue #1039)."
            if total
            else "No variant suggested an assignment twice in any run."
        ),
        Table(("variant", "duplicates", "per seed"), rows),
    ]
    ex = [e for d in m.duplicates for e in d.examples]
    if ex:
        out.append(
            Bullets(
                tuple(
                    f"seed #{e['seed_index']}: {e['trial']} repeats {e['repeats']} ({', '.join(f'{k}={v}' for k, v in e['assignment'].items())})"
                    for e in ex[:6]
                )
            )
        )
    return out


def _rank_details(m: ReportModel) -> Details:
    rows = tuple(
        (f"#{i}",) + tuple(num(r, 3) for r in row) for i, row in zip(m.ranks.seed_indices, m.ranks.ranks)
    )
    avg = ("average",) + tuple(num(x, 3) for x in m.ranks.average)
    return Details("ranks per seed (1 = best final value; ties share)", (Table(("seed",) + m.ranks.variants, rows + (avg,)),))


def _provenance_blocks(m: ReportModel) -> list[Any]:
    p = m.provenance
    items = [
        f"katibsim {p.katibsim}, Python {p.python}",
        "packages: " + ", ".join(f"{k} {v}" for k, v in p.packages.items()),
    ]
    if p.plugins:
        items.append("plugins: " + ", ".join(f"{k} ({v})" for k, v in p.plugins.items()))
    items += [
        f"scenario file: {p.scenario_file or '–'} (hash {p.scenario_hash})",
        f"experiment: {p.experiment_file or 'inline'}; objective: {p.objective}",
        f"master seed {p.master_seed}; seeds: {', '.join(str(s) for s in p.seeds)}",
    ]
    out: list[Any] = [Bullets(tuple(items))]
    if p.command:
        out.append(Code(p.command))
    return out


def _katib_failure_blocks(m: ReportModel) -> list[Any]:
    """The banner at the top: variants whose runs hit a failure of Katib's own suggestion service."""
    if not m.katib_failures:
        return []
    variants = sorted({f.variant for f in m.katib_failures})
    items = [f"variant {f.variant} ({f.runs} run(s)): {f.message} — why: {f.why} — fix: {f.fix}"
             for f in m.katib_failures]
    return [
        Para(f"⚠️ Katib suggestion service failure in {len(variants)} variant(s) ({', '.join(variants)}): Katib's own "
             "service fails on this Experiment, so Katib creates no more trials and the Experiment stays Running; "
             "those runs show where Katib stops, not how well the algorithm searches."),
        Bullets(tuple(items)),
    ]


def _objective_remark_blocks(m: ReportModel) -> list[Any]:
    """The banner after the Katib failures: where the objective does not fit the experiment."""
    if not m.objective_remarks:
        return []
    return [
        Para(f"⚠️ The objective {m.objective} does not fit this comparison in every way: read the results "
             "with this in mind."),
        Bullets(tuple(m.objective_remarks)),
    ]


def blocks(m: ReportModel) -> list[Any]:
    """The whole report of one scenario, in reading order."""
    figures = set(figure_names(m))
    passed = sum(a.passed for a in m.assertions)
    undecided = [a for a in m.assertions if not getattr(a, "decided", True)]
    out: list[Any] = [Heading(1, f"{m.scenario}: {_badge(m.passed)} ({passed}/{len(m.assertions)} assertions hold)")]
    out += _katib_failure_blocks(m)
    out += _objective_remark_blocks(m)
    if undecided:
        n = len(m.provenance.seeds)
        out.append(Para(
            f"⚠️ {len(undecided)} assertion{'s' if len(undecided) != 1 else ''} cannot be decided with {n} "
            f"seed{'s' if n != 1 else ''} (known before the run; see the verdict): "
            + "; ".join(f"{a.name}: {a.details.get('undecidable', '')}" for a in undecided) + "."
        ))
    if m.description:
        out.append(Para(m.description))
    facts = [
        f"objective {m.objective} ({'maximise' if m.maximize else 'minimise'} {m.metric_name}"
        + (f", optimum {num(m.optimum, 7)}" if m.optimum is not None else "")
        + ")",
        f"{len(m.provenance.seeds)} paired seeds (master {m.provenance.master_seed})",
    ]
    if m.target is not None:
        facts.append(f"target: {m.target_text} (= {num(m.target, 6)})")
    out.append(Para("; ".join(facts) + "."))
    for w in m.warnings:
        out.append(Para(f"⚠️ {w}"))
    out.append(Heading(2, "Verdict"))
    out += _assertion_blocks(m)
    out.append(Heading(2, "Variants"))
    out.append(_variant_table(m))
    out.append(Heading(2, "Results"))
    out.append(_results_table(m))
    if m.regret_note:
        out.append(Para(m.regret_note))
    if m.normalized.note:
        out.append(Para(f"Normalised score: {m.normalized.note}."))
    out.append(_rank_details(m))
    out.append(Heading(2, "Best so far"))
    out.append(
        Para(
            "Median over seeds with the inter-quartile band, against the number of completed trials (left) and "
            "against simulated wall-clock time (right), where parallel trials pay off."
        )
    )
    out.append(Image("curves.png", "best so far against trials and simulated time"))
    out.append(Image("final-best.png", "final best per seed"))
    if "normalized.png" in figures:
        out.append(Image("normalized.png", "Bayesmark normalised score against trials"))
    from katibsim.report.view_sections import view_blocks

    out += view_blocks(m)
    if m.exploration:
        out.append(Heading(2, "Exploration"))
        out.append(
            Para(
                "What the swept setting buys (final quality, seeds that reach the target) and what it costs "
                "(trials until the run settles within the convergence tolerance of its own final best)."
            )
        )
        out += _exploration_blocks(m)
    out.append(Heading(2, "Optimal trials"))
    out += _optimal_blocks(m)
    out += _introspection_blocks(m)
    out.append(Heading(2, "Failed trials"))
    out += _failure_blocks(m)
    out.append(Heading(2, "Duplicate suggestions"))
    out += _duplicate_blocks(m)
    out.append(Heading(2, "Provenance"))
    out += _provenance_blocks(m)
    return out


def index_blocks(models: Sequence[Any]) -> list[Any]:
    """A summary over several scenarios (``index.md`` / ``index.html`` and a CI job summary).

    ``models``: report models or :class:`katibsim.report.index.IndexEntry` (scenarios read back
    from an earlier run's ``summary.json``), in the order shown.
    """
    from katibsim.report.index import entries

    items = entries(models)
    ok = all(m.passed for m in items)
    n = sum(len(m.assertions) for m in items)
    held = sum(a.passed for m in items for a in m.assertions)
    word = "scenario" if len(items) == 1 else "scenarios"
    out: list[Any] = [Heading(1, f"katibsim compare: {_badge(ok)} ({held}/{n} assertions hold in {len(items)} {word})")]
    rows = tuple(
        (_badge(m.passed), m.scenario, f"{sum(a.passed for a in m.assertions)}/{len(m.assertions)}", f"{m.scenario}/report.html", f"{m.scenario}/report.md")
        for m in items
    )
    out.append(Table(("verdict", "scenario", "assertions", "HTML report", "Markdown report"), rows))
    failed = [(m.scenario, a) for m in items for a in m.assertions if not a.passed]
    if failed:
        out.append(Heading(2, "Failed assertions"))
        out.append(Table(("scenario", "verdict", "assertion", "asserted", "measured"),
                         tuple((s, _verdict(a), a.name, a.statement, a.outcome) for s, a in failed)))
    scored = [m for m in items if m.scores]
    if len(scored) > 1:
        # Only variants (by name) that took part in several scenarios: an average over one is not one.
        names = sorted(v for v in {v for m in scored for v in m.scores} if sum(v in m.scores for m in scored) > 1)
        rows2 = []
        for v in names:
            vals = [m.scores[v] for m in scored if v in m.scores and not math.isnan(m.scores[v])]
            mean = sum(vals) / len(vals) if vals else math.nan
            rows2.append((v, str(len(vals)), num(mean, 3), num(100 * (1 - mean), 3) if vals else "–"))
        if len(rows2) > 1:
            out.append(Heading(2, "Normalised score across scenarios (Bayesmark: mean over problems)"))
            out.append(Table(("variant", "scenarios", "mean score (0 best, 1 random)", "100 × (1 − score)"), tuple(rows2)))
        elif rows2:
            # One shared variant compares with nothing: say so instead of drawing a one-row league table.
            out.append(Para(f"Only {rows2[0][0]} has a normalised score in several scenarios, so there is no "
                            "cross-scenario comparison of variants to show."))
    return out
