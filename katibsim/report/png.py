"""PNG figures of a :class:`ReportModel` with matplotlib's Agg canvas (no pyplot, no global state).

:func:`render_png` returns ``{file name: PNG bytes}``; the command writes them next to the report
and the HTML renderer embeds the same bytes, so both always show the same pictures.
"""

from __future__ import annotations

import io
import math
import warnings
from typing import Sequence

import numpy as np

from katibsim.report.model import Curve, ReportModel
from katibsim.report.png_common import REAL_RUN_STYLE, REGRET_FLOOR, _colors, _figure, _png, _readable_log, _transform, real_run_legend

__all__ = ["exploration_file", "figure_names", "render_png", "sweep_ticks"]

def _ylabel(m: ReportModel) -> str:
    if m.optimum is None or not m.regret_axis:
        return f"best {m.metric_name} so far ({'higher' if m.maximize else 'lower'} is better)"
    return f"simple regret (optimum {m.optimum:.6g} − best so far; log)"


def _time_unit(xmax: float) -> tuple[float, str]:
    if xmax >= 7200:
        return 3600.0, "h"
    if xmax >= 120:
        return 60.0, "min"
    return 1.0, "s"


LINE_STYLES = ("-", "--", "-.", ":")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")


def _draw_curves(ax, m: ReportModel, curves: Sequence[Curve], *, scale: float = 1.0, step: bool = False) -> None:
    # Four or more variants overlap: distinct line styles and markers tell them apart without
    # colour, and lighter bands keep the overlap from turning muddy.
    many = len(curves) >= 4
    alpha = 0.08 if many else 0.2
    for i, (color, c) in enumerate(zip(_colors(len(curves)), curves)):
        if not c.x:
            continue
        x = np.asarray(c.x) / scale
        kw = {"step": "post"} if step else {}
        style = LINE_STYLES[i % len(LINE_STYLES)] if many else "-"
        ax.fill_between(x, _transform(m, c.q25), _transform(m, c.q75), color=color, alpha=alpha, linewidth=0, **kw)
        if many:
            # band edges as thin lines in the variant's colour: where each band ends stays visible
            for q in (c.q25, c.q75):
                if step:
                    ax.step(x, _transform(m, q), where="post", color=color, linewidth=0.5, alpha=0.5, linestyle=style)
                else:
                    ax.plot(x, _transform(m, q), color=color, linewidth=0.5, alpha=0.5, linestyle=style)
        if step:
            ax.step(x, _transform(m, c.median), where="post", color=color, linestyle=style, linewidth=1.6, label=f"{c.variant} (n={c.runs})")
        else:
            every = max(1, len(x) // 12)
            ax.plot(x, _transform(m, c.median), color=color, linestyle=style, linewidth=1.6,
                    marker=MARKERS[i % len(MARKERS)] if many else "o", markersize=4 if many else 3, markevery=every,
                    label=f"{c.variant} (n={c.runs})")
    if m.optimum is not None and m.regret_axis:
        ax.set_yscale("log")
        _readable_log(ax)
    elif m.target is not None:
        ax.axhline(m.target, color="grey", linestyle=":", linewidth=1, label=f"target {m.target:g}")
    ax.grid(True, alpha=0.3)


def _draw_real_run(ax1, ax2, m: ReportModel, scale: float) -> None:
    """The real run's best so far beside the simulated medians: by trial, and by time when it has times."""
    real = m.real_run
    if not real.best:
        return
    x = np.arange(1, len(real.best) + 1, dtype=float)
    ax1.step(x, _transform(m, real.best), where="post", label=real_run_legend(real), **REAL_RUN_STYLE)
    if real.times:
        ax2.step(np.asarray(real.times) / scale, _transform(m, real.best), where="post", label=real_run_legend(real),
                 **REAL_RUN_STYLE)


#: The share of the drawn best-so-far values a what-if figure's value axis may leave out at the bad
#: end: the first few trials' steep climb, which would squash the differences near the top.
ZOOM_QUANTILE = 0.05


def _zoom_on_the_good_end(ax, m: ReportModel) -> bool:
    """In a what-if report (values, not regret), fit the value axis to the good end of the curves:
    every variant's median and the real run from the ``ZOOM_QUANTILE`` quantile of all drawn values
    to the best, with a margin. True when the axis was zoomed (the bad end is cut)."""
    if m.real_run is None or m.regret_axis and m.optimum is not None:
        return False
    series = [c.median for c in (*m.curves_by_trial, *m.curves_by_time)] + [m.real_run.best]
    pooled = np.asarray([v for ys in series for v in ys], dtype=float)
    pooled = pooled[np.isfinite(pooled)]
    if pooled.size < 2:
        return False
    if m.maximize:
        low, high = float(np.quantile(pooled, ZOOM_QUANTILE)), float(pooled.max())
    else:
        low, high = float(pooled.min()), float(np.quantile(pooled, 1.0 - ZOOM_QUANTILE))
    if m.target is not None:
        low, high = min(low, m.target), max(high, m.target)
    if not high > low or (low <= pooled.min() and high >= pooled.max()):
        return False
    pad = 0.08 * (high - low)
    ax.set_ylim(low - pad, high + pad)
    return True


def _curves(m: ReportModel) -> bytes:
    fig = _figure(12, 4.5)
    ax1, ax2 = fig.subplots(1, 2, sharey=True)
    _draw_curves(ax1, m, m.curves_by_trial)
    ax1.set_xlabel("trials completed")
    ax1.xaxis.get_major_locator().set_params(integer=True)
    ax1.set_ylabel(_ylabel(m))
    ax1.set_title("best so far by trial (median, IQR band over seeds)")
    real = m.real_run
    xmax = max([c.x[-1] for c in m.curves_by_time if c.x] + ([real.times[-1]] if real is not None and real.times else []),
               default=1.0)
    scale, unit = _time_unit(xmax)
    _draw_curves(ax2, m, m.curves_by_time, scale=scale, step=True)
    if real is not None:
        _draw_real_run(ax1, ax2, m, scale)
    ax2.set_xlabel(f"simulated wall-clock time ({unit})" if real is None or not real.times else
                   f"wall-clock time ({unit}): simulated; real for the {real.label}")
    ax2.set_title("best so far by simulated time")
    if _zoom_on_the_good_end(ax1, m):
        ax1.set_title("best so far by trial (median, IQR band over seeds; zoomed on the good end)")
    ax1.legend(fontsize=8, loc="best")
    return _png(fig)


def _final(m: ReportModel) -> bytes:
    fig = _figure(max(5.0, 1.3 * len(m.variants) + 2), 4.2)
    ax = fig.subplots()
    data = [_transform(m, d.values) for d in m.final_best]
    data = [d[~np.isnan(d)] for d in data]
    colors = _colors(len(data))
    ax.boxplot([d if d.size else [np.nan] for d in data], showfliers=False, widths=0.5)
    rng = np.random.default_rng(0)  # jitter only; fixed so the picture is reproducible
    for i, (d, color) in enumerate(zip(data, colors), start=1):
        ax.scatter(i + rng.uniform(-0.15, 0.15, d.size), d, color=color, s=14, alpha=0.8, zorder=3)
    ax.set_xticks(range(1, len(data) + 1), [d.variant for d in m.final_best], rotation=20, ha="right", fontsize=8)
    if m.optimum is not None and m.regret_axis:
        ax.set_yscale("log")
        _readable_log(ax)
        ax.set_ylabel("final simple regret (log)")
    else:
        ax.set_ylabel(f"final best {m.metric_name}")
    ax.set_title("final best per seed")
    ax.grid(True, axis="y", alpha=0.3)
    return _png(fig)


def exploration_file(index: int, view) -> str:
    """File name of the ``index``-th sweep's figure (a sweep's name may hold ``{value}``)."""
    key = "".join(c if c.isalnum() or c in "._-" else "_" for c in view.key)
    return f"exploration-{index + 1}-{key}.png"


def sweep_ticks(view) -> list[str] | None:
    """The x tick labels of a sweep: exactly its values for an integer setting (parallelTrialCount
    3 vs 6, not 3.5 between them) or a categorical one; None lets matplotlib choose (real values)."""
    xs = [p.value for p in view.points]
    if view.numeric and all(float(x).is_integer() for x in xs):
        return [str(int(x)) for x in xs]
    if not view.numeric:
        return [str(x) for x in xs]
    return None


def _exploration(m: ReportModel, view) -> bytes:
    has_time = any(p.time_to for p in view.points) or any(p.end_time for p in view.points)
    fig = _figure(18 if has_time else 14, 4)
    axes = fig.subplots(1, 4 if has_time else 3)
    ax1, ax2, ax3 = axes[:3]
    xs = [p.value for p in view.points]
    pos = np.asarray(xs, dtype=float) if view.numeric else np.arange(len(xs), dtype=float)
    budgets = [m.variant_info.get(p.variant, {}).get("maxTrialCount") for p in view.points]
    cap = float(max((b for b in budgets if b), default=0) + 1)

    def band(ax, key: str, label: str, capped: bool, *, color: str = "C0", scale: float = 1.0, cap_at: float | None = None,
             legend: str | None = None, style: str = "-", marker: str = "o") -> None:
        summaries = [getattr(p, key) for p in view.points]
        raw = [[s.get(q, math.nan) if s else math.nan for s in summaries] for q in ("median", "q25", "q75")]
        med, lo, hi = (np.asarray([float(x) for x in r], dtype=float) / scale for r in raw)
        top = cap if cap_at is None else cap_at
        if capped:
            # "never" drawn on a line just above the budget, so a sweep point does not vanish
            med, lo, hi = (np.where(np.isinf(a), top, a) for a in (med, lo, hi))
            ax.axhline(top, color="grey", linestyle=":", linewidth=1)
            ax.annotate("never", (0.01, top), xycoords=("axes fraction", "data"), va="bottom", fontsize=8, color="grey")
        med, lo, hi = (np.where(np.isfinite(a), a, np.nan) for a in (med, lo, hi))
        ax.plot(pos, med, marker=marker, color=color, label=legend, linestyle=style)
        ax.fill_between(pos, lo, hi, color=color, alpha=0.2, linewidth=0)
        ax.set_ylabel(f"{label} (median, IQR)")

    band(ax1, "regret", view.quality, False)
    if view.quality == "final-regret":
        q25 = np.asarray([float(p.regret["q25"]) for p in view.points])
        q75 = np.asarray([float(p.regret["q75"]) for p in view.points])
        if np.all(q25 > 0):
            ax1.set_yscale("log")
            _readable_log(ax1)
        elif np.any(q75 > 0):
            ax1.set_yscale("symlog", linthresh=max(1e-9, float(np.nanmin(np.where(q75 > 0, q75, np.nan))) / 10))
            _readable_log(ax1)
    rate = [p.reached / p.runs if p.runs else np.nan for p in view.points]
    ax2.plot(pos, rate, marker="o", color="C2")
    ax2.set_ylim(-0.05, 1.15)
    ax2.set_ylabel("share of seeds")
    for p, x, r in zip(view.points, pos, rate):
        ax2.annotate(f"{p.reached}/{p.runs}", (x, r), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8)
    band(ax3, "converge", "trials-to-converge", True)
    if has_time:
        ax4 = axes[3]
        ends = [float(p.end_time.get("q75", math.nan)) for p in view.points if p.end_time]
        finite = [e for e in ends if math.isfinite(e)] or [1.0]
        scale, unit = _time_unit(max(finite))
        top = max(finite) / scale * 1.08
        # The end first, the target on top: when the goal ends the experiment the two coincide,
        # and the dashed end line still shows under the target's markers.
        band(ax4, "end_time", "simulated time", False, color="C4", scale=scale, legend="to the experiment's end",
             style="--", marker="s")
        if any(p.time_to for p in view.points):
            band(ax4, "time_to", "simulated time", True, color="C1", scale=scale, cap_at=top, legend="to the target")
        ax4.set_ylabel(f"simulated time, {unit} (median, IQR)")
        ax4.legend(fontsize=8, loc="best")
        ax4.set_title("what it buys in time: to the target and to the end", fontsize=10)
    for ax in axes:
        ax.set_xlabel(view.key)
        ax.grid(True, alpha=0.3)
        if view.numeric and len(pos) > 1 and min(pos) > 0 and max(pos) / min(pos) >= 20:
            ax.set_xscale("log")
        labels = sweep_ticks(view)
        if labels is not None:
            ax.set_xticks(pos, labels)
            if ax.get_xscale() == "log":
                from matplotlib.ticker import NullLocator

                ax.xaxis.set_minor_locator(NullLocator())
    reach = "reached the target" if view.speed == "trials-to-target" else "converged"
    ax1.set_title(f"what {view.key} buys: final quality", fontsize=10)
    ax2.set_title(f"seeds that {reach}", fontsize=10)
    ax3.set_title("what it costs: trials until the run settles", fontsize=10)
    return _png(fig)


def _introspection(m: ReportModel) -> bytes:
    intro = m.introspection
    steps = intro.steps
    cols = min(3, len(steps))
    rows = math.ceil(len(steps) / cols)
    fig = _figure(5.2 * cols, 4.6 * rows)
    grid = fig.add_gridspec(2 * rows, cols, height_ratios=[2, 1] * rows)
    for i, step in enumerate(steps):
        r, c = divmod(i, cols)
        ax1 = fig.add_subplot(grid[2 * r, c])
        ax2 = fig.add_subplot(grid[2 * r + 1, c], sharex=ax1)
        g = np.asarray(step.grid)
        mean = np.asarray(step.mean)
        std = np.asarray(step.std)
        if step.truth:
            ax1.plot(g, step.truth, color="black", linewidth=1, label="objective")
        ax1.plot(g, mean, color="C0", label="GP mean")
        ax1.fill_between(g, mean - 1.96 * std, mean + 1.96 * std, color="C0", alpha=0.2, linewidth=0, label="95% band")
        ax1.scatter(step.xs, step.ys, color="C3", zorder=3, s=16, label="observed")
        if step.next_x is not None:
            ax1.axvline(step.next_x, color="C2", linestyle="--", linewidth=1)
            ax2.axvline(step.next_x, color="C2", linestyle="--", linewidth=1)
        ax1.set_title(f"after {step.observed} trials: next {intro.parameter} = {step.next_x:.4g}" if step.next_x is not None else f"after {step.observed} trials", fontsize=9)
        ax2.plot(g, step.acquisition, color="C1")
        ax2.set_ylabel(step.acquisition_name or "acquisition", fontsize=7)
        ax2.set_xlabel(intro.parameter, fontsize=8)
        ax1.tick_params(labelbottom=False, labelsize=7)
        ax2.tick_params(labelsize=7)
        for ax in (ax1, ax2):
            ax.grid(True, alpha=0.3)
        if i == 0:
            ax1.legend(fontsize=7, loc="lower right")
    fig.suptitle(f"{intro.variant}, seed #{intro.seed_index}: the model step by step", fontsize=11)
    return _png(fig)


def _normalized(m: ReportModel) -> bytes:
    fig = _figure(6.5, 4)
    ax = fig.subplots()
    for color, v in zip(_colors(len(m.variants)), m.variants):
        ys = m.normalized.by_trial.get(v, ())
        if ys:
            ax.plot(range(1, len(ys) + 1), ys, color=color, label=v)
    ax.axhline(1.0, color="grey", linestyle=":", linewidth=1)
    ax.set_xlabel("trials completed")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_ylabel("normalised score (0 = best found, 1 = random point)")
    ax.set_title("Bayesmark normalised mean score")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return _png(fig)


def figure_names(m: ReportModel) -> list[str]:
    """The PNG files :func:`render_png` produces for ``m``, in report order."""
    names = ["curves.png", "final-best.png"]
    if m.normalized.by_trial:
        names.append("normalized.png")
    names += _view_names(m)
    names += [exploration_file(i, v) for i, v in enumerate(m.exploration)]
    if m.introspection is not None and m.introspection.steps:
        names.append("model-steps.png")
    return names


def _view_names(m: ReportModel) -> list[str]:
    from katibsim.report.png_views import view_figure_names

    return view_figure_names(m)


def render_png(m: ReportModel) -> dict[str, bytes]:
    """Every figure of the report as PNG bytes, keyed by file name (see :func:`figure_names`)."""
    out = {"curves.png": _curves(m), "final-best.png": _final(m)}
    if m.normalized.by_trial:
        out["normalized.png"] = _normalized(m)
    from katibsim.report.png_views import render_view_pngs

    out.update(render_view_pngs(m))
    for i, v in enumerate(m.exploration):
        out[exploration_file(i, v)] = _exploration(m, v)
    if m.introspection is not None and m.introspection.steps:
        out["model-steps.png"] = _introspection(m)
    return out
