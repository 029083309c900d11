"""The per-run metrics assertions and reports can name (``final-regret``, ``trials-to-target``, ...).

Each metric maps one :class:`RunData` (and a small context: target, tolerance, Bayesmark's
baselines) to one number, and says which way is better, so a paired test or a threshold never has
to guess. A metric that needs something the scenario does not provide (a known optimum, a
target) says so in ``needs``; the scenario validator turns that into a field-path error instead
of a silent pass.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping

from katibsim.report.rundata import RunData

__all__ = ["METRICS", "Metric", "MetricContext", "metric_value"]


@dataclass(frozen=True)
class MetricContext:
    """What some metrics need beyond the run: the target (an objective value), the convergence
    tolerance, and Bayesmark's ``opt`` and ``clip`` losses for the normalised score."""

    target: float | None = None
    tolerance: float = 1e-3
    opt_loss: float | None = None
    clip_loss: float | None = None


@dataclass(frozen=True)
class Metric:
    name: str
    description: str
    higher_is_better: bool | None  # None: the objective's own direction
    needs: tuple[str, ...]  # of "optimum", "target", "baseline"
    unit: str
    fn: Callable[[RunData, MetricContext], float]

    def loss(self, value: float, run: RunData) -> float:
        """``value`` turned into a loss (lower is better) for tests and ranks."""
        hib = self.higher_is_better if self.higher_is_better is not None else run.maximize
        return -value if hib else value

    def better_is_higher(self, maximize: bool) -> bool:
        return self.higher_is_better if self.higher_is_better is not None else maximize


def _normalized(run: RunData, ctx: MetricContext) -> float:
    if ctx.opt_loss is None or ctx.clip_loss is None or not ctx.clip_loss > ctx.opt_loss:
        return math.nan
    s = run.loss(run.final_best)
    s = ctx.clip_loss if math.isnan(s) else min(s, ctx.clip_loss)
    return (s - ctx.opt_loss) / (ctx.clip_loss - ctx.opt_loss)


def _auc(run: RunData, ctx: MetricContext) -> float:
    curve = [b for b in run.best_by_trial() if not math.isnan(b)]
    return sum(curve) / len(curve) if curve else math.nan


def _need_target(ctx: MetricContext) -> float:
    if ctx.target is None:
        raise ValueError("this metric needs a target")
    return ctx.target


_LIST = (
    Metric("final-best", "best objective value of the run", None, (), "objective", lambda r, c: r.final_best),
    Metric(
        "final-regret",
        "simple regret of the best observed trial: the optimum minus its noise-free value (0 = optimum found)",
        False,
        ("optimum",),
        "objective",
        lambda r, c: r.final_regret(),
    ),
    Metric(
        "trials-to-target",
        "completed trials until the target was first reached (inf: never)",
        False,
        ("target",),
        "trials",
        lambda r, c: r.trials_to(_need_target(c)),
    ),
    Metric(
        "time-to-target",
        "simulated seconds until the target was first reached (inf: never)",
        False,
        ("target",),
        "s",
        lambda r, c: r.time_to(_need_target(c)),
    ),
    Metric(
        "trials-to-converge",
        "completed trials until the best-so-far came within the tolerance of the run's own final best",
        False,
        (),
        "trials",
        lambda r, c: r.trials_to_converge(c.tolerance),
    ),
    Metric(
        "time-to-goal",
        "simulated seconds until the experiment's goal was reached (inf: never)",
        False,
        (),
        "s",
        lambda r, c: r.time_to_goal if r.time_to_goal is not None else math.inf,
    ),
    Metric(
        "end-time",
        "simulated wall-clock seconds from start to the experiment's completion",
        False,
        (),
        "s",
        lambda r, c: r.end_time if r.end_time is not None else math.nan,
    ),
    Metric("auc", "mean of the best-so-far curve over completed trials (kurobako's AUC)", None, (), "objective", _auc),
    Metric(
        "normalized-score",
        "Bayesmark's normalised score of the final best: 0 = best seen by any variant, 1 = a typical random point",
        False,
        ("baseline",),
        "",
        _normalized,
    ),
    Metric("trials", "trials created", False, (), "trials", lambda r, c: float(len(r.trials))),
    Metric("duplicates", "suggestions repeating an earlier assignment", False, (), "trials", lambda r, c: float(r.duplicates)),
    Metric(
        "max-concurrent",
        "most trials running at one simulated instant",
        False,
        (),
        "trials",
        lambda r, c: float(r.max_concurrent),
    ),
)

METRICS: Mapping[str, Metric] = {m.name: m for m in _LIST}


def metric_value(name: str, run: RunData, ctx: MetricContext) -> float:
    """The value of metric ``name`` for ``run``."""
    return float(METRICS[name].fn(run, ctx))


def bayesmark_baselines(
    runs: Mapping[str, "list[RunData]"], baseline_variant: str | None
) -> tuple[float | None, float | None]:
    """Bayesmark's ``opt`` and ``clip`` losses (``docs/reports.md#bayesmark-score``).

    ``opt``: the best loss any variant observed in any run (Bayesmark pads it by a tiny epsilon;
    we do not, so the best variant can score exactly 0). ``clip``: the median loss of a single
    random-search evaluation, pooled over every trial of the random variant's runs. Both None
    without a random-search variant.
    """
    if baseline_variant is None or baseline_variant not in runs:
        return None, None
    all_losses = [r.loss(t.value) for rs in runs.values() for r in rs for t in r.trials]
    all_losses = [x for x in all_losses if not math.isnan(x)]
    rand = [r.loss(t.value) for r in runs[baseline_variant] for t in r.trials]
    rand = sorted(x for x in rand if not math.isnan(x))
    if not all_losses or not rand:
        return None, None
    n = len(rand)
    clip = rand[n // 2] if n % 2 else 0.5 * (rand[n // 2 - 1] + rand[n // 2])
    return min(all_losses), clip
