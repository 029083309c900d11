"""Serialization back to Katib's object (kubectl get -o yaml shape), v1alpha3 kept or converted to v1beta1."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from experiment_docs import SEED, V1BETA1_DOC, one, v1alpha3, v1beta1
from katibsim.errors import InputError
from katibsim.spec.defaults import KUBEFLOW_JOB_SUCCESS_CONDITION
from katibsim.spec.loader import experiment_from_dict, load_experiment, load_text, parse_experiment
from katibsim.spec.serialize import experiment_to_dict, experiment_to_yaml, normalize_api_version, to_yaml


def test_seed_keeps_its_v1alpha3_shape_with_v1alpha3_defaults():
    d = experiment_to_dict(load_experiment(SEED))
    assert d["apiVersion"] == "kubeflow.org/v1alpha3" and d["kind"] == "Experiment"
    assert d["metadata"] == {"name": "tfjob-bayesian", "namespace": "kubeflow"}
    spec = d["spec"]
    assert sorted(spec) == [
        "algorithm", "maxFailedTrialCount", "maxTrialCount", "metricsCollectorSpec", "objective",
        "parallelTrialCount", "parameters", "resumePolicy", "trialTemplate",
    ]
    assert spec["resumePolicy"] == "LongRunning"
    assert spec["objective"] == {"type": "maximize", "goal": 0.99, "objectiveMetricName": "accuracy_1"}
    assert spec["parameters"][0] == {"name": "--learning_rate", "parameterType": "double", "feasibleSpace": {"min": "0.01", "max": "0.05"}}
    assert list(spec["trialTemplate"]) == ["goTemplate"]  # retain false is omitted, no v1beta1 fields
    assert spec["trialTemplate"]["goTemplate"]["rawTemplate"] == yaml.safe_load(SEED.read_text())["spec"]["trialTemplate"]["goTemplate"]["rawTemplate"]
    assert spec["metricsCollectorSpec"] == {
        "collector": {"kind": "TensorFlowEvent"}, "source": {"fileSystemPath": {"kind": "Directory", "path": "/train"}},
    }


def test_seed_converted_to_v1beta1():
    d = experiment_to_dict(load_experiment(SEED), api_version="kubeflow.org/v1beta1")
    spec = d["spec"]
    assert d["apiVersion"] == "kubeflow.org/v1beta1"
    assert spec["objective"]["metricStrategies"] == [{"name": "accuracy_1", "value": "max"}]
    assert [p["feasibleSpace"]["distribution"] for p in spec["parameters"]] == ["uniform", "uniform"]
    assert spec["resumePolicy"] == "LongRunning"  # set by v1alpha3's defaults, kept
    assert spec["trialTemplate"]["successCondition"] == KUBEFLOW_JOB_SUCCESS_CONDITION
    assert "rawTemplate" in spec["trialTemplate"]["goTemplate"]
    assert experiment_to_dict(load_experiment(SEED), api_version="v1beta1") == d


def test_the_converted_yaml_reads_back_with_a_warning_and_the_same_shape():
    text = experiment_to_yaml(load_experiment(SEED), "v1beta1")
    result = load_text(text, file="converted.yaml")
    (exp,) = result.experiments
    one(list(result.errors), "spec.trialTemplate.goTemplate", "Katib v1beta1 ignores it")
    assert exp.source_api_version == "kubeflow.org/v1beta1"
    assert experiment_to_yaml(exp) == text


def test_v1alpha3_early_stopping_and_none_collector():
    def mutate(d):
        d["spec"]["algorithm"]["earlyStopping"] = {"earlyStoppingAlgorithmName": "medianstop", "earlyStoppingSettings": [{"name": "a", "value": "1"}]}
        d["spec"]["metricsCollectorSpec"] = {"collector": {"kind": "None"}}
    exp = experiment_from_dict(v1alpha3(mutate))
    same = experiment_to_dict(exp)["spec"]
    assert same["algorithm"]["earlyStopping"] == {"earlyStoppingAlgorithmName": "medianstop", "earlyStoppingSettings": [{"name": "a", "value": "1"}]}
    assert same["metricsCollectorSpec"]["collector"] == {"kind": "None"}
    converted = experiment_to_dict(exp, "v1beta1")["spec"]
    assert converted["earlyStopping"] == {"algorithmName": "medianstop", "algorithmSettings": [{"name": "a", "value": "1"}]}
    assert "earlyStopping" not in converted["algorithm"]
    assert converted["metricsCollectorSpec"]["collector"] == {"kind": "Push"}


def test_v1beta1_shows_its_defaults():
    spec = experiment_to_dict(experiment_from_dict(V1BETA1_DOC))["spec"]
    assert spec["resumePolicy"] == "Never"
    assert spec["metricsCollectorSpec"] == {"collector": {"kind": "StdOut"}}
    assert spec["objective"]["metricStrategies"] == [{"name": "accuracy", "value": "max"}, {"name": "loss", "value": "max"}]
    assert spec["trialTemplate"]["successCondition"].startswith("status.conditions.#(type==\"Complete\")")
    assert spec["trialTemplate"]["trialSpec"] == V1BETA1_DOC["spec"]["trialTemplate"]["trialSpec"]


def test_go_nil_versus_empty():
    def mutate(d):
        d["spec"]["trialTemplate"]["trialParameters"] = []
        d["spec"]["algorithm"] = {}
        d["spec"]["maxFailedTrialCount"] = 0
    spec = experiment_to_dict(experiment_from_dict(v1beta1(mutate), defaults=False))["spec"]
    assert spec["trialTemplate"]["trialParameters"] == []  # empty is allowed, nil is an error
    assert spec["algorithm"] == {}  # a set pointer shows even when empty
    assert spec["maxFailedTrialCount"] == 0  # *int32: zero is shown
    assert "resumePolicy" not in spec and "metricsCollectorSpec" not in spec  # undefaulted: absent


def test_yaml_looks_like_kubectl():
    text = experiment_to_yaml(load_experiment(SEED))
    lines = text.splitlines()
    assert lines[:3] == ["apiVersion: kubeflow.org/v1alpha3", "kind: Experiment", "metadata:"]
    assert "      max: '0.05'" in lines  # feasible-space numbers stay strings
    assert "      rawTemplate: |-" in lines  # the template is readable
    assert yaml.safe_load(text) == experiment_to_dict(load_experiment(SEED))
    both = to_yaml([experiment_to_dict(load_experiment(SEED)), experiment_to_dict(experiment_from_dict(V1BETA1_DOC))])
    assert len(list(yaml.safe_load_all(both))) == 2


def test_v1beta1_cannot_be_shown_as_v1alpha3():
    with pytest.raises(InputError, match="not back"):
        experiment_to_dict(experiment_from_dict(V1BETA1_DOC), "v1alpha3")
    with pytest.raises(InputError, match="unknown api version"):
        normalize_api_version("v2")
    assert normalize_api_version("v1alpha3") == "kubeflow.org/v1alpha3"


def test_v1beta1_round_trip_is_identity_on_the_defaulted_object():
    exp = experiment_from_dict(V1BETA1_DOC)
    again, found = parse_experiment(experiment_to_dict(exp), file=exp.source_file)
    assert found == []
    assert again == exp


@given(text=st.text())
def test_any_string_survives_the_yaml_dump(text):
    # NEL and the Unicode separators are line breaks to YAML unless escaped
    assert yaml.safe_load(to_yaml([{"a": text}])) == {"a": text}
