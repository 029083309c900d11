"""Each assertion kind on a passing and a failing case, over hand-made runs."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import pytest

from katibsim.assertions import aggregate, evaluate_all, invariant_violation
from katibsim.report.rundata import TrialRecord
from katibsim.scenario import scenario_from_dict

from experiment_helpers import minimal_experiment
from rundata_helpers import make_run

EXPERIMENT = minimal_experiment()


def scenario(assertions, **over):
    d = {
        "name": "t",
        "experiment": EXPERIMENT,
        "objective": "seed-1d",
        "variants": [{"name": "a", "algorithm": "random"}, {"name": "b", "algorithm": "katibsim-bo"}],
        "seeds": {"count": 4},
        "target": {"value": 1.0},
        "assertions": assertions,
    }
    d.update(over)
    return scenario_from_dict(d)


def verdicts(sc, runs):
    return [r.passed for r in evaluate_all(sc, runs)]


# a: reaches 1.0 at trial 4 in every seed; b: at trial 2 in three seeds, never in seed 3
RUNS = {
    "a": [make_run("a", i, [0.1, 0.5, 0.7, 1.0 + i * 0.01, 0.9], optimum=1.5) for i in range(4)],
    "b": [make_run("b", i, [0.2, 1.1, 1.2, 1.2, 1.3], optimum=1.5) for i in range(3)]
    + [make_run("b", 3, [0.2, 0.3, 0.4, 0.5, 0.6], optimum=1.5)],
}


def test_target_k_of_m_pass_and_fail():
    sc = scenario(
        [
            {"kind": "target", "variant": "b", "within": {"trials": 2}, "seeds": {"atLeast": 3}},
            {"kind": "target", "variant": "b", "within": {"trials": 2}, "seeds": {"atLeast": 4}, "name": "all"},
            {"kind": "target", "variant": "a", "within": {"trials": 3}, "seeds": {"atMost": "25%"}, "name": "rarely"},
            {"kind": "target", "variant": "a", "within": {"time": 35}, "seeds": {"atLeast": 1}, "name": "time"},
        ]
    )
    res = evaluate_all(sc, RUNS)
    assert [r.passed for r in res] == [True, False, True, False]
    assert res[0].details["hits"] == 3 and res[0].details["trials_to_target"][3] == math.inf
    assert "reached in 3 of 4 seeds" in res[0].outcome
    # time: each trial takes 10 s sequentially, so trial 4 ends at 40 s > 35 s
    assert res[3].details["time_to_target"] == [40.0] * 4


def test_target_as_regret_resolves_against_the_optimum():
    sc = scenario([{"kind": "target", "variant": "b", "target": {"regret": 0.2}, "seeds": {"atLeast": 3}}])
    res = evaluate_all(sc, RUNS)[0]
    assert res.details["target_value"] == pytest.approx(1.3) and res.details["hits"] == 3 and res.passed


def test_paired_test_pass_and_fail_with_numbers():
    sc = scenario(
        [
            {"kind": "paired", "better": "b", "than": "a", "metric": "trials-to-target", "test": "sign", "level": 0.5},
            {"kind": "paired", "better": "b", "than": "a", "metric": "trials-to-target", "test": "wilcoxon", "level": 0.05, "name": "strict"},
            {"kind": "paired", "better": "a", "than": "b", "metric": "final-best", "name": "reverse"},
        ]
    )
    res = evaluate_all(sc, RUNS)
    sign = res[0].details["test"]
    assert (sign["wins"], sign["ties"], sign["losses"]) == (3, 0, 1)
    assert sign["p_value"] == pytest.approx(5 / 16)  # P(X >= 3), X ~ Bin(4, 1/2)
    assert res[0].passed
    assert not res[1].passed  # four pairs can never reach 0.05 with one loss
    assert not res[2].passed
    assert res[1].details["values_than"] == [4.0, 4.0, 4.0, 4.0]


def test_threshold_aggregate_and_per_seed():
    sc = scenario(
        [
            {"kind": "threshold", "variant": "b", "metric": "final-regret", "aggregate": "median", "max": 0.3},
            {"kind": "threshold", "variant": "b", "metric": "final-regret", "seeds": {"atLeast": 4}, "max": 0.3, "name": "each"},
            {"kind": "threshold", "variant": "a", "metric": "trials", "aggregate": "max", "min": 5, "max": 5, "name": "count"},
        ]
    )
    res = evaluate_all(sc, RUNS)
    assert [r.passed for r in res] == [True, False, True]
    assert res[0].details["value"] == pytest.approx(0.2)
    assert res[1].details["hits"] == 3


def test_normalized_score_threshold_uses_the_random_variant():
    sc = scenario([{"kind": "threshold", "variant": "b", "metric": "normalized-score", "aggregate": "mean", "max": 0.5}])
    res = evaluate_all(sc, RUNS)[0]
    # opt = 1.3 (best anywhere), clip = median random trial value 0.7 -> losses -1.3 and -0.7
    # b: three seeds at 1.3 (score 0), one at 0.6 -> clipped to 0.7 (score 1) -> mean 0.25
    assert res.details["value"] == pytest.approx(0.25) and res.passed


def test_invariants_pass_and_fail():
    dup = make_run("b", 0, [0.1, 0.2], xs=[0.5, 0.5])
    over = replace(make_run("a", 0, [0.1, 0.2, 0.3], parallel=3), parallel_trial_count=2)
    assert invariant_violation("no-duplicates", dup) == "1 duplicate suggestion"
    assert "3 trials running at once" in invariant_violation("max-parallel", over)
    assert invariant_violation("max-parallel", RUNS["a"][0]) is None
    short = replace(RUNS["a"][0], max_trial_count=4)
    assert "5 trials > maxTrialCount 4" == invariant_violation("trial-count", short)
    sc = scenario([{"kind": "invariant", "check": "no-duplicates"}, {"kind": "invariant", "check": "max-parallel", "variants": ["a"]}])
    assert verdicts(sc, RUNS) == [True, True]
    bad = {"a": RUNS["a"], "b": [dup]}
    res = evaluate_all(sc, bad)
    assert [r.passed for r in res] == [False, True]
    assert "violated in 1 of 5 runs" in res[0].outcome and "b seed #0" in res[0].outcome


def test_back_to_back_trials_do_not_overlap():
    run = make_run("a", 0, [0.1, 0.2, 0.3], parallel=1)
    assert run.max_running() == 1


def test_goal_consistent_and_succeeded():
    run = replace(RUNS["a"][0], reason="ExperimentGoalReached", goal=2.0)
    assert "does not reach goal" in invariant_violation("goal-consistent", run)
    assert invariant_violation("goal-consistent", replace(run, goal=0.9)) is None
    assert invariant_violation("succeeded", replace(run, reason="ExperimentFailed")) == "ended with reason ExperimentFailed"


def test_missing_variant_results_never_pass():
    sc = scenario([{"kind": "invariant", "check": "no-duplicates"}])
    res = evaluate_all(sc, {"a": RUNS["a"]})[0]
    assert not res.passed and "no results for variant b" in res.outcome


def _summary(tmp_path, values):
    p = tmp_path / "base.json"
    p.write_text(json.dumps({"seeds": [1000, 1001, 1002, 1003], "metrics": {"b": {"final-regret": values}}}))
    return str(p)


def test_baseline_aggregate_no_worse_and_equal(tmp_path):
    base = _summary(tmp_path, [0.2, 0.2, 0.2, 0.9])
    sc = scenario(
        [
            {"kind": "baseline", "file": base, "variant": "b", "metric": "final-regret", "aggregate": "median"},
            {"kind": "baseline", "file": base, "variant": "b", "metric": "final-regret", "aggregate": "mean", "mode": "equal", "tolerance": {"absolute": 0.01}, "name": "eq"},
        ]
    )
    assert verdicts(sc, RUNS) == [True, True]
    worse = _summary(tmp_path, [0.0, 0.0, 0.0, 0.0])
    sc2 = scenario([{"kind": "baseline", "file": worse, "variant": "b", "metric": "final-regret", "aggregate": "median", "tolerance": {"relative": 0.5}}])
    res = evaluate_all(sc2, RUNS)[0]
    assert not res.passed and res.details["baseline"] == 0.0 and res.details["value"] == pytest.approx(0.2)


def test_baseline_per_seed_golden(tmp_path):
    base = _summary(tmp_path, [0.2, 0.2, 0.2, 0.9])
    sc = scenario([{"kind": "baseline", "file": base, "variant": "b", "metric": "final-regret", "seeds": {"atLeast": 4}, "mode": "equal", "tolerance": {"absolute": 1e-9}}])
    assert verdicts(sc, RUNS) == [True]
    other = _summary(tmp_path, [0.2, 0.2, 0.2, 0.5])
    sc = scenario([{"kind": "baseline", "file": other, "variant": "b", "metric": "final-regret", "seeds": {"atLeast": 4}}])
    res = evaluate_all(sc, RUNS)[0]
    assert not res.passed and res.details["hits"] == 3


def test_aggregate_with_infinities_picks_an_actual_value():
    assert aggregate([1.0, 2.0, math.inf, math.inf, math.inf], "median") == math.inf
    assert aggregate([1.0, 2.0, 3.0, math.inf], "median") == 2.0
    assert aggregate([1.0, 3.0], "median") == 2.0


def test_failed_trials_do_not_count_as_values():
    r = make_run("a", 0, [None, 0.5, None])
    assert r.final_best == 0.5 and r.best_by_trial()[0] != r.best_by_trial()[0]
    assert isinstance(r.trials[0], TrialRecord) and r.trials[0].value is None


# -- an assertion the seed count cannot decide ------------------------------------------------
def test_min_p_value_is_the_tests_own_and_gives_the_seeds_needed():
    from katibsim.assertions import min_p_value, seeds_needed

    # every seed won: scipy's exact one-sided Wilcoxon and the sign test's binomial both give 1/2**n
    assert [min_p_value("wilcoxon", n) for n in (3, 4, 5)] == pytest.approx([1 / 8, 1 / 16, 1 / 32])
    assert min_p_value("sign", 6) == pytest.approx(1 / 64)
    assert seeds_needed("wilcoxon", 0.05) == 5 and seeds_needed("wilcoxon", 0.01) == 7
    assert seeds_needed("sign", 0.001) == 10


def test_a_paired_test_with_too_few_seeds_cannot_be_decided_not_failed():
    from katibsim.assertions import undecidable_all

    runs = {v: rs[:3] for v, rs in RUNS.items()}
    sc = scenario(
        [
            {"kind": "paired", "better": "b", "than": "a", "metric": "final-best", "name": "bo wins"},
            {"kind": "paired", "better": "b", "than": "a", "metric": "final-best", "level": 0.2, "name": "loose"},
        ],
        seeds={"count": 3},
    )
    found = undecidable_all(sc)  # known before any run
    assert [a.name for a, _ in found] == ["bo wins"]
    assert "cannot be decided with 3 seeds" in found[0][1] and "0.125" in found[0][1] and "at least 5 seeds" in found[0][1]
    res = evaluate_all(sc, runs)
    assert [(r.passed, r.decided) for r in res] == [(False, False), (True, True)]
    # b wins all three seeds: the best a Wilcoxon test can do on 3 pairs, and still not below 0.05
    assert res[0].details["test"]["wins"] == 3 and res[0].details["test"]["p_value"] == pytest.approx(0.125)
    assert res[0].outcome.startswith("cannot be decided with 3 seeds")


def test_the_report_says_cannot_decide_instead_of_fail():
    from katibsim.report.markdown import render_blocks
    from katibsim.report.model import Provenance
    from katibsim.report.sections import blocks
    from katibsim.report.build import build_report

    runs = {v: rs[:3] for v, rs in RUNS.items()}
    sc = scenario([{"kind": "paired", "better": "b", "than": "a", "metric": "final-best", "name": "bo wins"}], seeds={"count": 3})
    prov = Provenance("0", "3", {}, {}, None, "h", None, "seed-1d", 0, (1, 2, 3))
    m = build_report(sc, runs, evaluate_all(sc, runs), prov)
    md = render_blocks(blocks(m))
    assert "| ⚠️ CANNOT DECIDE | bo wins |" in md and "❌ FAIL | bo wins" not in md
    assert "1 assertion cannot be decided with 3 seeds" in md
