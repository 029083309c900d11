"""Katib v0.9's v1alpha3 validator (docs/katib-behaviour.md §2.3) on converted experiments: its sentences, every error at once."""

from __future__ import annotations

import pytest

from experiment_docs import errors, one, problems, v1alpha3, warnings
from katibsim.spec.validation import KATIBSIM_CHECK

MC = "spec.metricsCollectorSpec"


def set_spec(**fields):
    return lambda d: d["spec"].update(fields)


def test_the_seed_is_valid():
    assert problems(v1alpha3()) == []


@pytest.mark.parametrize(
    "mutate, path, message",
    [
        (set_spec(maxFailedTrialCount=-1), "spec.maxFailedTrialCount", "spec.maxFailedTrialCount should not be less than 0"),
        (set_spec(maxTrialCount=0), "spec.maxTrialCount", "spec.maxTrialCount must be greater than 0"),
        (set_spec(parallelTrialCount=0), "spec.parallelTrialCount", "spec.parallelTrialCount must be greater than 0"),
        (lambda d: d["spec"].pop("objective"), "spec.objective", "No spec.objective specified."),
        (lambda d: d["spec"]["objective"].update(type="max"), "spec.objective.type", "spec.objective.type must be minimize or maximize."),
        (lambda d: d["spec"]["objective"].pop("objectiveMetricName"), "spec.objective.objectiveMetricName", "No spec.objective.objectiveMetricName specified."),
        (lambda d: d["spec"].pop("algorithm"), "spec.algorithm", "No spec.algorithm specified."),
        (lambda d: d["spec"]["algorithm"].update(algorithmName=""), "spec.algorithm.algorithmName", "No spec.algorithm.name specified."),
        (set_spec(resumePolicy="FromVolume"), "spec.resumePolicy", "invalid ResumePolicyType FromVolume"),
        (set_spec(parameters=[]), "spec", "spec.parameters or spec.nasConfig must be specified."),
        (set_spec(nasConfig={"graphConfig": {}}), "spec", "Only one of spec.parameters and spec.nasConfig can be specified."),
    ],
)
def test_v1alpha3_rules(mutate, path, message):
    one(errors(v1alpha3(mutate)), path, message)


def test_v1alpha3_has_no_max_vs_parallel_check():
    assert errors(v1alpha3(set_spec(parallelTrialCount=20, maxFailedTrialCount=20))) == []


@pytest.mark.parametrize("policy", ["Never", "LongRunning"])
def test_v1alpha3_resume_policies(policy):
    assert errors(v1alpha3(set_spec(resumePolicy=policy))) == []


def collector(kind, source=None, custom=None):
    spec = {"collector": {"kind": kind}}
    if custom is not None:
        spec["collector"]["customCollector"] = custom
    if source is not None:
        spec["source"] = source
    return v1alpha3(set_spec(metricsCollectorSpec=spec))


@pytest.mark.parametrize("doc", [collector("None"), collector("StdOut"), collector("File"), collector("Custom", custom={"name": "c"})])
def test_v1alpha3_collectors_accepted(doc):
    assert errors(doc) == []


@pytest.mark.parametrize(
    "doc, path, message",
    [
        (collector("Push"), f"{MC}.collector.kind", "Invalid metrics collector kind: Push."),
        (collector("File", {"fileSystemPath": {"path": "m.log"}}), f"{MC}.source.fileSystemPath.path",
         "File path where metrics file exists is required by .spec.metricsCollectorSpec.source.fileSystemPath.path"),
        (collector("TensorFlowEvent", {"fileSystemPath": {"path": "/t", "kind": "File"}}), f"{MC}.source.fileSystemPath.path",
         "Directory path where tensorflow event files exist is required by .spec.metricsCollectorSpec.source.fileSystemPath.path"),
        (collector("PrometheusMetric", {"httpGet": {"port": "web"}}), f"{MC}.source.httpGet.port",
         ".spec.metricsCollectorSpec.source.httpGet.port must be a positive integer value for metrics collector kind: PrometheusMetric."),
        (collector("PrometheusMetric", {"httpGet": {"path": "m"}}), f"{MC}.source.httpGet.path",
         ".spec.metricsCollectorSpec.source.httpGet.path is invalid for metrics collector kind: PrometheusMetric."),
        (collector("Custom"), f"{MC}.collector.customCollector",
         ".spec.metricsCollectorSpec.collector.customCollector is required for metrics collector kind: Custom."),
        (collector("Custom", {"fileSystemPath": {"path": "rel", "kind": "File"}}, custom={"name": "c"}), f"{MC}.source.fileSystemPath",
         ".spec.metricsCollectorSpec.source is invalid"),
        (collector("File", {"filter": {"metricsFormat": ["(a"]}}), f"{MC}.source.filter.metricsFormat[0]",
         'Invalid "(a" in .spec.metricsCollectorSpec.source.filter: error parsing regexp'),
        (collector("File", {"filter": {"metricsFormat": ["x(a)"]}}), f"{MC}.source.filter.metricsFormat[0]",
         'Invalid "x(a)" in .spec.metricsCollectorSpec.source.filter: two top subexpressions are required'),
    ],
)
def test_v1alpha3_collector_rules(doc, path, message):
    err = one(errors(doc), path, message)
    assert KATIBSIM_CHECK not in err.message


def test_v1alpha3_stdout_filter_is_a_katibsim_check():
    err = one(errors(collector("StdOut", {"filter": {"metricsFormat": ["x(a)"]}})), f"{MC}.source.filter.metricsFormat[0]", "two top subexpressions")
    assert KATIBSIM_CHECK in err.message


def test_v1alpha3_prometheus_warning():
    one(warnings(collector("PrometheusMetric")), f"{MC}.collector.kind", "Don't support metrics collector kind \"PrometheusMetric\"")


def test_v1alpha3_parameters_get_only_katibsim_checks():
    def mutate(d):
        d["spec"]["parameters"][0]["feasibleSpace"] = {"min": "0.5", "max": "0.1"}
        d["spec"]["parameters"][1]["parameterType"] = "float"
    found = errors(v1alpha3(mutate))
    assert KATIBSIM_CHECK in one(found, "spec.parameters[0].feasibleSpace.max", "expected max >= min").message
    assert KATIBSIM_CHECK in one(found, "spec.parameters[1].parameterType", "float is not supported").message


def test_v1alpha3_early_stopping_is_flagged():
    def mutate(d):
        d["spec"]["algorithm"]["earlyStopping"] = {"earlyStoppingSettings": []}
    doc = v1alpha3(mutate)
    err = one(errors(doc), "spec.algorithm.earlyStopping.earlyStoppingAlgorithmName", "must be specified")
    assert KATIBSIM_CHECK in err.message
    one(warnings(doc), "spec.algorithm.earlyStopping", "never ran it")


def test_v1alpha3_template_checks_are_part_of_validate():
    doc = v1alpha3(lambda d: d["spec"]["trialTemplate"]["goTemplate"].update(
        rawTemplate=d["spec"]["trialTemplate"]["goTemplate"]["rawTemplate"].replace("{{.Trial}}", "fixed-name")))
    one(errors(doc), "spec.trialTemplate.goTemplate.rawTemplate", "metadata.name should be {{.Trial}}")


def test_v1alpha3_reports_all_errors_not_the_first():
    def mutate(d):
        d["spec"].update(parallelTrialCount=0, maxTrialCount=0, resumePolicy="FromVolume")
        d["spec"].pop("objective")
        d["spec"]["algorithm"]["algorithmName"] = ""
        d["spec"]["metricsCollectorSpec"] = {"collector": {"kind": "Push"}}
    found = errors(v1alpha3(mutate))
    assert [e.path for e in found] == [
        "spec.maxTrialCount", "spec.parallelTrialCount", "spec.objective", "spec.algorithm.algorithmName",
        "spec.resumePolicy", f"{MC}.collector.kind",
    ]
