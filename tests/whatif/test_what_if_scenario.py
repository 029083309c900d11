"""The scenario form: ``what_if:`` stands in for experiment, objective and variants; errors at their paths.

``read_trials`` is stood in for by a hand-made table (``install_reader``): these tests are about
what the scenario reader makes of it; tests/whatif/test_what_if_end_to_end.py reads real files.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from katibsim.errors import InputError
from katibsim.scenario.reader import read_scenario, read_scenarios

from whatif_helpers import install_reader, timed_table


@pytest.fixture
def tbl():
    return timed_table([0.2, 0.4, 0.3, 0.6, 0.5, 0.7], parallel=2, algorithm_name="random", experiment_name="mnist")


def _read(doc, tmp_path):
    return read_scenario(doc, file=str(tmp_path / "s.yaml"))


def test_what_if_fills_experiment_objective_and_variants(monkeypatch, tmp_path, tbl):
    calls = install_reader(monkeypatch, tbl)
    sc, errors = _read({"name": "wi", "what_if": {"trials": "trials.yaml", "metric": "acc", "algorithms": ["tpe", "grid"]}}, tmp_path)
    assert errors == []
    assert calls == [{"path": str(tmp_path / "trials.yaml"), "experiment": None, "metric": "acc"}]
    assert sc.objective.name == "from-trials"
    assert dict(sc.objective.options) == {"file": str(tmp_path / "trials.yaml"), "metric": "acc"}
    assert sc.spec["parallelTrialCount"] == 2 and sc.spec["maxTrialCount"] == 6
    assert sc.experiment["metadata"]["name"] == "mnist"
    assert sc.variant_names == ("as-run", "tpe", "as-run-parallel-1", "as-run-parallel-4", "as-run-max-3", "as-run-max-12")
    assert sc.what_if.trials == str(tmp_path / "trials.yaml") and sc.what_if.algorithms == ("tpe", "grid")
    assert dict(sc.what_if.skipped) == {"grid": "the space is not finite: lr is a double without a step"}
    assert "Not compared: grid: the space is not finite" in sc.description


def test_the_experiment_file_goes_to_the_reader_and_the_objective(monkeypatch, tmp_path, tbl):
    calls = install_reader(monkeypatch, tbl)
    sc, errors = _read({"name": "wi", "what_if": {"trials": "t.yaml", "experiment": "exp.yaml"}}, tmp_path)
    assert errors == []
    assert calls[0]["experiment"] == str(tmp_path / "exp.yaml")
    assert sc.objective.options["experiment"] == str(tmp_path / "exp.yaml")


def test_fields_the_scenario_gives_win(monkeypatch, tmp_path, tbl):
    install_reader(monkeypatch, tbl)
    sc, errors = _read({"name": "wi", "what_if": {"trials": "t.yaml"},
                        "objective": {"name": "from-trials", "options": {"file": "m.json", "noise_scale": 0}},
                        "variants": [{"name": "only", "algorithm": "sobol"}],
                        "budget": {"maxTrialCount": 4}}, tmp_path)
    assert errors == []
    assert sc.variant_names == ("only",)
    assert dict(sc.objective.options) == {"file": "m.json", "noise_scale": 0}
    assert sc.what_if.skipped == ()
    assert sc.experiment_for(sc.variants[0])["spec"]["maxTrialCount"] == 4


def test_budget_is_what_the_generated_counts_start_from(monkeypatch, tmp_path, tbl):
    install_reader(monkeypatch, tbl)
    sc, errors = _read({"name": "wi", "what_if": {"trials": "t.yaml", "algorithms": ["sobol"]},
                        "budget": {"maxTrialCount": 10, "parallelTrialCount": 3}}, tmp_path)
    assert errors == []
    assert sc.variant_names == ("as-run", "sobol", "as-run-parallel-1", "as-run-parallel-6", "as-run-max-5", "as-run-max-20")


@pytest.mark.parametrize("block, path, words", [
    ({}, "what_if.trials", "Required value: the finished trials"),
    ({"trials": 3}, "what_if.trials", "must be a path"),
    ({"trials": "t.yaml", "experment": "e.yaml"}, "what_if.experment", "did you mean experiment"),
    ({"trials": "t.yaml", "algorithms": "tpe"}, "what_if.algorithms", "non-empty list of algorithm names"),
    ({"trials": "t.yaml", "metric": ""}, "what_if.metric", "must be a metric name"),
    ({"trials": "t.yaml", "direction": "up"}, "what_if.direction", "must be maximize or minimize"),
])
def test_bad_what_if_fields_are_errors_at_their_path(monkeypatch, tmp_path, tbl, block, path, words):
    install_reader(monkeypatch, tbl)
    _, errors = _read({"name": "wi", "what_if": block}, tmp_path)
    assert path in [e.path for e in errors], errors
    assert any(words in e.render() for e in errors if e.path == path)


def test_an_unreadable_trials_file_is_one_error_not_three(monkeypatch, tmp_path):
    install_reader(monkeypatch, InputError("t.yaml: items[3].status.observation: expected a mapping"))
    sc, errors = _read({"name": "wi", "what_if": {"trials": "t.yaml"}}, tmp_path)
    assert sc is None
    assert [(e.path, e.message) for e in errors] == [("what_if.trials", "t.yaml: items[3].status.observation: expected a mapping")]


def test_trials_without_a_direction_say_to_give_the_experiment(monkeypatch, tmp_path):
    install_reader(monkeypatch, timed_table([0.1, 0.2], direction=None))
    sc, errors = _read({"name": "wi", "what_if": {"trials": "t.yaml"}}, tmp_path)
    assert sc is None
    assert errors[0].path == "what_if" and "give the Experiment too" in errors[0].message


def test_without_what_if_experiment_and_objective_stay_required(tmp_path):
    _, errors = _read({"name": "x", "variants": [{"name": "r", "algorithm": "random"}]}, tmp_path)
    assert {"experiment", "objective"} <= {e.path for e in errors}


def test_a_what_if_scenario_file_reads_and_hashes_its_trials(monkeypatch, tmp_path, tbl):
    install_reader(monkeypatch, tbl)
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump({"name": "wi", "what_if": {"trials": "t.yaml"}}))
    (sc,), errors = read_scenarios(f)
    assert errors == []
    other = Path(tmp_path / "s2.yaml")
    other.write_text(yaml.safe_dump({"name": "wi", "what_if": {"trials": "u.yaml"}}))
    (sc2,), _ = read_scenarios(other)
    assert sc.content_hash() != sc2.content_hash()


_VALUES = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=8),
                    st.lists(st.one_of(st.text(max_size=4), st.integers()), max_size=3),
                    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(key=st.sampled_from(["trials", "experiment", "metric", "direction", "algorithms", "extra", None]), value=_VALUES)
def test_any_value_in_what_if_is_reported_never_raised(monkeypatch, tmp_path, key, value):
    install_reader(monkeypatch, timed_table([0.1, 0.2, 0.3], parallel=1))
    block = {"trials": "t.yaml"} if key != "trials" else {}
    if key is None:
        assume(value is not None)  # what_if: null is no what_if (experiment and objective are then required)
        block = value
    else:
        block[key] = value
    sc, errors = _read({"name": "wi", "what_if": block}, tmp_path)
    assert all(e.path.startswith(("what_if", "variants")) for e in errors), errors
    assert sc is not None or errors


def test_the_simulated_clock_takes_the_real_run_s_delays(monkeypatch, tmp_path):
    from whatif_helpers import table, trial

    ts = [trial(0, 0.1, created=0.0, ended=5.0), trial(1, 0.2, created=0.0, ended=6.0), trial(2, 0.3, created=6.0, ended=9.0)]
    ts = [type(t)(t.name, t.parameters, t.status, t.value, (), t.created, t.created + d, t.ended)
          for t, d in zip(ts, (1.0, 2.0, 4.0))]
    install_reader(monkeypatch, table(ts, parallel_trial_count=2))
    sc, errors = _read({"name": "wi", "what_if": {"trials": "t.yaml"}, "variants": [{"name": "r", "algorithm": "random"}]}, tmp_path)
    assert errors == []
    assert sc.simulation == {"startup_delay": 2.0, "suggestion_startup_delay": 0.0}  # the median wait, no suggestion delay
    sc, _ = _read({"name": "wi", "what_if": {"trials": "t.yaml"}, "simulation": {"startup_delay": 7},
                   "variants": [{"name": "r", "algorithm": "random"}]}, tmp_path)
    assert sc.simulation == {"startup_delay": 7, "suggestion_startup_delay": 0.0}


def test_without_start_times_no_startup_delay(monkeypatch, tmp_path):
    from whatif_helpers import table, trial

    t = trial(0, 0.1)
    install_reader(monkeypatch, table([type(t)(t.name, t.parameters, t.status, 0.1)], parallel_trial_count=1))
    sc, _ = _read({"name": "wi", "what_if": {"trials": "t.yaml"}, "variants": [{"name": "r", "algorithm": "random"}]}, tmp_path)
    assert sc.simulation["startup_delay"] == 0.0


def test_the_default_target_is_the_level_of_the_real_run_s_best_tenth(monkeypatch, tmp_path):
    install_reader(monkeypatch, timed_table([0.2, 0.7, None, 0.5], parallel=2))
    sc, errors = _read({"name": "wi", "what_if": {"trials": "t.yaml"}, "variants": [{"name": "r", "algorithm": "random"}]}, tmp_path)
    assert errors == [] and sc.target.value == 0.7  # 3 values: the best tenth is the best one
    install_reader(monkeypatch, timed_table([float(v) for v in range(25)], parallel=2))
    sc, _ = _read({"name": "wi", "what_if": {"trials": "t.yaml"}, "variants": [{"name": "r", "algorithm": "random"}]}, tmp_path)
    assert sc.target.value == 22.0  # 25 values: 3 of them (ceil 2.5) reach 22 or more
    sc, _ = _read({"name": "wi", "what_if": {"trials": "t.yaml"}, "target": {"value": 0.5},
                   "variants": [{"name": "r", "algorithm": "random"}]}, tmp_path)
    assert sc.target.value == 0.5


def test_minimised_the_default_target_is_the_low_end(monkeypatch, tmp_path):
    install_reader(monkeypatch, timed_table([0.2, 0.7, 0.5], parallel=2, direction="minimize"))
    sc, _ = _read({"name": "wi", "what_if": {"trials": "t.yaml"}, "variants": [{"name": "r", "algorithm": "random"}]}, tmp_path)
    assert sc.target.value == 0.2


ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_trials_alone_make_a_scenario():
    """Katib's Trial List without its Experiment: space inferred, parallelism measured, direction from the Trials."""
    trials = ROOT / "examples" / "workload" / "trials.yaml"
    sc, errors = read_scenario({"name": "wi", "what_if": {"trials": str(trials), "algorithms": ["tpe", "grid"]}},
                               file=str(ROOT / "scenarios" / "x.yaml"))
    assert errors == []
    spec = sc.spec
    assert spec["objective"] == {"type": "maximize", "objectiveMetricName": "accuracy_1"}
    assert spec["parallelTrialCount"] == 3 and spec["maxTrialCount"] == 80
    assert [p["name"] for p in spec["parameters"]] == ["--learning_rate", "--batch_size"]
    assert sc.variant_names == ("as-run", "tpe", "as-run-parallel-1", "as-run-parallel-6", "as-run-max-40", "as-run-max-160")
    assert 0.95 < sc.target.value < 0.98  # the 8th best of 80
    assert dict(sc.what_if.skipped)["grid"].startswith("the space is not finite: --learning_rate")


def test_a_table_alone_with_its_direction():
    """The shipped CSV has no direction: what_if.direction gives it, to the reader and the objective."""
    trials = ROOT / "examples" / "workload" / "trials.csv"
    sc, errors = read_scenario({"name": "wi", "what_if": {"trials": str(trials), "direction": "maximize", "algorithms": ["tpe"]}},
                               file=str(ROOT / "scenarios" / "x.yaml"))
    assert errors == []
    assert sc.spec["objective"] == {"type": "maximize", "objectiveMetricName": "accuracy_1"}
    assert sc.objective.options["direction"] == "maximize" and sc.what_if.direction == "maximize"
    _, errors = read_scenario({"name": "wi", "what_if": {"trials": str(trials)}}, file=str(ROOT / "scenarios" / "x.yaml"))
    assert [e.path for e in errors] == ["what_if"]
    assert "do not say whether accuracy_1 is maximized or minimized" in errors[0].message


def test_the_as_run_random_search_is_the_normalised_scores_baseline(monkeypatch, tmp_path, tbl):
    """as-run inherits the Experiment's algorithm (random here), so it is the random-search baseline
    without the scenario naming one."""
    install_reader(monkeypatch, tbl)
    sc, errors = _read({"name": "wi", "what_if": {"trials": "trials.yaml", "algorithms": ["tpe"]}}, tmp_path)
    assert errors == [] and sc.report.baseline == "as-run"
