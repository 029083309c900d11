"""Bad input: an InputError naming the file, the item or row and field, and what was expected."""

from __future__ import annotations

import json

import pytest
import yaml

from katibsim.errors import InputError
from katibsim.workload.readers import read_trials

from .conftest import SHIPPED, experiment_object, metric, trial_object, write_list


def _ok(i, **kw):
    return trial_object(f"t{i}", {"lr": str(0.1 * (i + 1))}, metrics=[metric("acc", 0.1, 0.5, 0.4)], **kw)


def _raises(match, path, **kw):
    with pytest.raises(InputError, match=match):
        read_trials(path, **kw)


def test_bad_metric_value_names_item_and_field(tmp_path):
    items = [_ok(i) for i in range(5)]
    items[3]["status"]["observation"]["metrics"][0]["max"] = "lots"
    _raises(r"t\.yaml: items\[3\]\.status\.observation\.metrics\[0\]\.max: expected a number, got 'lots'",
            write_list(tmp_path / "t.yaml", items))


def test_bad_observation_shape(tmp_path):
    items = [_ok(0), _ok(1)]
    items[1]["status"]["observation"] = ["acc"]
    _raises(r"items\[1\]\.status\.observation: expected a mapping", write_list(tmp_path / "t.yaml", items))


def test_bad_timestamp(tmp_path):
    items = [_ok(0)]
    items[0]["metadata"]["creationTimestamp"] = "yesterday"
    _raises(r"items\[0\]\.metadata\.creationTimestamp: expected an RFC 3339 time", write_list(tmp_path / "t.yaml", items))


def test_missing_assignments_and_wrong_version(tmp_path):
    items = [_ok(0), _ok(1)]
    del items[1]["spec"]["parameterAssignments"]
    _raises(r"items\[1\]\.spec\.parameterAssignments: expected the trial's assignments", write_list(tmp_path / "a.yaml", items))
    items = [_ok(0)]
    items[0]["apiVersion"] = "kubeflow.org/v1alpha3"
    _raises(r"items\[0\]\.apiVersion: expected kubeflow\.org/v1beta1", write_list(tmp_path / "b.yaml", items))


def test_trials_with_different_parameters(tmp_path):
    items = [_ok(0), trial_object("t1", {"momentum": "0.9"}, metrics=[metric("acc", 0, 1, 1)])]
    _raises(r"items\[1\]: parameters do not match the first trial's \(lr\): missing lr; unknown momentum",
            write_list(tmp_path / "t.yaml", items))


def test_trials_of_two_experiments(tmp_path):
    items = [_ok(0, experiment="a"), _ok(1, experiment="b")]
    _raises(r"trials of 2 experiments \(a, b\).*katib\.kubeflow\.org/experiment=NAME", write_list(tmp_path / "t.yaml", items))


def test_trials_of_another_experiment(tmp_path):
    (tmp_path / "e.yaml").write_text(yaml.safe_dump(experiment_object(
        [{"name": "lr", "parameterType": "double", "feasibleSpace": {"min": "0.1", "max": "1"}}], name="other")))
    _raises(r"belong to experiment exp, not to other", write_list(tmp_path / "t.yaml", [_ok(0)]),
            experiment=tmp_path / "e.yaml")


def test_assignment_outside_the_declared_type(tmp_path):
    (tmp_path / "e.yaml").write_text(yaml.safe_dump(experiment_object(
        [{"name": "lr", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "9"}}])))
    _raises(r"items\[0\]: parameter lr: '0\.1' is not a value of a int parameter",
            write_list(tmp_path / "t.yaml", [_ok(0)]), experiment=tmp_path / "e.yaml")


def test_running_trials_are_kept_but_not_usable(tmp_path):
    items = [_ok(0), trial_object("t1", {"lr": "0.5"}, condition="Running", ended=None,
                                  metrics=[metric("acc", 0.1, 0.2, 0.2)])]
    table = read_trials(write_list(tmp_path / "t.yaml", items))
    assert [t.status for t in table.trials] == ["Succeeded", "Running"]
    assert table.trials[1].value == 0.2 and not table.trials[1].usable and len(table.usable) == 1
    assert table.trials[1].ended is None and table.trials[1].duration is None


def test_early_stopped_trial_ends_at_its_condition(tmp_path):
    items = [trial_object("t0", {"lr": "0.5"}, condition="EarlyStopped", ended="2026-01-01T00:00:42Z",
                          metrics=[metric("acc", 0.1, 0.3, 0.2)])]
    t = read_trials(write_list(tmp_path / "t.yaml", items)).trials[0]
    assert t.usable and t.ended == 42.0 and t.value == 0.3


def test_no_usable_trial(tmp_path):
    items = [trial_object(f"t{i}", {"lr": "0.1"}, condition="Failed", metrics=[]) for i in range(3)]
    _raises(r"t\.yaml: no usable trial: none of the 3 trials finished .* \(their statuses: Failed\)",
            write_list(tmp_path / "t.yaml", items))
    _raises(r"holds no Trial objects", write_list(tmp_path / "e.yaml", []))


def test_csv_errors(tmp_path):
    cases = {
        "lr,acc\n0.1,0.5\n0.2,0.6\n0.3,0.7\n0.4,0.8\n0.5,0.9\n0.6,1.0\n0.7,high\n": r"row 7, column acc: expected a number, got 'high'",
        "lr,acc\n0.1,0.5\n,0.6\n": r"row 2, column lr: empty",
        "lr,acc\n0.1,0.5,3\n": r"row 1: 3 cells for 2 columns",
        "lr,acc,status\n0.1,0.5,Done\n": r"row 1, column status: expected one of Succeeded",
        "lr,acc,duration\n0.1,0.5,-3\n": r"row 1, column duration: expected seconds >= 0",
        "lr,lr,acc\n0.1,0.5,1\n": r"header: column lr appears twice",
        "lr,acc\n": r"holds no rows",
    }
    for i, (text, match) in enumerate(cases.items()):
        f = tmp_path / f"table{i}.csv"
        f.write_text(text)
        _raises(rf"table{i}\.csv: {match}", f, metric="acc")


def test_which_metric(tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("lr,acc,loss\n0.1,0.5,1\n")
    _raises(r"which column is the objective metric\? give the metric \(--metric NAME; objective option metric=NAME\)", f)
    _raises(r"no column f1 \(the objective metric\)", f, metric="f1")


def test_json_and_folder_errors(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps({"rows": []}))
    _raises(r"a\.json: a JSON object that is neither", tmp_path / "a.json")
    (tmp_path / "b.json").write_text(json.dumps([{"lr": [1]}]))
    _raises(r"b\.json: row 1, column lr: expected a number or a string", tmp_path / "b.json")
    (tmp_path / "c.json").write_text("[{")
    _raises(r"c\.json:1:3: invalid JSON", tmp_path / "c.json")
    _raises(r"a folder without result\.json", tmp_path)
    _raises(r"no such file", tmp_path / "missing.yaml")
    (tmp_path / "d.yaml").write_text("foo: 1\n")
    _raises(r"d\.yaml: YAML without Katib objects", tmp_path / "d.yaml")


def test_result_errors(tmp_path):
    data = json.loads((SHIPPED / "result.json").read_text())
    data["trials"][2]["value"] = "x"
    (tmp_path / "r.json").write_text(json.dumps(data))
    _raises(r"r\.json: trials\[2\]\.value: expected a number, got 'x'", tmp_path / "r.json")
    data["schema"] = 999
    (tmp_path / "r.json").write_text(json.dumps(data))
    _raises(r"r\.json: schema: a katibsim run result of schema 999", tmp_path / "r.json")
    data = json.loads((SHIPPED / "result.json").read_text())
    _raises(r"no trial observed metric 'f1'; the run's metrics are accuracy_1, loss", SHIPPED / "result.json", metric="f1")



@pytest.mark.parametrize("key, value, message", [
    ("goal", "abc", r"r\.json: goal: expected a number, got 'abc'"),
    ("parallel_trial_count", "x", r"r\.json: parallel_trial_count: expected a positive whole number, got 'x'"),
    ("max_trial_count", 0, r"r\.json: max_trial_count: expected a positive whole number, got 0"),
])
def test_result_top_level_fields_are_checked(tmp_path, key, value, message):
    data = json.loads((SHIPPED / "result.json").read_text())
    data[key] = value
    (tmp_path / "r.json").write_text(json.dumps(data))
    _raises(message, tmp_path / "r.json")


def test_a_result_trials_condition_must_be_a_trial_condition(tmp_path):
    """A typo would otherwise drop the trial from what is learned, without a word."""
    data = json.loads((SHIPPED / "result.json").read_text())
    data["trials"][4]["condition"] = "Succeded"
    (tmp_path / "r.json").write_text(json.dumps(data))
    _raises(r"r\.json: trials\[4\]\.condition: expected one of Succeeded, .*, got 'Succeded'", tmp_path / "r.json")

def test_table_times_and_tabs(tmp_path):
    f = tmp_path / "t.tsv"
    f.write_text("lr\tacc\tcreated\tstarted\tended\n"
                 "0.1\t0.5\t2026-01-01T00:00:10Z\t2026-01-01T00:00:12Z\t2026-01-01T00:01:00Z\n"
                 "0.2\t0.6\t2026-01-01T00:00:00Z\t\t2026-01-01T00:00:30Z\n")
    table = read_trials(f, metric="acc")
    # ordered by creation, times from the first creation
    assert [t.parameters["lr"] for t in table.trials] == ["0.2", "0.1"]
    assert [(t.created, t.started, t.ended, t.duration) for t in table.trials] == [
        (0.0, None, 30.0, 30.0), (10.0, 12.0, 60.0, 48.0)]
    f = tmp_path / "bad.csv"
    f.write_text("lr,acc,ended\n0.1,0.5,noon\n")
    _raises(r"bad\.csv: row 1, column ended: expected an RFC 3339 time", f, metric="acc")
