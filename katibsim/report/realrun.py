"""The real run of a what-if comparison as report data: its best-so-far by trial and by time (pure; no I/O).

A what-if scenario (``what_if:`` in ``docs/scenarios.md``) simulates variants of an experiment
that really ran; the report draws that run beside the simulated ones. :func:`real_run` reduces
the run's :class:`~katibsim.workload.table.TrialTable` to what the figures and tables need, in
the order the real results arrived: trials that ended, sorted by their end time (the table's own
order when the source has no times), a trial without a usable value counting as a trial without
a value (as a failed simulated trial does). Times are seconds after the first trial was created,
the same origin the simulated clock has, so both share the time axis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

from katibsim.report import stats
from katibsim.workload.table import ObservedTrial, TrialTable

__all__ = ["REAL_RUN_LABEL", "RealRun", "extrapolation_by_variant", "extrapolation_share", "real_run"]

REAL_RUN_LABEL = "real run"


@dataclass(frozen=True)
class RealRun:
    """The real run, as drawn: ``values`` (nan for a trial without a value) and ``best`` in the
    order results arrived; ``times`` their end times (empty when the source has none); counts
    and the setup the run had (None when the source did not say)."""

    label: str
    source: str
    maximize: bool
    names: tuple[str, ...]
    values: tuple[float, ...]
    best: tuple[float, ...]
    times: tuple[float, ...]
    trials: int  # every trial of the table, unfinished ones included
    usable: int
    algorithm: str | None = None
    parallel_trial_count: int | None = None
    max_trial_count: int | None = None

    @property
    def final_best(self) -> float:
        finite = [b for b in self.best if not math.isnan(b)]
        return finite[-1] if finite else math.nan

    @property
    def found_at(self) -> int | None:
        """The 1-based position (in arrival order) of the first trial holding the final best."""
        final = self.final_best
        if math.isnan(final):
            return None
        return next(i for i, b in enumerate(self.best, start=1) if b == final)

    @property
    def end_time(self) -> float | None:
        return self.times[-1] if self.times else None


def _arrival_order(trials: Sequence[ObservedTrial]) -> list[ObservedTrial]:
    timed = all(t.ended is not None for t in trials if t.usable) and any(t.ended is not None for t in trials)
    if not timed:
        # No times: the table's order (creation order for every reader), unfinished ones left out.
        return [t for t in trials if t.usable or t.status not in ("Running", "Created", "Pending")]
    done = [(t.ended, i, t) for i, t in enumerate(trials) if t.ended is not None]
    return [t for *_, t in sorted(done, key=lambda e: (e[0], e[1]))]


def real_run(table: TrialTable, *, maximize: bool | None = None, label: str = REAL_RUN_LABEL) -> RealRun:
    """The real run of ``table``; ``maximize`` defaults to the table's direction (maximize when unknown)."""
    if maximize is None:
        maximize = table.direction != "minimize"
    done = _arrival_order(table.trials)
    values = tuple(float(t.value) if t.usable and t.value is not None and math.isfinite(t.value) else math.nan for t in done)
    best = tuple(float(b) for b in stats.best_so_far([None if math.isnan(v) else v for v in values], maximize=maximize))
    timed = all(t.ended is not None for t in done) and bool(done)
    return RealRun(
        label=label,
        source=table.source,
        maximize=maximize,
        names=tuple(t.name for t in done),
        values=values,
        best=best,
        times=tuple(float(t.ended) for t in done) if timed else (),  # type: ignore[arg-type]
        trials=len(table.trials),
        usable=len(table.usable),
        algorithm=table.algorithm_name,
        parallel_trial_count=table.parallel_trial_count,
        max_trial_count=table.max_trial_count,
    )


def extrapolation_share(extrapolated: Sequence[int], trials: Sequence[int]) -> tuple[int, int, float]:
    """(extrapolated trials, trials, percent) over a variant's runs; 0% without trials."""
    n = int(sum(trials))
    k = int(sum(extrapolated))
    return k, n, (100.0 * k / n if n else 0.0)


def extrapolation_by_variant(runs: Mapping[str, Sequence[object]]) -> dict[str, tuple[int, int, float]]:
    """Per variant: (trials suggested outside the data's region, trials created, percent), from
    each run's ``extrapolated`` count (the run JSON's ``extrapolated_trials``; absent = 0)."""
    out = {}
    for v, rs in runs.items():
        out[v] = extrapolation_share([int(getattr(r, "extrapolated", 0) or 0) for r in rs],
                                     [len(getattr(r, "trials", ())) for r in rs])
    return out
