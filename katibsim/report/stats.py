"""Pure statistics for comparison reports: best-so-far curves, bands over seeds, ranks, paired tests.

Every function here takes plain numbers and returns plain numbers (or small frozen dataclasses),
so the report model can be checked by hand on tiny inputs. Conventions: a "loss" is a value where
lower is better (a maximised objective is negated before it gets here); ``nan`` means "no value
yet" in a curve.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import stats as _st

__all__ = [
    "Band",
    "PairedTest",
    "average_ranks",
    "band",
    "best_so_far",
    "forward_fill",
    "normalized_mean_perf",
    "paired_test",
    "rank_rows",
    "step_at",
    "summary",
]


def best_so_far(values: Sequence[float | None], *, maximize: bool) -> list[float]:
    """Running best of ``values`` in order; ``None``/``nan`` entries (failed trials) keep the previous best.

    Before the first finite value the curve is ``nan``.
    """
    out: list[float] = []
    best = math.nan
    for v in values:
        if v is not None and math.isfinite(v):
            if math.isnan(best) or (v > best if maximize else v < best):
                best = float(v)
        out.append(best)
    return out


def forward_fill(curve: Sequence[float], length: int) -> list[float]:
    """Extend ``curve`` to ``length`` points by repeating its last point (a run that ended early,
    e.g. on its goal, keeps its best: Syne Tune's ``fill_trajectory``). Longer curves are cut."""
    c = list(curve[:length])
    if not c:
        return [math.nan] * length
    return c + [c[-1]] * (length - len(c))


def step_at(times: Sequence[float], values: Sequence[float], grid: Sequence[float]) -> list[float]:
    """Sample the right-continuous step function ``(times[i] -> values[i])`` at each grid point.

    ``times`` must be non-decreasing; before ``times[0]`` the function is ``nan``. At a tie the
    last value at that time wins (a completion at t is known at t).
    """
    t = np.asarray(times, dtype=float)
    v = np.asarray(values, dtype=float)
    g = np.asarray(grid, dtype=float)
    if t.size == 0:
        return [math.nan] * g.size
    idx = np.searchsorted(t, g, side="right") - 1
    out = np.where(idx >= 0, v[np.clip(idx, 0, None)], np.nan)
    return [float(x) for x in out]


@dataclass(frozen=True)
class Band:
    """Median with an inter-quartile band at each x (``nan`` where fewer than half the seeds have a value)."""

    median: tuple[float, ...]
    q25: tuple[float, ...]
    q75: tuple[float, ...]


def band(rows: Sequence[Sequence[float]], *, maximize: bool) -> Band:
    """Median and IQR over seeds (rows) at each column.

    A missing value (``nan``: that seed has no result yet) counts as the *worst* possible value,
    so the median is defined only once more than half of the seeds have one; quantiles that
    land on a missing value are reported as ``nan`` rather than invented.
    """
    a = np.asarray(rows, dtype=float)
    if a.ndim != 2 or a.shape[0] == 0:
        return Band((), (), ())
    worst = -np.inf if maximize else np.inf
    filled = np.where(np.isnan(a), worst, a)
    # "lower"/"higher"-free: linear interpolation with an infinite neighbour gives inf -> nan below.
    with np.errstate(invalid="ignore"):
        q = np.quantile(filled, [0.5, 0.25, 0.75], axis=0)
    q = np.where(np.isfinite(q), q, np.nan)
    return Band(tuple(map(float, q[0])), tuple(map(float, q[1])), tuple(map(float, q[2])))


def summary(values: Sequence[float]) -> dict[str, float]:
    """n, mean, sd, min, q25, median, q75, max of ``values``.

    Infinite values ("never reached") take part in the quantiles, min and max -- a median of
    trials-to-target is "never" when most seeds never got there -- but not in mean and sd,
    which are over the finite values; ``n_infinite`` counts them. ``nan`` entries are dropped.
    """
    a = np.asarray(values, dtype=float)
    a = a[~np.isnan(a)]
    finite = a[np.isfinite(a)]
    out: dict[str, float] = {"n": float(a.size), "n_infinite": float(a.size - finite.size)}
    if a.size == 0:
        for k in ("mean", "sd", "min", "q25", "median", "q75", "max"):
            out[k] = math.nan
        return out
    out["mean"] = float(finite.mean()) if finite.size else math.nan
    out["sd"] = float(finite.std(ddof=1)) if finite.size > 1 else 0.0
    out["min"] = float(a.min())
    # With infinities, interpolation is meaningless; pick actual order statistics instead.
    method = "linear" if finite.size == a.size else "inverted_cdf"
    out["q25"], out["median"], out["q75"] = (float(x) for x in np.quantile(a, [0.25, 0.5, 0.75], method=method))
    out["max"] = float(a.max())
    return out


def rank_rows(rows: Sequence[Sequence[float]]) -> list[list[float]]:
    """Rank the entries of each row (a seed) among themselves: 1 = lowest loss; ties share the average rank."""
    return [[float(r) for r in _st.rankdata(np.asarray(row, dtype=float), method="average")] for row in rows]


def average_ranks(rows: Sequence[Sequence[float]]) -> list[float]:
    """Mean rank of each column (a variant) over the rows (seeds); see :func:`rank_rows`."""
    ranked = rank_rows(rows)
    if not ranked:
        return []
    return [float(x) for x in np.mean(np.asarray(ranked), axis=0)]


def normalized_mean_perf(
    losses: Sequence[float], *, opt: float, clip: float
) -> float:
    """Bayesmark's norm-mean-perf of one method at one budget (``docs/reports.md#bayesmark-score``).

    ``losses`` are the best-so-far losses S of the repeats; each is clipped at ``clip`` (the
    median of a single random evaluation) so a crash cannot dominate, then
    ``(mean(min(S, clip)) - opt) / (clip - opt)``: 0 at the optimum, 1 at a typical random point.
    """
    a = np.asarray(losses, dtype=float)
    if a.size == 0 or not clip > opt:
        return math.nan
    a = np.where(np.isnan(a), clip, np.minimum(a, clip))
    return float((a.mean() - opt) / (clip - opt))


@dataclass(frozen=True)
class PairedTest:
    """Outcome of a one-sided paired test that A is better (lower loss) than B."""

    test: str  # "wilcoxon" | "sign"
    n: int  # pairs
    wins: int  # A strictly better
    ties: int
    losses: int  # A strictly worse
    statistic: float
    p_value: float
    median_difference: float  # median of loss(B) - loss(A): > 0 when A is better

    def to_dict(self) -> dict[str, float | int | str]:
        return dict(self.__dict__)


def paired_test(loss_a: Sequence[float], loss_b: Sequence[float], *, test: str = "wilcoxon") -> PairedTest:
    """One-sided paired test of "A has lower loss than B" over matched seeds.

    Infinite losses (a target never reached) are replaced by one more than the largest finite
    loss of either sample: worse than every reached value, and two unreached runs tie.
    ``wilcoxon``: ``scipy.stats.wilcoxon`` on d = B - A, alternative "greater", zeros dropped
    (Wilcoxon's own treatment); ``sign``: ``scipy.stats.binomtest`` on the wins among non-ties.
    When every pair ties the p-value is 1 (no evidence either way).
    """
    a = np.asarray(loss_a, dtype=float)
    b = np.asarray(loss_b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired samples differ in length: {a.size} and {b.size}")
    both = np.concatenate([a, b])
    finite = both[np.isfinite(both)]
    penalty = (float(finite.max()) if finite.size else 0.0) + 1.0
    a = np.where(np.isinf(a) & (a > 0), penalty, a)
    b = np.where(np.isinf(b) & (b > 0), penalty, b)
    d = b - a
    wins = int(np.sum(d > 0))
    losses = int(np.sum(d < 0))
    ties = int(d.size - wins - losses)
    med = float(np.median(d)) if d.size else math.nan
    if wins + losses == 0:
        return PairedTest(test, int(d.size), wins, ties, losses, 0.0, 1.0, med)
    if test == "wilcoxon":
        res = _st.wilcoxon(d, alternative="greater", zero_method="wilcox")
        return PairedTest(test, int(d.size), wins, ties, losses, float(res.statistic), float(res.pvalue), med)
    if test == "sign":
        res = _st.binomtest(wins, wins + losses, 0.5, alternative="greater")
        return PairedTest(test, int(d.size), wins, ties, losses, float(wins), float(res.pvalue), med)
    raise ValueError(f"unknown paired test {test!r} (wilcoxon, sign)")
