"""The report's statistics on hand-checkable numbers: curves, bands, ranks, Bayesmark's score, paired tests."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats as sst

from katibsim.report import stats


def nan_eq(a, b):
    return len(a) == len(b) and all((math.isnan(x) and math.isnan(y)) or x == pytest.approx(y) for x, y in zip(a, b))


def test_best_so_far_skips_missing_values():
    assert nan_eq(stats.best_so_far([None, 1.0, 0.5, 2.0, None], maximize=True), [math.nan, 1, 1, 2, 2])
    assert nan_eq(stats.best_so_far([3.0, math.nan, 1.0, 2.0], maximize=False), [3, 3, 1, 1])


@given(st.lists(st.one_of(st.none(), st.floats(-1e6, 1e6)), max_size=30), st.booleans())
def test_best_so_far_is_monotone_and_attained(values, maximize):
    curve = stats.best_so_far(values, maximize=maximize)
    finite = [c for c in curve if not math.isnan(c)]
    for a, b in zip(finite, finite[1:]):
        assert (b >= a) if maximize else (b <= a)
    for c in finite:
        assert c in values


def test_forward_fill_repeats_last_point():
    assert stats.forward_fill([1.0, 2.0], 4) == [1, 2, 2, 2]
    assert stats.forward_fill([1.0, 2.0, 3.0], 2) == [1, 2]


def test_step_at_is_right_continuous():
    out = stats.step_at([10.0, 20.0, 20.0], [1.0, 2.0, 3.0], [0, 10, 15, 20, 99])
    assert nan_eq(out, [math.nan, 1, 1, 3, 3])


def test_band_median_and_iqr_by_hand():
    rows = [[1.0, 4.0], [2.0, 5.0], [3.0, 6.0], [4.0, 7.0], [5.0, 8.0]]
    b = stats.band(rows, maximize=True)
    assert b.median == (3.0, 6.0)
    assert b.q25 == (2.0, 5.0)
    assert b.q75 == (4.0, 7.0)


def test_band_median_undefined_until_half_the_seeds_have_a_value():
    rows = [[math.nan, 1.0], [math.nan, 2.0], [5.0, 5.0]]
    b = stats.band(rows, maximize=True)
    assert math.isnan(b.median[0])  # 2 of 3 seeds have nothing yet
    assert b.median[1] == 2.0


def test_ranks_with_ties_share_the_average():
    rows = [[0.1, 0.2, 0.3], [0.5, 0.5, 0.1]]
    assert stats.rank_rows(rows) == [[1, 2, 3], [2.5, 2.5, 1]]
    assert stats.average_ranks(rows) == [1.75, 2.25, 2.0]


def test_normalized_mean_perf_is_bayesmark():
    # opt 0, clip 10: losses 1, 3 and a crash (20, clipped to 10) -> mean 14/3 -> 0.4667
    assert stats.normalized_mean_perf([1.0, 3.0, 20.0], opt=0.0, clip=10.0) == pytest.approx(14 / 30)
    assert stats.normalized_mean_perf([0.0, 0.0], opt=0.0, clip=10.0) == 0.0
    assert math.isnan(stats.normalized_mean_perf([1.0], opt=1.0, clip=1.0))


def test_wilcoxon_matches_scipy_on_the_differences():
    a = [1.0, 2.0, 3.0, 1.5, 0.5, 2.5]
    b = [2.0, 4.5, 3.5, 4.0, 3.0, 2.7]
    res = stats.paired_test(a, b, test="wilcoxon")
    want = sst.wilcoxon([y - x for x, y in zip(a, b)], alternative="greater")
    assert res.p_value == pytest.approx(want.pvalue)
    assert res.statistic == pytest.approx(want.statistic)
    assert (res.wins, res.ties, res.losses) == (6, 0, 0)
    assert res.p_value == pytest.approx(1 / 64)  # exact: all six signs positive


def test_sign_test_counts_wins_among_non_ties():
    a = [1, 1, 1, 1, 1, 5, 3]
    b = [2, 2, 2, 2, 2, 4, 3]
    res = stats.paired_test(a, b, test="sign")
    assert (res.wins, res.ties, res.losses) == (5, 1, 1)
    assert res.p_value == pytest.approx(sst.binomtest(5, 6, 0.5, alternative="greater").pvalue)


def test_unreached_is_worse_than_any_reached_and_ties_with_unreached():
    res = stats.paired_test([3.0, math.inf, math.inf], [math.inf, 5.0, math.inf], test="sign")
    assert (res.wins, res.ties, res.losses) == (1, 1, 1)


def test_all_ties_give_no_evidence():
    res = stats.paired_test([1.0, 2.0], [1.0, 2.0])
    assert res.p_value == 1.0 and res.ties == 2


def test_summary_counts_infinite_apart():
    s = stats.summary([1.0, 2.0, 3.0, math.inf])
    assert s["n"] == 4 and s["n_infinite"] == 1 and s["median"] == 2.0 and s["mean"] == 2.0
    assert stats.summary([1.0, math.inf, math.inf])["median"] == math.inf
