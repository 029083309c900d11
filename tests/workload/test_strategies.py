"""A Trial's value is its objective metric under Katib's metric strategy."""

from __future__ import annotations

import pytest
import yaml

from katibsim.workload.readers import read_trials

from .conftest import experiment_object, metric, trial_object, write_list

P = [{"name": "lr", "parameterType": "double", "feasibleSpace": {"min": "0.001", "max": "1"}}]


def _trials(objective, n=3):
    return [trial_object(f"t{i}", {"lr": str(0.01 * (i + 1))}, objective=objective,
                         metrics=[metric("acc", 0.1 * i, 0.5 + 0.1 * i, 0.3 + 0.1 * i), metric("loss", 1 + i, 5 + i, 2 + i)])
            for i in range(n)]


@pytest.mark.parametrize("strategy,expected", [("min", [0.0, 0.1, 0.2]), ("max", [0.5, 0.6, 0.7]),
                                               ("latest", [0.3, 0.4, 0.5])])
def test_the_trials_own_strategy(tmp_path, strategy, expected):
    objective = {"type": "maximize", "objectiveMetricName": "acc",
                 "metricStrategies": [{"name": "acc", "value": strategy}, {"name": "loss", "value": "min"}]}
    table = read_trials(write_list(tmp_path / "t.yaml", _trials(objective)))
    assert [t.value for t in table.trials] == pytest.approx(expected)
    assert [t.metrics["loss"] for t in table.trials] == [2.0, 3.0, 4.0]  # other metrics: latest


@pytest.mark.parametrize("kind,expected", [("maximize", [0.5, 0.6, 0.7]), ("minimize", [0.0, 0.1, 0.2])])
def test_katibs_default_strategy_follows_the_objective_type(tmp_path, kind, expected):
    table = read_trials(write_list(tmp_path / "t.yaml", _trials({"type": kind, "objectiveMetricName": "acc"})))
    assert table.direction == kind
    assert [t.value for t in table.trials] == pytest.approx(expected)


def test_the_experiments_strategies_when_the_trials_carry_none(tmp_path):
    trials = write_list(tmp_path / "t.yaml", _trials({"type": "maximize", "objectiveMetricName": "acc"}))
    exp = experiment_object(P, objective={"type": "maximize", "objectiveMetricName": "acc",
                                          "metricStrategies": [{"name": "acc", "value": "latest"}]})
    (tmp_path / "e.yaml").write_text(yaml.safe_dump(exp))
    table = read_trials(trials, experiment=tmp_path / "e.yaml")
    assert [t.value for t in table.trials] == pytest.approx([0.3, 0.4, 0.5])
    assert table.declared == {"lr"} and table.algorithm_name == "random" and table.parallel_trial_count == 2


def test_metric_chooses_another_metric(tmp_path):
    table = read_trials(write_list(tmp_path / "t.yaml", _trials({"type": "minimize", "objectiveMetricName": "acc"})),
                        metric="loss")
    # loss gets Katib's default for the experiment's type (min); its direction is not known
    assert table.metric_name == "loss" and table.direction is None
    assert [t.value for t in table.trials] == [1.0, 2.0, 3.0]
    assert "acc" in table.trials[0].metrics


def test_unavailable_metric_is_no_value(tmp_path):
    trials = _trials(None)
    trials[1]["status"]["observation"]["metrics"][0] = {"name": "acc", "min": "unavailable", "max": "unavailable",
                                                       "latest": "unavailable"}
    table = read_trials(write_list(tmp_path / "t.yaml", trials))
    assert table.trials[1].value is None and not table.trials[1].usable and len(table.usable) == 2


def test_table_value_from_per_step_columns(tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("lr,acc@1,acc@2,acc@3\n0.1,0.5,0.9,0.7\n0.2,0.2,0.3,0.4\n")
    table = read_trials(f)  # no direction known: Katib's default for that is latest
    assert [t.value for t in table.trials] == [0.7, 0.4]
    assert table.trials[0].curve == ((1.0, 0.5), (2.0, 0.9), (3.0, 0.7))
    exp = experiment_object([{"name": "lr", "parameterType": "double", "feasibleSpace": {"min": "0.1", "max": "1"}}])
    (tmp_path / "e.yaml").write_text(yaml.safe_dump(exp))
    assert [t.value for t in read_trials(f, experiment=tmp_path / "e.yaml", metric="acc").trials] == [0.9, 0.4]


def test_result_json_with_another_metric(tmp_path):
    from .conftest import SHIPPED

    table = read_trials(SHIPPED / "result.json", metric="loss")
    # the run's spec gives loss Katib's default for a maximized objective: max
    assert table.metric_name == "loss" and table.direction is None and all(t.curve == () for t in table.trials)
    assert table.trials[0].value == pytest.approx(0.378488)


def test_direction_for_a_table_without_its_experiment(tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("lr,loss@1,loss@2\n0.1,0.5,0.9\n0.2,0.3,0.2\n")
    assert read_trials(f).direction is None
    table = read_trials(f, direction="minimize")
    # Katib's default strategy for a minimized metric: min over the reports
    assert table.direction == "minimize" and [t.value for t in table.trials] == [0.5, 0.2]
    assert [t.value for t in read_trials(f, direction="maximize").trials] == [0.9, 0.3]


def test_direction_must_not_contradict_the_source(tmp_path):
    from katibsim.errors import InputError

    from .conftest import SHIPPED

    trials = write_list(tmp_path / "t.yaml", _trials({"type": "maximize", "objectiveMetricName": "acc"}))
    assert read_trials(trials, direction="maximize").direction == "maximize"
    with pytest.raises(InputError, match=r"the trials maximize acc; direction=minimize contradicts that"):
        read_trials(trials, direction="minimize")
    with pytest.raises(InputError, match=r"direction: expected maximize or minimize, got 'up'"):
        read_trials(trials, direction="up")
    assert read_trials(SHIPPED / "result.json", metric="loss", direction="minimize").direction == "minimize"
