"""The shipped real trials (examples/workload/) read into the same table from every format."""

from __future__ import annotations

import csv
import json
import shutil

import pytest
import yaml

from katibsim.spec.loader import load_experiment
from katibsim.spec.space import Distribution, ParameterType
from katibsim.workload.readers import read_trials

from .conftest import ROOT, SHIPPED

TRIALS, RESULT, CSV, EXPERIMENT = (SHIPPED / f for f in ("trials.yaml", "result.json", "trials.csv", "experiment.yaml"))


@pytest.fixture(scope="module")
def from_result():
    return read_trials(RESULT)


@pytest.fixture(scope="module")
def from_trials():
    return read_trials(TRIALS)


@pytest.fixture(scope="module")
def docs():
    """The shipped Experiment and its first 12 Trials (format variations need no more)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(EXPERIMENT.read_text(), Loader=loader), yaml.load(TRIALS.read_text(), Loader=loader)["items"][:12]


@pytest.fixture(scope="module")
def few():
    return _values(read_trials(RESULT))[:12]


def _values(table):
    return [(t.name, dict(t.parameters), t.status, t.value) for t in table.trials]


def test_the_shipped_run_is_real_and_large_enough(from_result):
    data = json.loads(RESULT.read_text())
    assert data["backend"] == "local" and data["algorithm"] == "random"
    assert len(from_result.usable) == len(from_result.trials) == 80
    assert from_result.metric_name == "accuracy_1" and from_result.direction == "maximize"
    # structure to learn from: large learning rates break training, small ones do not
    by_lr = sorted(from_result.usable, key=lambda t: float(t.parameters["--learning_rate"]))
    assert max(t.value for t in by_lr[:20]) > 0.96 > min(t.value for t in by_lr[-10:])
    assert all(len(t.curve) == 10 for t in from_result.usable)


def test_trials_yaml_is_what_kubectl_prints(from_result):
    listing = yaml.safe_load(TRIALS.read_text())
    assert listing["apiVersion"] == "v1" and listing["kind"] == "List"
    assert {i["kind"] for i in listing["items"]} == {"Trial"}
    assert [i["metadata"]["name"] for i in listing["items"]] == [t.name for t in from_result.trials]
    exp = yaml.safe_load(EXPERIMENT.read_text())
    assert exp["kind"] == "Experiment" and exp["status"]["trials"] == 80


def test_output_paths_are_relative_to_the_run_folder():
    # (tests/test_repo_stands_alone.py checks the shipped files for machine paths)
    for t in json.loads(RESULT.read_text())["trials"]:
        assert t["output_path"] == f"trials/{t['name']}/output.log"


def test_trial_list_and_result_agree(from_result, from_trials):
    assert _values(from_trials) == _values(from_result)
    for a, b in zip(from_trials.trials, from_result.trials):
        assert a.metrics == b.metrics  # loss, latest
        # Katib's timestamps have whole seconds
        assert abs(a.created - b.created) <= 1.0 and abs(a.duration - b.duration) <= 1.0 + 1e-9


def test_run_folder_reads_its_result(tmp_path, from_result):
    shutil.copy(RESULT, tmp_path / "result.json")
    assert _values(read_trials(tmp_path)) == _values(from_result)


def test_csv_and_json_table_agree_with_the_result(tmp_path, from_result):
    from_csv = read_trials(CSV, metric="accuracy_1")
    assert _values(from_csv) == _values(from_result)
    for a, b in zip(from_csv.trials, from_result.trials):
        assert a.curve == tuple((float(s), v) for s, v in b.curve)
        assert a.duration == pytest.approx(b.duration, abs=1e-3)
    rows = list(csv.DictReader(CSV.open()))
    (tmp_path / "t.json").write_text(json.dumps(rows))
    assert _values(read_trials(tmp_path / "t.json", metric="accuracy_1")) == _values(from_result)
    # the one metric with per-step columns is the objective when none is named
    assert read_trials(CSV).metric_name == "accuracy_1"


def test_the_experiment_declares_the_space(from_result, from_trials):
    declared = load_experiment(EXPERIMENT).search_space()
    assert from_result.space == declared and from_result.declared == {"--learning_rate", "--batch_size"}
    with_exp = read_trials(TRIALS, experiment=EXPERIMENT)
    assert with_exp.space == declared and _values(with_exp) == _values(from_trials)
    assert (with_exp.algorithm_name, with_exp.parallel_trial_count, with_exp.max_trial_count) == ("random", 3, 80)
    assert with_exp.experiment_name == "mnist-random" and with_exp.experiment["kind"] == "Experiment"
    csv_exp = read_trials(CSV, experiment=EXPERIMENT)
    assert csv_exp.space == declared and csv_exp.direction == "maximize"


def test_trials_alone_take_their_experiment_name_from_katibs_label(from_trials):
    assert from_trials.experiment_name == "mnist-random"  # katib.kubeflow.org/experiment


def test_inferred_space_of_the_trials_alone(from_trials):
    assert from_trials.declared == frozenset()
    lr, bs = from_trials.space.parameters
    assert lr.type == ParameterType.DOUBLE and lr.distribution == Distribution.LOG_UNIFORM
    assert bs.type == ParameterType.INT
    values = [float(t.parameters["--learning_rate"]) for t in from_trials.trials]
    assert (lr.min, lr.max) == (min(values), max(values))


def test_one_file_with_the_experiment_and_its_trials(tmp_path, docs, few):
    exp, items = docs
    multi = tmp_path / "all.yaml"
    multi.write_text(yaml.safe_dump_all([exp, *items], sort_keys=False))
    listed = tmp_path / "list.yaml"
    listed.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [exp, *items]}, sort_keys=False))
    for f in (multi, listed):
        table = read_trials(f)
        assert table.declared == {"--learning_rate", "--batch_size"} and table.algorithm_name == "random"
        assert _values(table) == few


def test_katibsim_run_yaml_output_is_read_too(tmp_path, docs, few):
    """`katibsim run --trial-objects -o yaml` prints Experiment, Suggestion and Trials: readable as they are."""
    exp, items = docs
    suggestion = {"apiVersion": "kubeflow.org/v1beta1", "kind": "Suggestion", "metadata": {"name": "mnist-random"}}
    f = tmp_path / "run.yaml"
    f.write_text(yaml.safe_dump_all([exp, suggestion, *items], sort_keys=False) + "# kubectl get trials\n")
    assert _values(read_trials(f)) == few


def test_the_shipped_experiment_runs_locally():
    """mnist-random.yaml is a valid Experiment whose local map points at the real trainer."""
    exp = load_experiment(SHIPPED / "mnist-random.yaml")
    assert exp.spec.max_trial_count == 80 and exp.spec.algorithm.algorithm_name == "random"
    mapping = exp.metadata["annotations"]["katibsim.io/local-map"]
    local = mapping.strip().split("=", 1)[1]
    assert (SHIPPED / local).resolve() == ROOT / "examples" / "trainers" / "mnist_with_summaries.py"


def test_kubectl_json_output_is_read_too(tmp_path, docs, few):
    """`kubectl get trials -o json` prints the same List as JSON."""
    f = tmp_path / "trials.json"
    f.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": docs[1]}))
    assert _values(read_trials(f)) == few


def test_a_yaml_sequence_of_trials(tmp_path, docs, few):
    f = tmp_path / "seq.yaml"
    f.write_text(yaml.safe_dump(docs[1], sort_keys=False))
    assert _values(read_trials(f)) == few
