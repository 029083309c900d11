"""The per-variant views (history, slice / parallel data, importances) from hand-made runs: the numbers, then the figures."""

from __future__ import annotations

import math

import numpy as np
import pytest

from katibsim.report.rundata import RunData, TrialRecord
from katibsim.report.views import build_views, history_view, importance, trial_cloud

import sys
from pathlib import Path as _P

from rundata_helpers import make_run

sys.path.insert(0, str(_P(__file__).parents[1] / "compare"))


def _run(variant, seed_index, assignments, values, *, maximize=True):
    trials = tuple(
        TrialRecord(i + 1, f"{variant}-{i}", a, v, "Succeeded" if v is not None else "Failed", 10.0 * i, 10.0 * i + 5)
        for i, (a, v) in enumerate(zip(assignments, values))
    )
    return RunData(variant, seed_index, 100 + seed_index, maximize, trials, max_trial_count=len(trials))


def test_history_is_the_median_run_with_every_trial_and_the_best_so_far():
    runs = [
        make_run("v", 0, [0.1, 0.5, 0.3]),  # final best 0.5
        make_run("v", 1, [0.9, 0.2, 0.95]),  # final best 0.95
        make_run("v", 2, [0.4, None, 0.7, 0.6]),  # final best 0.7: the median
    ]
    h = history_view(runs)
    assert (h.variant, h.seed_index) == ("v", 2)
    assert h.numbers == (1, 2, 3, 4)
    assert h.values[0] == 0.4 and math.isnan(h.values[1]) and h.values[2:] == (0.7, 0.6)
    assert h.best == (0.4, 0.4, 0.7, 0.7)
    assert h.chosen == "the median run by final best"


def test_history_of_a_minimised_objective_keeps_the_lowest():
    h = history_view([make_run("v", 0, [3.0, 1.0, 2.0, 0.5], maximize=False)])
    assert h.best == (3.0, 1.0, 1.0, 0.5)
    assert h.chosen == "the only run"


def test_cloud_keeps_numeric_and_categorical_parameters_of_every_seed():
    a = [{"lr": 0.1, "opt": "sgd"}, {"lr": "0.01", "opt": "adam"}, {"lr": 0.5, "opt": "sgd"}]
    runs = [_run("v", 0, a, [1.0, None, 3.0]), _run("v", 1, a[:1], [2.0])]
    c = trial_cloud("v", runs)
    lr, opt = c.parameters
    assert lr.numeric and lr.values == (0.1, 0.5, 0.1)  # the failed trial has no value and is left out
    assert not opt.numeric and opt.categories == ("sgd",) and opt.values == (0.0, 0.0, 0.0)
    assert c.objective == (1.0, 3.0, 2.0) and c.seed_index == (0, 0, 1) and c.order == (1, 3, 1)


def test_importance_ranks_the_parameter_that_matters_first_and_the_idle_one_near_zero():
    rng = np.random.default_rng(3)
    assigns = [{"idle": float(u), "x": float(x), "k": str(k)} for u, x, k in zip(rng.uniform(0, 1, 80), rng.uniform(-1, 1, 80), rng.integers(0, 3, 80))]
    # y depends strongly on x, a little on the category k, not at all on "idle"
    values = [-(a["x"] ** 2) * 10 + 0.5 * int(a["k"]) for a in assigns]
    imp = importance(trial_cloud("v", [_run("v", 0, assigns, values)]))
    assert imp.parameters[0] == "x"
    assert imp.parameters[-1] == "idle"
    mean = dict(zip(imp.parameters, imp.mean))
    assert mean["x"] > 0.5
    assert abs(mean["idle"]) < 0.05
    assert mean["k"] > mean["idle"]


def test_importance_says_why_it_is_missing_with_too_few_trials():
    imp = importance(trial_cloud("v", [_run("v", 0, [{"x": 1.0}, {"x": 2.0}], [1.0, 2.0])]))
    assert all(math.isnan(x) for x in imp.mean) and "only 2 completed trials" in imp.note
    flat = importance(trial_cloud("v", [_run("v", 0, [{"x": float(i)} for i in range(10)], [1.0] * 10)]))
    assert flat.mean == (0.0,) and "same value" in flat.note


def test_views_render_and_the_report_shows_the_ranking():
    from katibsim.report.png_views import render_view_pngs, view_figure_names
    from katibsim.report.sections import blocks
    from katibsim.report.markdown import render_blocks
    from test_report_render import _model

    m = _model(with_intro=False)
    assert m.views is not None and [h.variant for h in m.views.history] == list(m.variants)
    images = render_view_pngs(m)
    assert list(images) == view_figure_names(m) == ["history.png", "importance.png", "slice.png", "parallel.png"]
    for data in images.values():
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
    md = render_blocks(blocks(m))
    assert "## Where the trials went" in md and "![parallel coordinates of the trials, per variant](parallel.png)" in md
    assert "| rand | 9 | x " in md  # 3 seeds x 3 trials, one parameter


def test_build_views_covers_every_variant_with_runs():
    runs = {"a": [make_run("a", 0, [0.1, 0.2])], "b": []}
    v = build_views(runs)
    assert [h.variant for h in v.history] == ["a"] and [c.variant for c in v.clouds] == ["a"]


def test_regret_note_says_noise_free_and_explains_a_best_beyond_the_optimum():
    from dataclasses import replace

    from katibsim.report.build import _regret_note

    clean = make_run("v", 0, [0.5, 2.3, 1.0], optimum=2.0)
    # the trial observed 2.3 > optimum 2.0; its noise-free value is 1.9
    clean = replace(clean, trials=tuple(replace(t, true_value=(1.9 if t.value == 2.3 else t.value)) for t in clean.trials))
    note = _regret_note({"v": [clean]}, 2.0, True)
    assert note.startswith("Final regret is measured on the noise-free value")
    assert "In 1 of 1 runs the best observed value lies beyond the optimum" in note
    assert clean.final_regret() == pytest.approx(0.1)
    plain = _regret_note({"v": [make_run("v", 0, [0.5, 1.0], optimum=2.0)]}, 2.0, True)
    assert "observed value" in plain and "beyond" not in plain


def test_time_metrics_in_verdicts_use_minutes_not_exponents():
    from katibsim.assertions import evaluate_all
    from katibsim.scenario import scenario_from_dict

    from experiment_helpers import minimal_experiment

    sc = scenario_from_dict({
        "name": "t", "experiment": minimal_experiment(), "objective": "seed-1d",
        "variants": [{"name": "a", "algorithm": "random"}], "seeds": {"count": 2},
        "assertions": [{"kind": "threshold", "variant": "a", "metric": "end-time", "aggregate": "max", "max": 20000}],
    })
    runs = {"a": [make_run("a", i, [0.1, 0.2], duration=8055.0) for i in range(2)]}
    res = evaluate_all(sc, runs)[0]
    assert "4.47 h" in res.outcome and "e+04" not in res.outcome and "<= 5.56 h" in res.statement


def test_a_second_compare_into_the_same_out_keeps_the_earlier_scenarios(tmp_path):
    import xml.etree.ElementTree as ET
    from dataclasses import replace

    from katibsim.report.write import write_index, write_report
    from test_report_render import _model

    first = _model(with_intro=False)
    write_report(first, tmp_path / first.scenario, png=False)
    write_index([first], tmp_path)
    second = replace(first, scenario="other")
    write_report(second, tmp_path / "other", png=False)
    write_index([second], tmp_path)
    md = (tmp_path / "index.md").read_text()
    assert "in 2 scenarios" in md and "| demo |" in md and "| other |" in md
    assert "demo/report.html" in (tmp_path / "index.html").read_text()
    suites = [s.get("name") for s in ET.parse(tmp_path / "junit.xml").getroot().iter("testsuite")]
    assert sorted(suites) == ["demo", "other"]
    # running "demo" again updates its entry instead of adding a second one
    write_index([first], tmp_path)
    assert (tmp_path / "index.md").read_text().count("| demo |") == 1


def test_a_cross_scenario_table_with_one_shared_variant_is_not_shown():
    from katibsim.report.index import IndexEntry
    from katibsim.report.markdown import render_index_markdown

    one = [IndexEntry("s1", True, (), {"random": 1.0, "bo": 0.2}), IndexEntry("s2", True, (), {"random": 1.0, "tpe": 0.3})]
    md = render_index_markdown(one)
    assert "Normalised score across scenarios" not in md and "Only random has a normalised score" in md
    two = [IndexEntry("s1", True, (), {"random": 1.0, "bo": 0.2}), IndexEntry("s2", True, (), {"random": 1.0, "bo": 0.4})]
    md2 = render_index_markdown(two)
    assert "Normalised score across scenarios" in md2 and "| bo | 2 | 0.3 | 70 |" in md2


def test_compare_json_quiet_and_the_undecidable_warning_before_the_run(tmp_path, capsys):
    import json
    from pathlib import Path

    from katibsim.cli import main
    from test_compare_cli import write_tiny

    sc = write_tiny(tmp_path, trials=4)
    sc.write_text(sc.read_text() + "  - {kind: paired, better: bo, than: random, metric: final-best, name: bo wins}\n")
    out = tmp_path / "out"
    assert main(["compare", str(sc), "--out", str(out), "--jobs", "1", "--no-png", "-o", "json", "--quiet"]) == 1
    cap = capsys.readouterr()
    doc = json.loads(cap.out)
    assert doc["passed"] is False and doc["scenarios"][0]["name"] == "tiny"
    verdicts = {a["name"]: a["verdict"] for a in doc["scenarios"][0]["assertions"]}
    assert verdicts["bo wins"] == "CANNOT DECIDE" and verdicts["invariant no-duplicates"] == "PASS"
    # the warning comes before the run; --quiet leaves out the progress and the timing
    assert "assertion 'bo wins' cannot be decided with 3 seeds" in cap.err
    assert "[0/" not in cap.err and "runs in" not in cap.err
    assert Path(doc["scenarios"][0]["summary"]).is_file()


def test_a_sweep_over_an_integer_setting_has_its_values_as_ticks_and_time_beside_quality():
    from katibsim.assertions import evaluate_all
    from katibsim.report.build import build_report
    from katibsim.report.markdown import render_blocks
    from katibsim.report.model import Provenance
    from katibsim.report.png import _exploration, sweep_ticks
    from katibsim.report.sections import blocks
    from katibsim.scenario import scenario_from_dict

    from experiment_helpers import minimal_experiment

    sc = scenario_from_dict({
        "name": "par", "experiment": minimal_experiment(), "objective": "seed-1d", "target": {"value": 1.0},
        "variants": [{"name": "p-{value}", "algorithm": "random", "sweep": {"parallelTrialCount": [3, 6]}}],
        "seeds": {"count": 2},
    })
    runs = {
        "p-3": [make_run("p-3", i, [0.2, 1.2, 0.5, 0.4], parallel=3, duration=600.0) for i in range(2)],
        "p-6": [make_run("p-6", i, [0.2, 0.3, 0.5, 1.4], parallel=6, duration=600.0) for i in range(2)],
    }
    prov = Provenance("0", "3", {}, {}, None, "h", None, "seed-1d", 0, (1, 2))
    m = build_report(sc, runs, evaluate_all(sc, runs), prov)
    [view] = m.exploration
    assert sweep_ticks(view) == ["3", "6"]
    p3, p6 = view.points
    # parallel 3: trial 2 (in the first batch) reaches 1.0 at 600 s; the 4th trial ends at 1200 s
    assert p3.time_to["median"] == 600.0 and p3.end_time["median"] == 1200.0
    assert p6.time_to["median"] == 600.0 and p6.end_time["median"] == 600.0
    md = render_blocks(blocks(m))
    assert "| 3 | p-3 |" in md and "| 10.0 min | 20.0 min |" in md
    assert _exploration(m, view)[:4] == b"\x89PNG"


def test_show_prints_json_like_kubectl(capsys):
    import json

    from katibsim.cli import main

    root = _P(__file__).parents[2]
    assert main(["show", str(root / "examples" / "branin-grid.yaml"), "-o", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["kind"] == "Experiment" and doc["metadata"]["name"] and doc["spec"]["parameters"]
