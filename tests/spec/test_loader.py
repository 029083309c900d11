"""Loading Experiment files: YAML/JSON, several documents, v1alpha3 conversion, wrong types as FieldErrors."""

from __future__ import annotations

import io
import json

import pytest
import yaml

from experiment_docs import SEED, V1BETA1_DOC, at, one, v1alpha3, v1beta1
from katibsim.errors import InputError, SpecError
from katibsim.spec.loader import (
    experiment_from_dict,
    load_experiment,
    load_file,
    load_text,
    parse_experiment,
)
from katibsim.spec.model import V1ALPHA3, V1BETA1


def write(tmp_path, name: str, text: str):
    p = tmp_path / name
    p.write_text(text)
    return p


# -- the seed: v1alpha3 converted on load ----------------------------------------------------------
def test_seed_v1alpha3_is_converted_to_the_internal_model():
    exp = load_experiment(SEED)
    assert (exp.name, exp.namespace) == ("tfjob-bayesian", "kubeflow")
    assert exp.source_api_version == V1ALPHA3 and exp.api_version == V1BETA1
    assert exp.source_file == str(SEED)
    s = exp.spec
    assert [(p.name, p.parameter_type, p.feasible_space.min, p.feasible_space.max) for p in s.parameters] == [
        ("--learning_rate", "double", "0.01", "0.05"),
        ("--batch_size", "int", "100", "200"),
    ]
    assert s.objective.type == "maximize" and s.objective.goal == 0.99
    assert s.objective.objective_metric_name == "accuracy_1"
    assert s.objective.metric_strategies == ()  # v1alpha3 has none, and gets none by default
    assert s.algorithm.algorithm_name == "bayesianoptimization"
    assert (s.parallel_trial_count, s.max_trial_count, s.max_failed_trial_count) == (3, 12, 3)
    assert s.resume_policy == "LongRunning"  # v1alpha3's default, not v1beta1's Never
    tt = s.trial_template
    assert tt.go_template.startswith('apiVersion: "kubeflow.org/v1"\nkind: TFJob\n')
    assert "{{- range .}}" in tt.go_template and tt.trial_spec is None and tt.go_template_spec is None
    assert tt.retain is False  # retain: true is only the default of a missing trialTemplate
    mc = s.metrics_collector_spec
    assert mc.kind == "TensorFlowEvent"
    assert (mc.file_system_path.path, mc.file_system_path.kind, mc.file_system_path.format) == ("/train", "Directory", None)
    assert s.parameters[0].feasible_space.distribution is None  # v1alpha3 has no distribution


def test_v1alpha3_early_stopping_moves_out_of_algorithm():
    def mutate(d):
        d["spec"]["algorithm"]["earlyStopping"] = {
            "earlyStoppingAlgorithmName": "medianstop",
            "earlyStoppingSettings": [{"name": "min_trials_required", "value": "2"}],
        }

    exp = experiment_from_dict(v1alpha3(mutate))
    assert exp.spec.early_stopping.algorithm_name == "medianstop"
    assert exp.spec.early_stopping.settings() == {"min_trials_required": "2"}
    assert exp.spec.algorithm.algorithm_name == "bayesianoptimization"


def test_v1alpha3_template_spec_is_kept():
    def mutate(d):
        d["spec"]["trialTemplate"] = {
            "goTemplate": {"templateSpec": {"configMapName": "cm", "configMapNamespace": "kubeflow", "templatePath": "t.yaml"}}
        }

    exp = experiment_from_dict(v1alpha3(mutate))
    assert exp.spec.trial_template.go_template is None
    assert dict(exp.spec.trial_template.go_template_spec) == {
        "configMapName": "cm", "configMapNamespace": "kubeflow", "templatePath": "t.yaml",
    }


@pytest.mark.parametrize(
    "mutate, path",
    [
        (lambda d: d["spec"]["objective"].update(metricStrategies=[{"name": "accuracy_1", "value": "latest"}]),
         "spec.objective.metricStrategies"),
        (lambda d: d["spec"]["parameters"][0]["feasibleSpace"].update(distribution="logUniform"),
         "spec.parameters[0].feasibleSpace.distribution"),
        (lambda d: d["spec"].update(earlyStopping={"algorithmName": "medianstop"}), "spec.earlyStopping"),
        (lambda d: d["spec"]["metricsCollectorSpec"]["source"]["fileSystemPath"].update(format="TEXT"),
         "spec.metricsCollectorSpec.source.fileSystemPath.format"),
    ],
)
def test_v1beta1_only_fields_in_v1alpha3_are_dropped_with_a_warning(mutate, path):
    exp, found = parse_experiment(v1alpha3(mutate))
    warning = one(found, path, "v1alpha3")
    assert warning.severity == "warning"
    assert exp.spec.objective.metric_strategies == ()
    assert exp.spec.parameters[0].feasible_space.distribution is None
    assert exp.spec.early_stopping is None


# -- several documents, JSON, List ------------------------------------------------------------------
def test_several_documents_other_kinds_skipped_with_a_note(tmp_path):
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}
    second = v1beta1(lambda d: d["metadata"].update(name="second"))
    text = yaml.safe_dump_all([V1BETA1_DOC, cm, None, second])
    result = load_file(write(tmp_path, "multi.yaml", text))
    assert [e.name for e in result.experiments] == ["random-job", "second"]
    assert [e.document_index for e in result.experiments] == [0, 2]
    assert result.notes == ("document 2: kind ConfigMap skipped",)
    assert result.errors == ()
    assert [d.where for d in result.documents] == ["document 1", "document 4"]


def test_an_experiment_of_another_group_is_skipped(tmp_path):
    other = {"apiVersion": "chaos.example.com/v1", "kind": "Experiment", "metadata": {"name": "x"}}
    result = load_text(yaml.safe_dump_all([other, V1BETA1_DOC]))
    assert len(result.experiments) == 1
    assert "not Katib" in result.notes[0]


def test_broken_document_does_not_hide_the_good_one():
    broken = v1beta1(lambda d: d["spec"].update(parallelTrialCount="3"))
    result = load_text(yaml.safe_dump_all([broken, V1BETA1_DOC]))
    assert len(result.experiments) == 1 and result.experiments[0].document_index == 1
    assert [e.path for e in result.errors] == ["spec.parallelTrialCount"]
    assert not result.documents[0].ok and result.documents[1].ok


def test_json_file(tmp_path):
    result = load_file(write(tmp_path, "exp.json", json.dumps(V1BETA1_DOC, indent=1)))
    assert [e.name for e in result.experiments] == ["random-job"]
    assert result.experiments[0].spec.parameters[0].feasible_space.min == "0.01"


def test_json_array_and_kubectl_list():
    second = v1beta1(lambda d: d["metadata"].update(name="second"))
    assert len(load_text(json.dumps([V1BETA1_DOC, second])).experiments) == 2
    listing = {"apiVersion": "v1", "kind": "List", "items": [V1BETA1_DOC, second]}
    result = load_text(yaml.safe_dump(listing))
    assert [e.name for e in result.experiments] == ["random-job", "second"]
    assert [d.where for d in result.documents] == ["document 1 item 1", "document 1 item 2"]


def test_stdin(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(yaml.safe_dump(V1BETA1_DOC)))
    assert load_file("-").experiments[0].name == "random-job"


# -- unreadable input: InputError naming the file (and line) ----------------------------------------
def test_missing_file_and_directory(tmp_path):
    with pytest.raises(InputError, match="nope.yaml: no such file"):
        load_file(tmp_path / "nope.yaml")
    with pytest.raises(InputError, match="is a directory"):
        load_file(tmp_path)


def test_bad_yaml_names_file_and_line(tmp_path):
    p = write(tmp_path, "bad.yaml", "apiVersion: kubeflow.org/v1beta1\nkind: Experiment\nspec:\n  a: [1, 2\n  b: 3\n")
    with pytest.raises(InputError) as info:
        load_file(p)
    assert str(info.value).startswith(f"{p}:5:")
    assert "invalid YAML" in str(info.value)


def test_bad_json_names_file_and_line(tmp_path):
    p = write(tmp_path, "bad.json", '{\n  "kind": "Experiment",\n  "spec": {,}\n}')
    with pytest.raises(InputError, match=rf"{p}:3:\d+: invalid JSON"):
        load_file(p)


def test_duplicate_keys_are_refused_like_kubectl(tmp_path):
    p = write(tmp_path, "dup.yaml", "kind: Experiment\nspec:\n  maxTrialCount: 3\n  maxTrialCount: 4\n")
    with pytest.raises(InputError, match=r'dup.yaml:4:\d+: invalid YAML: mapping key "maxTrialCount" already defined'):
        load_file(p)
    with pytest.raises(InputError, match="duplicate key"):
        load_text('{"kind": "Experiment", "kind": "Experiment"}', file="x.json")


def test_not_utf8(tmp_path):
    p = tmp_path / "latin.yaml"
    p.write_bytes(b"kind: Experiment\nname: caf\xe9\n")
    with pytest.raises(InputError, match="not UTF-8"):
        load_file(p)


def test_recursive_alias_is_an_error_not_a_hang():
    # a list that contains itself: go-yaml (under Kubernetes' decoder) refuses "value contains itself"
    text = yaml.safe_dump(V1BETA1_DOC).replace("trialSpec:", "trialSpec:\n      loop: &loop [1, *loop]", 1)
    with pytest.raises(InputError, match=r"<string>:\d+:\d+: recursive YAML alias"):
        load_text(text)
    # a mapping that contains itself: unreadable input, with its line
    with pytest.raises(InputError, match="recursive"):
        load_text("kind: Experiment\nspec: &s {a: *s}\n", file="r.yaml")


# -- wrong types become FieldErrors at their path ---------------------------------------------------
@pytest.mark.parametrize(
    "mutate, path, message",
    [
        (lambda d: d["spec"].update(parallelTrialCount="3"), "spec.parallelTrialCount", "expected an integer, got a string ('3')"),
        (lambda d: d["spec"].update(maxTrialCount=2.5), "spec.maxTrialCount", "expected an integer"),
        (lambda d: d["spec"].update(maxTrialCount=2**40), "spec.maxTrialCount", "32-bit"),
        (lambda d: d["spec"].update(maxFailedTrialCount=True), "spec.maxFailedTrialCount", "got a boolean"),
        (lambda d: d["spec"]["parameters"][0]["feasibleSpace"].update(min=0.01),
         "spec.parameters[0].feasibleSpace.min", 'quote it: "0.01"'),
        (lambda d: d["spec"]["parameters"][2]["feasibleSpace"].update(list=["sgd", 3]),
         "spec.parameters[2].feasibleSpace.list[1]", "expected a string"),
        (lambda d: d["spec"].update(parameters={"lr": {}}), "spec.parameters", "expected a list, got a mapping"),
        (lambda d: d["spec"]["parameters"].__setitem__(1, "layers"), "spec.parameters[1]", "expected a mapping"),
        (lambda d: d["spec"].update(objective=["maximize"]), "spec.objective", "expected a mapping, got a list"),
        (lambda d: d["spec"]["objective"].update(goal="high"), "spec.objective.goal", "expected a number"),
        (lambda d: d["spec"]["objective"].update(goal=float("inf")), "spec.objective.goal", "finite"),
        (lambda d: d["spec"]["objective"].update(additionalMetricNames="loss"),
         "spec.objective.additionalMetricNames", "expected a list"),
        (lambda d: d["spec"]["algorithm"].update(algorithmSettings=[{"name": "n", "value": 5}]),
         "spec.algorithm.algorithmSettings[0].value", "setting values as strings"),
        (lambda d: d["spec"]["trialTemplate"].update(retain="yes"), "spec.trialTemplate.retain", "expected a boolean"),
        (lambda d: d["spec"]["trialTemplate"].update(trialSpec=["Job"]), "spec.trialTemplate.trialSpec", "expected a mapping"),
        (lambda d: d["spec"]["trialTemplate"].update(primaryPodLabels={"role": 1}),
         "spec.trialTemplate.primaryPodLabels[role]", "expected a string"),
        (lambda d: d["spec"].update(metricsCollectorSpec={"collector": {"kind": ["File"]}}),
         "spec.metricsCollectorSpec.collector.kind", "expected a string"),
        (lambda d: d["spec"].update(metricsCollectorSpec={"collector": {"kind": "PrometheusMetric"},
                                                          "source": {"httpGet": {"port": 1.5}}}),
         "spec.metricsCollectorSpec.source.httpGet.port", "expected a port number or name"),
        (lambda d: d["metadata"].update(name=42), "metadata.name", "expected a string"),
        (lambda d: d.update(metadata="x"), "metadata", "expected a mapping"),
        (lambda d: d["spec"]["trialTemplate"]["trialSpec"].update({1: "x"}), "spec.trialTemplate.trialSpec.1", "string key"),
    ],
)
def test_wrong_types_are_field_errors(mutate, path, message):
    doc = v1beta1(mutate)
    exp, found = parse_experiment(doc, file="exp.yaml")
    assert exp is not None
    err = one(found, path, message)
    assert err.severity == "error" and err.file == "exp.yaml"
    with pytest.raises(SpecError) as info:
        experiment_from_dict(doc, file="exp.yaml")
    assert path in [e.path for e in info.value.errors]


def test_every_structural_error_is_reported_at_once():
    def mutate(d):
        d["spec"]["parallelTrialCount"] = "3"
        d["spec"]["parameters"][0]["feasibleSpace"]["max"] = 0.1
        d["spec"]["objective"]["goal"] = "x"
    with pytest.raises(SpecError) as info:
        experiment_from_dict(v1beta1(mutate))
    assert {e.path for e in info.value.errors} == {
        "spec.parallelTrialCount", "spec.parameters[0].feasibleSpace.max", "spec.objective.goal",
    }


def test_unknown_fields_are_warnings_with_a_suggestion():
    exp, found = parse_experiment(v1beta1(lambda d: d["spec"].update(maxTrialCounts=3)))
    w = one(found, "spec.maxTrialCounts", "did you mean maxTrialCount?")
    assert w.severity == "warning"
    assert exp is not None and exp.spec.max_trial_count == 6


@pytest.mark.parametrize(
    "doc, path, message",
    [
        ({"kind": "Experiment", "metadata": {"name": "x"}}, "apiVersion", "must be specified"),
        ({"apiVersion": "kubeflow.org/v1alpha2", "kind": "Experiment"}, "apiVersion", "katibsim reads kubeflow.org/v1beta1 and kubeflow.org/v1alpha3"),
        ([1, 2], "", "expected a Kubernetes object"),
    ],
)
def test_not_an_experiment_we_can_read(doc, path, message):
    exp, found = parse_experiment(doc)
    assert exp is None
    one(found, path, message)
    with pytest.raises(SpecError):
        experiment_from_dict(doc)


def test_non_objects_and_missing_kind_in_a_file():
    result = load_text(yaml.safe_dump_all(["just text", {"apiVersion": "v1"}, V1BETA1_DOC]))
    assert len(result.experiments) == 1
    assert [e.path for e in result.errors] == ["", "kind"]
    assert "document 1: expected a Kubernetes object" in result.errors[0].message
    assert "Object 'Kind' is missing" in result.errors[1].message


def test_namespace_defaults_to_default():
    exp = experiment_from_dict(v1beta1(lambda d: d["metadata"].pop("namespace")))
    assert exp.namespace == "default"


def test_trial_parameters_nil_and_empty_differ():
    nil = experiment_from_dict(v1beta1(lambda d: d["spec"]["trialTemplate"].pop("trialParameters")))
    empty = experiment_from_dict(v1beta1(lambda d: d["spec"]["trialTemplate"].update(trialParameters=[])))
    assert nil.spec.trial_template.trial_parameters is None
    assert empty.spec.trial_template.trial_parameters == ()


def test_load_experiment_needs_exactly_one(tmp_path):
    two = write(tmp_path, "two.yaml", yaml.safe_dump_all([V1BETA1_DOC, V1BETA1_DOC]))
    with pytest.raises(SpecError, match="exactly one Experiment in the file, found 2"):
        load_experiment(two)
    none = write(tmp_path, "none.yaml", "apiVersion: v1\nkind: ConfigMap\n")
    with pytest.raises(SpecError, match="found 0"):
        load_experiment(none)
    broken = write(tmp_path, "broken.yaml", yaml.safe_dump(v1beta1(lambda d: d["spec"].update(maxTrialCount="x"))))
    with pytest.raises(SpecError) as info:
        load_experiment(broken)
    assert info.value.errors[0].file == str(broken)
    assert info.value.errors[0].path == "spec.maxTrialCount"


def test_defaults_can_be_left_out():
    raw = experiment_from_dict(V1BETA1_DOC, defaults=False)
    assert raw.spec.resume_policy is None and raw.spec.metrics_collector_spec is None
    assert experiment_from_dict(V1BETA1_DOC).spec.resume_policy == "Never"


def test_the_input_document_is_not_mutated():
    doc = v1beta1()
    before = json.dumps(doc, sort_keys=True)
    exp = experiment_from_dict(doc)
    assert json.dumps(doc, sort_keys=True) == before
    assert exp.spec.trial_template.trial_spec is not doc["spec"]["trialTemplate"]["trialSpec"]
    assert at([], "x") == []
