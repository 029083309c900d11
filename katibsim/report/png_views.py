"""PNG figures of the per-variant views (:mod:`katibsim.report.views`): history, importances, slice, parallel coordinates.

One figure per view with one panel (or row of panels) per variant, so a scenario with many
variants still has four files; drawn with matplotlib's Agg canvas like :mod:`katibsim.report.png`.
"""

from __future__ import annotations

import math

import numpy as np

from katibsim.report.model import ReportModel
from katibsim.report.png_common import REAL_RUN_STYLE, REGRET_FLOOR, _colors, _figure, _png, _readable_log, _transform
from katibsim.report.views import RunViews, TrialCloud

__all__ = ["view_figure_names", "render_view_pngs"]

MAX_SLICE_PARAMETERS = 8  # the most important ones when there are more
MAX_PARALLEL_LINES = 600  # the best trials are always drawn; the rest are a fixed sample


def _grid(n: int, cols: int = 3) -> tuple[int, int]:
    cols = max(1, min(cols, n))
    return math.ceil(n / cols), cols


def _direction(m: ReportModel) -> str:
    return "higher is better" if m.maximize else "lower is better"


def _history(m: ReportModel, views: RunViews) -> bytes:
    rows, cols = _grid(len(views.history))
    fig = _figure(4.6 * cols, 3.4 * rows)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    regret = m.optimum is not None and m.regret_axis
    for ax, h, color in zip(axes, views.history, _colors(len(views.history))):
        x = np.asarray(h.numbers, dtype=float)
        # On the curves' scale: simple regret on a log axis when the optimum is known (one bad
        # trial would otherwise squash the best-so-far line onto the axis), else the value.
        y = _transform(m, h.values)
        ok = ~np.isnan(y)
        ax.scatter(x[ok], y[ok], s=12, color=color, alpha=0.7, label="trial value", zorder=2)
        if (~ok).any():
            # Failed trials have no value: ticks along the bottom edge say where they fell.
            ax.plot(x[~ok], np.zeros(int((~ok).sum())), "|", color="grey", transform=ax.get_xaxis_transform(),
                    markersize=8, label="no value (failed)")
        ax.step(x, _transform(m, h.best), where="post", color="C3", linewidth=1.6, label="best so far", zorder=3)
        real = m.real_run
        if real is not None and real.best:
            ax.step(np.arange(1, len(real.best) + 1, dtype=float), _transform(m, real.best), where="post",
                    label=f"{real.label}: best so far", **{**REAL_RUN_STYLE, "linewidth": 1.4})
        if m.target is not None:
            ax.axhline(float(_transform(m, [m.target])[0]), color="grey", linestyle=":", linewidth=1)
        if regret:
            ax.set_yscale("log")
            ax.set_ylim(bottom=max(REGRET_FLOOR, float(np.nanmin(y[ok])) / 2) if ok.any() else None)
            _readable_log(ax)
        ax.set_title(f"{h.variant}: seed #{h.seed_index} ({h.chosen})", fontsize=9)
        ax.set_xlabel("trial (order results arrived)", fontsize=8)
        ax.set_ylabel(f"regret of {m.metric_name} (log)" if regret else m.metric_name, fontsize=8)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.tick_params(labelsize=7)
        ax.grid(True, alpha=0.3)
    for ax in axes[len(views.history):]:
        ax.set_visible(False)
    axes[0].legend(fontsize=7, loc="best")
    what = f"simple regret, optimum {m.optimum:.6g} − value" if regret else f"{m.metric_name}, {_direction(m)}"
    fig.suptitle(f"optimisation history of one run per variant ({what})", fontsize=11)
    return _png(fig)


def _importance(m: ReportModel, views: RunViews) -> bytes:
    imps = [i for i in views.importances if i.parameters]
    rows, cols = _grid(len(imps))
    height = max(2.4, 0.35 * max(len(i.parameters) for i in imps) + 1.4)
    fig = _figure(4.6 * cols, height * rows)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax, imp, color in zip(axes, imps, _colors(len(imps))):
        mean = np.asarray(imp.mean, dtype=float)
        if np.all(np.isnan(mean)):
            ax.text(0.5, 0.5, imp.note or "not computed", ha="center", va="center", fontsize=8, wrap=True, transform=ax.transAxes)
            ax.set_axis_off()
        else:
            pos = np.arange(len(imp.parameters))[::-1]
            ax.barh(pos, np.nan_to_num(mean), xerr=np.nan_to_num(np.asarray(imp.std, dtype=float)), color=color, alpha=0.8)
            ax.set_yticks(pos, list(imp.parameters), fontsize=8)
            ax.axvline(0, color="black", linewidth=0.8)
            ax.set_xlabel("drop in R² when shuffled", fontsize=8)
            ax.grid(True, axis="x", alpha=0.3)
            ax.tick_params(axis="x", labelsize=7)
        ax.set_title(f"{imp.variant} ({imp.trials} trials)", fontsize=9)
    for ax in axes[len(imps):]:
        ax.set_visible(False)
    fig.suptitle("parameter importance (permutation importance of a random forest)", fontsize=11)
    return _png(fig)


def _slice_parameters(views: RunViews, cloud: TrialCloud) -> list[int]:
    names = [p.name for p in cloud.parameters]
    if len(names) <= MAX_SLICE_PARAMETERS:
        return list(range(len(names)))
    imp = next((i for i in views.importances if i.variant == cloud.variant), None)
    ranked = [names.index(p) for p in imp.parameters] if imp else list(range(len(names)))
    return sorted(ranked[:MAX_SLICE_PARAMETERS])


def _slice(m: ReportModel, views: RunViews) -> bytes:
    clouds = list(views.clouds)
    cols = max(1, max(len(_slice_parameters(views, c)) for c in clouds))
    fig = _figure(max(6.0, 3.2 * cols + 1.2), 2.8 * len(clouds) + 0.6)
    grid = fig.subplots(len(clouds), cols, squeeze=False)
    rng = np.random.default_rng(0)  # jitter of categories only; fixed for reproducible bytes
    for row, cloud in zip(grid, clouds):
        y = np.asarray(cloud.objective, dtype=float)
        order = np.asarray(cloud.order, dtype=float)
        picked = _slice_parameters(views, cloud)
        sc = None
        for ax, k in zip(row, picked):
            p = cloud.parameters[k]
            x = np.asarray(p.values, dtype=float)
            if not p.numeric:
                x = x + rng.uniform(-0.15, 0.15, x.size)
                ax.set_xticks(range(len(p.categories)), list(p.categories), fontsize=7, rotation=20)
            elif x.size and x.min() > 0 and x.max() / x.min() >= 100:
                ax.set_xscale("log")
            sc = ax.scatter(x, y, c=order, cmap="viridis", s=10, alpha=0.75, linewidths=0)
            ax.set_xlabel(p.name, fontsize=8)
            ax.tick_params(labelsize=7)
            ax.grid(True, alpha=0.3)
        row[0].set_ylabel(f"{cloud.variant}\n{m.metric_name}", fontsize=8)
        for ax in row[len(picked):]:
            ax.set_visible(False)
        if not picked:
            row[0].set_visible(True)
            row[0].text(0.5, 0.5, "no parameters", ha="center", va="center", transform=row[0].transAxes)
        if sc is not None:
            bar = fig.colorbar(sc, ax=list(row[: max(1, len(picked))]), pad=0.01, aspect=25)
            bar.set_label("trial (in its run)", fontsize=7)
            bar.ax.tick_params(labelsize=7)
    fig.suptitle(f"slice: every completed trial of every seed, {m.metric_name} against each parameter", fontsize=11)
    return _png(fig)


def _parallel(m: ReportModel, views: RunViews) -> bytes:
    from matplotlib import colormaps
    from matplotlib.collections import LineCollection
    from matplotlib.colors import Normalize

    clouds = list(views.clouds)
    width = max(6.0, 1.6 * (max(len(c.parameters) for c in clouds) + 1) + 2)
    fig = _figure(width, 3.0 * len(clouds) + 0.6)
    axes = fig.subplots(len(clouds), 1, squeeze=False)[:, 0]
    cmap = colormaps["viridis"]
    for ax, cloud in zip(axes, clouds):
        y = np.asarray(cloud.objective, dtype=float)
        cols = [np.asarray(p.values, dtype=float) for p in cloud.parameters] + [y]
        labels = [p.name for p in cloud.parameters] + [m.metric_name]
        scaled = []
        ticks = []
        for p, col in zip(list(cloud.parameters) + [None], cols):
            lo, hi = (float(col.min()), float(col.max())) if col.size else (0.0, 1.0)
            span = hi - lo or 1.0
            scaled.append((col - lo) / span if col.size else col)
            if p is not None and not p.numeric:
                ticks.append(", ".join(p.categories[:4]) + ("…" if len(p.categories) > 4 else ""))
            else:
                ticks.append(f"{lo:.3g} … {hi:.3g}")
        pts = np.column_stack(scaled) if cols and y.size else np.zeros((0, len(cols)))
        loss = -y if m.maximize else y
        idx = np.argsort(-loss, kind="stable")  # worst first, so the best lines are drawn on top
        if idx.size > MAX_PARALLEL_LINES:
            best = idx[-MAX_PARALLEL_LINES // 3:]
            rest = np.random.default_rng(0).choice(idx[: -MAX_PARALLEL_LINES // 3], MAX_PARALLEL_LINES - best.size, replace=False)
            idx = np.concatenate([np.sort(rest), best])
            idx = idx[np.argsort(-loss[idx], kind="stable")]
        xs = np.arange(len(cols), dtype=float)
        segs = [np.column_stack([xs, pts[i]]) for i in idx]
        # Colour by rank, not by value: one huge value would otherwise paint every other line alike.
        from scipy.stats import rankdata

        share = 1.0 - (rankdata(loss) - 1) / max(1, y.size - 1) if y.size else y  # 1 = the best trial
        norm = Normalize(0.0, 1.0)
        lc = LineCollection(segs, colors=cmap(share[idx]) if y.size else None, linewidths=0.8, alpha=0.6)
        ax.add_collection(lc)
        for x in xs:
            ax.axvline(x, color="black", linewidth=0.8)
        ax.set_xlim(-0.1, len(cols) - 0.9)
        ax.set_ylim(-0.05, 1.05)
        ax.set_xticks(xs, [f"{label}\n{t}" for label, t in zip(labels, ticks)], fontsize=7)
        ax.set_yticks([0, 1], ["min", "max"], fontsize=7)
        ax.set_title(f"{cloud.variant}: {len(y)} trials", fontsize=9)
        from matplotlib.cm import ScalarMappable

        bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, pad=0.01, aspect=20)
        bar.set_label(f"share of trials it beats on {m.metric_name} (1 = best)", fontsize=7)
        bar.ax.tick_params(labelsize=7)
    fig.suptitle("parallel coordinates: one line per trial; axes min…max; colour by rank, bright = better", fontsize=10)
    return _png(fig)


def view_figure_names(m: ReportModel) -> list[str]:
    """The files :func:`render_view_pngs` produces for ``m`` (empty when the model has no views)."""
    v = m.views
    if v is None or not v.clouds:
        return []
    names = ["history.png"]
    if any(i.parameters for i in v.importances):
        names.append("importance.png")
    if any(c.parameters and c.objective for c in v.clouds):
        names += ["slice.png", "parallel.png"]
    return names


def render_view_pngs(m: ReportModel) -> dict[str, bytes]:
    names = view_figure_names(m)
    draw = {"history.png": _history, "importance.png": _importance, "slice.png": _slice, "parallel.png": _parallel}
    return {n: draw[n](m, m.views) for n in names}
