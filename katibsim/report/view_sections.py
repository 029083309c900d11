"""The report's "Where the trials went" section: the per-variant views as renderer-neutral blocks.

Text and tables carry the numbers (so the Markdown report says as much as it can without
images): the importance ranking, and the history of the run each variant's figure shows.
"""

from __future__ import annotations

import math
from typing import Any

from katibsim.report.format import num
from katibsim.report.model import ReportModel
from katibsim.report.png_views import view_figure_names
from katibsim.report.views import IMPORTANCE_METHOD

__all__ = ["view_blocks"]


def _history_row(h) -> tuple[str, ...]:
    vals = [v for v in h.best if not math.isnan(v)]
    final = vals[-1] if vals else math.nan
    first = next((i for i, b in zip(h.numbers, h.best) if b == final), None)
    failed = sum(1 for v in h.values if math.isnan(v))
    return (h.variant, f"#{h.seed_index} ({h.seed})", h.chosen, str(len(h.numbers)), num(final, 5), num(first), str(failed))


def _real_history_row(m: ReportModel) -> tuple[tuple[str, ...], ...]:
    real = m.real_run
    if real is None:
        return ()
    failed = sum(1 for x in real.values if math.isnan(x))
    return ((real.label, "–", "drawn as a dashed line in every panel", str(len(real.values)), num(real.final_best, 5),
             num(real.found_at), str(failed)),)


def view_blocks(m: ReportModel) -> list[Any]:
    from katibsim.report.blocks import Heading, Image, Para, Table

    v = m.views
    names = set(view_figure_names(m))
    if v is None or not names:
        return []
    out: list[Any] = [Heading(2, "Where the trials went")]
    out.append(
        Para(
            "One run per variant (the median run by final best) with every trial as a point and the best-so-far "
            "line; then, over every completed trial of every seed, which parameters mattered, where the trials "
            "landed for each parameter (slice) and how the parameters combine (parallel coordinates)."
        )
    )
    out.append(
        Table(
            ("variant", "run shown", "why", "trials", f"final best {m.metric_name}", "found at trial", "trials without a value"),
            tuple(_history_row(h) for h in v.history) + _real_history_row(m),
        )
    )
    out.append(Image("history.png", "optimisation history of one run per variant"))
    if "importance.png" in names:
        out.append(Heading(3, "Parameter importance"))
        out.append(Para(f"Method: {IMPORTANCE_METHOD}. Near 0 = the objective does not depend on it here; "
                        "the ranking describes these trials, not the whole space."))
        rows = []
        for imp in v.importances:
            if not imp.parameters:
                continue
            if all(math.isnan(x) for x in imp.mean):
                rows.append((imp.variant, str(imp.trials), imp.note or "–"))
            else:
                rows.append((imp.variant, str(imp.trials),
                             ", ".join(f"{p} {num(mu, 2)} ± {num(sd, 1)}" for p, mu, sd in zip(imp.parameters, imp.mean, imp.std))
                             + (f" ({imp.note})" if imp.note else "")))
        out.append(Table(("variant", "trials", "parameters, most important first (drop in R² ± sd)"), tuple(rows)))
        out.append(Image("importance.png", "parameter importance per variant"))
    if "slice.png" in names:
        out.append(Heading(3, "Slice and parallel coordinates"))
        out.append(Para("Each point or line is one completed trial; colour is the trial's place in its run (slice) or its "
                        f"rank on {m.metric_name} (parallel coordinates: the share of the trials it beats, bright = better)."))
        out.append(Image("slice.png", "objective against each parameter, per variant"))
        out.append(Image("parallel.png", "parallel coordinates of the trials, per variant"))
    return out
