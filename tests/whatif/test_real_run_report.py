"""The real run of a what-if comparison in the report: its order, its curves, its section and figures."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from katibsim.assertions import evaluate_all
from katibsim.report.build import build_report
from katibsim.report.markdown import render_markdown
from katibsim.report.model import Provenance
from katibsim.report.png import render_png
from katibsim.report.realrun import real_run
from katibsim.report.rundata import RunData
from katibsim.scenario import scenario_from_dict

from experiment_helpers import minimal_experiment
from rundata_helpers import make_run
from whatif_helpers import table, timed_table, trial

PROV = Provenance("0.1.0", "3.11", {}, {}, "s.yaml", "abc", None, "from-trials", 0, (1, 2), "")


def test_arrival_order_is_by_end_time_not_creation():
    # t1 was created first but ended last: the real run learned its value last.
    t = table([trial(0, 0.5, created=0, ended=30), trial(1, 0.9, created=1, ended=10), trial(2, 0.7, created=2, ended=20)])
    r = real_run(t)
    assert r.names == ("t1", "t2", "t0")
    assert r.values == (0.9, 0.7, 0.5)
    assert r.best == (0.9, 0.9, 0.9)
    assert r.times == (10.0, 20.0, 30.0)
    assert r.found_at == 1 and r.final_best == 0.9 and r.end_time == 30.0


def test_minimize_failed_and_running_trials():
    t = table([trial(0, 0.5, created=0, ended=5), trial(1, None, created=0, ended=6, status="Failed"),
               trial(2, 0.2, created=6, ended=9), trial(3, None, created=9, status="Running")], direction="minimize")
    r = real_run(t)
    assert r.maximize is False
    assert r.names == ("t0", "t1", "t2")  # the running one has no result yet
    assert math.isnan(r.values[1])
    assert r.best == (0.5, 0.5, 0.2)
    assert (r.trials, r.usable) == (4, 2)


def test_without_times_the_table_order_and_no_time_axis():
    t = table([trial(0, 0.3), trial(1, 0.1), trial(2, 0.6)])
    r = real_run(t)
    assert r.names == ("t0", "t1", "t2") and r.times == () and r.end_time is None
    assert r.best == (0.3, 0.3, 0.6)


@given(st.lists(st.one_of(st.none(), st.floats(-10, 10)), min_size=1, max_size=30), st.booleans())
def test_best_so_far_is_monotone_and_reaches_the_best_value(values, maximize):
    r = real_run(timed_table(values), maximize=maximize)
    finite = [v for v in values if v is not None]
    best = [b for b in r.best if not math.isnan(b)]
    assert len(r.values) == len(values)
    for a, b in zip(best, best[1:]):
        assert (b >= a) if maximize else (b <= a)
    if finite:
        assert r.final_best == (max(finite) if maximize else min(finite))
    else:
        assert math.isnan(r.final_best) and r.found_at is None


def _scenario():
    return scenario_from_dict({
        "name": "wi", "experiment": minimal_experiment(), "objective": "seed-1d",
        "variants": [{"name": "as-run", "algorithm": "random"}, {"name": "tpe", "algorithm": "tpe"}],
        "seeds": {"count": 2},
    })


def _runs(extrapolated=(0, 0)):
    out = {}
    for v, vals, k in (("as-run", [0.2, 0.5, 0.6], extrapolated[0]), ("tpe", [0.4, 0.8, 0.7], extrapolated[1])):
        out[v] = [make_run(v, i, vals, parallel=2, extrapolated=k) for i in range(2)]
    return out


def _model(real=None, extrapolated=(0, 0)):
    sc = _scenario()
    runs = _runs(extrapolated)
    return build_report(sc, runs, evaluate_all(sc, runs), PROV, metric_name="acc", real_run=real)


def test_report_has_the_real_run_and_the_extrapolation_line():
    real = real_run(timed_table([0.1, 0.3, None, 0.9], duration=12))
    m = _model(real, extrapolated=(0, 2))
    text = render_markdown(m)
    assert "## The real run" in text
    assert "| real run | 4 | 0.9 | 4 | 24 s |" in text
    # tpe: 2 of 3 trials in each of its 2 runs -> 4 of 6
    assert "tpe: 67% of trials rest on extrapolation (4 of 6 suggested outside the region the real trials cover)" in text
    assert "as-run: 0% of trials rest on extrapolation (0 of 6" in text
    d = m.to_dict()
    assert d["real_run"]["best"] == [0.1, 0.3, 0.3, 0.9]
    assert d["extrapolation"]["tpe"] == [4, 6, pytest.approx(66.666, abs=0.01)]
    json.dumps(d)  # summary.json stays JSON


def test_no_real_run_no_section_and_summary_unchanged():
    m = _model()
    assert "The real run" not in render_markdown(m)
    assert "rest on extrapolation" not in render_markdown(m)
    d = m.to_dict()
    assert "real_run" not in d and "extrapolation" not in d


def test_extrapolation_without_a_real_run_is_still_reported():
    m = _model(extrapolated=(1, 0))
    assert "as-run: 33% of trials rest on extrapolation (2 of 6" in render_markdown(m)


def test_a_real_run_turns_the_regret_axis_off():
    sc = _scenario()
    runs = {v: [make_run(v, i, [0.2, 0.5], optimum=1.0) for i in range(2)] for v in ("as-run", "tpe")}
    base = build_report(sc, runs, evaluate_all(sc, runs), PROV, metric_name="acc")
    assert base.regret_axis
    beyond = build_report(sc, runs, evaluate_all(sc, runs), PROV, metric_name="acc",
                          real_run=real_run(timed_table([0.3, 0.4])))
    assert not beyond.regret_axis


def _figures(monkeypatch, m):
    """Render ``m``'s figures, keeping the matplotlib figures instead of their bytes."""
    import katibsim.report.png as png
    import katibsim.report.png_views as png_views

    kept = []

    def keep(fig):
        kept.append(fig)
        return b"%d" % (len(kept) - 1)

    monkeypatch.setattr(png, "_png", keep)
    monkeypatch.setattr(png_views, "_png", keep)
    return {name: kept[int(data)] for name, data in render_png(m).items()}


def _real_lines(fig):
    return [(ax, line) for ax in fig.axes for line in ax.get_lines() if str(line.get_label()).startswith("real run")]


def test_figures_draw_the_real_run(monkeypatch):
    real = real_run(timed_table([0.1, 0.3, None, 0.9], duration=12))
    figs = _figures(monkeypatch, _model(real))
    by_trial, by_time = [line for _, line in _real_lines(figs["curves.png"])]
    assert list(by_trial.get_xdata()) == [1, 2, 3, 4]
    assert list(by_trial.get_ydata()) == [0.1, 0.3, 0.3, 0.9]
    assert list(by_time.get_xdata()) == pytest.approx([12.0, 12.1, 24.0, 24.1])  # seconds: the axis is in s here
    history = _real_lines(figs["history.png"])
    assert len(history) == 2  # one per variant's panel
    assert all(list(line.get_ydata()) == [0.1, 0.3, 0.3, 0.9] for _, line in history)
    assert not _real_lines(figs["final-best.png"])


def test_without_a_real_run_no_line(monkeypatch):
    figs = _figures(monkeypatch, _model())
    assert not any(_real_lines(f) for f in figs.values())


def test_a_real_run_without_times_is_drawn_by_trial_only(monkeypatch):
    figs = _figures(monkeypatch, _model(real_run(table([trial(0, 0.3), trial(1, 0.5)]))))
    (ax, line), = _real_lines(figs["curves.png"])
    assert list(line.get_ydata()) == [0.3, 0.5]


def test_run_data_reads_extrapolated_trials_from_the_run_json():
    from katibsim.runner import run_data

    env = {"variant": "v", "seed_index": 0, "seed": 1,
           "result": {"maximize": True, "trials": [], "extrapolated_trials": 3}}
    assert run_data(env).extrapolated == 3
    del env["result"]["extrapolated_trials"]
    assert run_data(env).extrapolated == 0
    assert RunData("v", 0, 1, True, ()).extrapolated == 0


def test_a_what_if_value_axis_zooms_on_the_good_end(monkeypatch):
    """Many steps near the top and one low start: the value axis leaves the start out (the
    differences near the best stay readable); without a real run the axis is matplotlib's own."""
    values = [0.1] + [0.90 + 0.001 * k for k in range(40)]
    real = real_run(timed_table(values, duration=12))
    sc = _scenario()
    runs = {v: [make_run(v, i, values, parallel=2) for i in range(2)] for v in ("as-run", "tpe")}
    m = build_report(sc, runs, evaluate_all(sc, runs), PROV, metric_name="acc", real_run=real)
    ax = _figures(monkeypatch, m)["curves.png"].axes[0]
    low, high = ax.get_ylim()
    assert 0.1 < low < 0.9 and high >= 0.939
    assert "zoomed on the good end" in ax.get_title()
    plain = build_report(sc, runs, evaluate_all(sc, runs), PROV, metric_name="acc")
    ax = _figures(monkeypatch, plain)["curves.png"].axes[0]
    assert "zoomed" not in ax.get_title()
