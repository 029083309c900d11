"""What the report's PNG modules share: an Agg figure, its deterministic PNG bytes, colours, the
regret transform of the curves' axis and plain log ticks (matplotlib, no pyplot, no global state)."""

from __future__ import annotations

import io
import warnings
from typing import Sequence

import numpy as np

from katibsim.report.model import ReportModel

REGRET_FLOOR = 1e-9  # a regret of 0 cannot be drawn on a log axis

REAL_RUN_STYLE = {"color": "black", "linestyle": (0, (5, 2)), "linewidth": 2.0, "zorder": 4}


def real_run_legend(real) -> str:
    """The legend entry of the real run: what it was and how many trials it had."""
    setup = ", ".join(x for x in (real.algorithm, f"parallel {real.parallel_trial_count}" if real.parallel_trial_count else None) if x)
    return f"{real.label}{f' ({setup})' if setup else ''}, {len(real.values)} trials"


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png(fig) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        # Layout hints (a long legend, a tight panel) are not the reader's problem.
        warnings.simplefilter("ignore", UserWarning)
        # No timestamps or software strings in the metadata: the same model gives the same bytes.
        fig.savefig(buf, format="png", metadata={"Software": None})
    return buf.getvalue()


def _colors(n: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["tab10"]
    return [cmap(i % 10) for i in range(n)]


def _transform(m: ReportModel, ys: Sequence[float]) -> np.ndarray:
    """Values as drawn: simple regret (log axis) when the optimum is known, else the value itself."""
    a = np.asarray(ys, dtype=float)
    if m.optimum is None or not m.regret_axis:
        return a
    r = (m.optimum - a) if m.maximize else (a - m.optimum)
    return np.where(np.isnan(r), np.nan, np.maximum(r, REGRET_FLOOR))


def _readable_log(ax, axis: str = "y") -> None:
    """Plain numbers (0.01, 0.1, 1) on a log or symlog axis, not 10^-2 where space allows."""
    from matplotlib.ticker import FuncFormatter

    fmt = FuncFormatter(lambda v, _pos: f"{v:.3g}")
    which = ax.yaxis if axis == "y" else ax.xaxis
    which.set_major_formatter(fmt)
    lo, hi = ax.get_ylim() if axis == "y" else ax.get_xlim()
    if lo > 0 and hi / lo < 100:
        # less than two decades: some minor ticks carry labels (2 and 5 of each decade), plain too
        def minor(v: float, _pos: int) -> str:
            lead = f"{v:.0e}"[0] if v > 0 else ""
            return f"{v:.3g}" if lead in ("2", "5") else ""

        which.set_minor_formatter(FuncFormatter(minor))
    else:
        from matplotlib.ticker import NullFormatter

        which.set_minor_formatter(NullFormatter())
