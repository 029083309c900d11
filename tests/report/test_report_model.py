"""The report data model on small hand-checkable runs: curves and bands, ranks, scores, sweeps, optimal trials."""

from __future__ import annotations

import json
import math

import pytest

from katibsim.assertions import evaluate_all
from katibsim.report.build import build_report, time_grid
from katibsim.report.model import Provenance
from katibsim.scenario import scenario_from_dict

from experiment_helpers import minimal_experiment
from rundata_helpers import make_run

EXPERIMENT = minimal_experiment()
PROV = Provenance("0", "3.11", {}, {}, None, "h", None, "seed-1d", 0, (1000, 1001, 1002), "katibsim compare x")


def scenario(**over):
    d = {
        "name": "t",
        "experiment": EXPERIMENT,
        "objective": "seed-1d",
        "variants": [{"name": "rand", "algorithm": "random"}, {"name": "k", "algorithm": "bo", "sweep": {"kappa": [1, 5]}}],
        "seeds": {"count": 3},
        "target": {"value": 1.0},
        "assertions": [{"kind": "invariant", "check": "no-duplicates"}],
    }
    d.update(over)
    return scenario_from_dict(d)


def runs():
    return {
        "rand": [make_run("rand", i, v, optimum=2.0) for i, v in enumerate([[0.1, 0.3, 0.2], [0.5, 0.4, 0.6], [0.2, 0.2, 0.9]])],
        "k-kappa-1": [make_run("k-kappa-1", i, v, optimum=2.0) for i, v in enumerate([[0.5, 1.0, 1.1], [0.5, 0.9, 0.95], [1.2, 1.2, 1.2]])],
        # kappa 5 ends early in seed 0 (a goal reached after 2 trials): forward-filled
        "k-kappa-5": [make_run("k-kappa-5", i, v, optimum=2.0) for i, v in enumerate([[0.2, 2.0], [0.1, 0.3, 1.9], [0.3, 1.5, 1.8]])],
    }


def build(sc=None, rs=None):
    sc = sc or scenario()
    rs = rs or runs()
    return build_report(sc, rs, evaluate_all(sc, rs), PROV, metric_name="y")


def test_curves_by_trial_median_and_iqr_by_hand():
    m = build()
    c = {c.variant: c for c in m.curves_by_trial}
    # rand best-so-far rows: [0.1,.3,.3], [.5,.5,.6], [.2,.2,.9]
    assert c["rand"].x == (1.0, 2.0, 3.0)
    assert c["rand"].median == pytest.approx((0.2, 0.3, 0.6))
    assert c["rand"].q25 == pytest.approx((0.15, 0.25, 0.45))
    assert c["rand"].q75 == pytest.approx((0.35, 0.4, 0.75))
    # kappa 5, seed 0 stopped at 2.0 after two trials and keeps it
    assert c["k-kappa-5"].median == pytest.approx((0.2, 1.5, 1.9))
    assert c["k-kappa-5"].runs == 3


def test_curves_by_time_sample_the_step_functions():
    m = build()
    c = {c.variant: c for c in m.curves_by_time}
    assert c["rand"].x == (10.0, 20.0, 30.0)  # sequential 10 s trials
    assert c["rand"].median == pytest.approx((0.2, 0.3, 0.6))
    assert time_grid(runs(), max_points=2) == [10.0, 30.0]


def test_ranks_and_average_rank():
    m = build()
    assert m.ranks.variants == ("rand", "k-kappa-1", "k-kappa-5")
    # finals: seed0 .3/1.1/2.0, seed1 .6/.95/1.9, seed2 .9/1.2/1.8 -> kappa 5 first everywhere
    assert m.ranks.ranks == ((3, 2, 1), (3, 2, 1), (3, 2, 1))
    assert m.ranks.average == (3.0, 2.0, 1.0)


def test_normalized_score_bayesmark():
    m = build()
    n = m.normalized
    assert n.baseline == "rand"
    # losses are negated values: opt = -2.0; clip = median random single value 0.3 -> -0.3
    assert n.opt == -2.0 and n.clip == pytest.approx(-0.3)
    # random finals .3/.6/.9 -> clipped losses -.3,-.6,-.9 -> mean -.6 -> (−.6+2)/(1.7) = 0.8235
    assert n.score["rand"] == pytest.approx(1.4 / 1.7)
    assert n.normed["rand"] == pytest.approx(1.0)
    assert n.leaderboard["k-kappa-5"] == pytest.approx(100 * (1 - (2 - (2.0 + 1.9 + 1.8) / 3) / 1.7))
    assert len(n.by_trial["rand"]) == 3


def test_exploration_view_for_the_sweep():
    m = build()
    (view,) = m.exploration
    assert (view.key, view.quality, view.speed, view.numeric) == ("kappa", "final-regret", "trials-to-target", True)
    p1, p5 = view.points
    assert p1.value == 1 and p1.variant == "k-kappa-1"
    assert p1.regret["median"] == pytest.approx(0.9)  # finals 1.1, .95, 1.2 -> regrets .9, 1.05, .8
    assert p1.trials_to["median"] == 2.0 and p1.reached == 2  # seed 1 never reaches 1.0
    assert p5.trials_to["median"] == 2.0 and p5.reached == 3
    # converge (tolerance 1e-3): kappa 1 finals 1.1, .95, 1.2 reached at trials 3, 3, 1
    assert p1.converge["median"] == 3.0


def test_optimal_trials_fall_back_to_the_best_trial_and_spread():
    m = build()
    opt = {o.variant: o for o in m.optimal}
    row = opt["rand"].trials[2]
    assert row.best_trial_name == "rand-2" and row.value == 0.9
    assert row.parameter_assignments == ({"name": "x", "value": "2.0"},)
    assert opt["rand"].spread["x"] == {"min": 1.0, "median": 2.0, "max": 2.0}


def test_duplicates_and_verdict():
    rs = runs()
    rs["rand"][0] = make_run("rand", 0, [0.1, 0.3, 0.2], xs=[1.0, 1.0, 2.0], optimum=2.0)
    m = build(rs=rs)
    d = {row.variant: row for row in m.duplicates}
    assert d["rand"].per_seed == (1, 0, 0) and d["rand"].examples[0]["repeats"] == "rand-0"
    assert not m.passed


def test_missing_runs_are_warned_and_to_dict_is_json():
    rs = runs()
    rs["rand"] = rs["rand"][:2]
    m = build(rs=rs)
    assert any("rand: 2 runs, expected 3" in w for w in m.warnings)
    d = m.to_dict()
    text = json.dumps(d, allow_nan=False)
    assert "command" not in d["provenance"] and "katibsim compare" not in text
    assert d["metrics"]["k-kappa-1"]["trials-to-target"][1] == "inf"
    assert m.to_dict(include_command=True)["provenance"]["command"] == "katibsim compare x"


def test_no_random_variant_means_no_score_with_a_note():
    sc = scenario(variants=[{"name": "a", "algorithm": "bo"}, {"name": "b", "algorithm": "bo"}], assertions=[])
    rs = {"a": runs()["k-kappa-1"], "b": runs()["k-kappa-5"]}
    m = build(sc, rs)
    assert m.normalized.baseline is None and "no random-search variant" in m.normalized.note
    assert "normalized-score" not in m.metrics["a"]
    assert not math.isnan(m.ranks.average[0])


def test_regret_uses_the_noise_free_value_of_the_best_observed_trial():
    from dataclasses import replace

    from katibsim.report.metrics import MetricContext, metric_value

    run = make_run("a", 0, [0.5, 2.1, 1.0], optimum=2.0)  # 2.1: noise pushed it past the optimum
    assert metric_value("final-regret", run, MetricContext()) == 0.0  # observed: looks perfect
    noisy = replace(run, trials=tuple(replace(t, true_value=v) for t, v in zip(run.trials, [0.4, 1.7, 1.1])))
    assert metric_value("final-regret", noisy, MetricContext()) == pytest.approx(0.3)  # truth at the incumbent


def test_curves_leave_the_regret_axis_when_noise_beats_the_optimum():
    assert build().regret_axis
    rs = runs()
    rs["rand"][0] = make_run("rand", 0, [0.1, 2.5, 0.2], optimum=2.0)
    assert not build(rs=rs).regret_axis
