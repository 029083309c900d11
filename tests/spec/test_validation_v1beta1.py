"""Katib's v1beta1 webhook rules (docs/katib-behaviour.md §2.2), katibsim's additions and cluster warnings: one test per rule."""

from __future__ import annotations

import pytest

from experiment_docs import at, errors, one, problems, v1beta1, warnings
from katibsim.errors import SpecError
from katibsim.spec.loader import experiment_from_dict
from katibsim.spec.validation import KATIBSIM_CHECK, errors_of, raise_for_errors, validate

SPEC = "spec"
PARAM = "spec.parameters"
MC = "spec.metricsCollectorSpec"


def set_spec(**fields):
    return lambda d: d["spec"].update(fields)


def test_the_base_document_is_valid_without_warnings():
    assert problems(v1beta1()) == []


def test_errors_carry_file_path_value_and_kind():
    err = one(errors(v1beta1(set_spec(maxTrialCount=0))), "spec.maxTrialCount", "must be greater than 0")
    assert (err.file, err.value, err.kind, err.severity) == ("exp.yaml", 0, "invalid", "error")
    assert err.render() == "exp.yaml: spec.maxTrialCount: Invalid value: 0: must be greater than 0"


# -- 1. name -----------------------------------------------------------------------------------------
NAME_RULE = "may not be longer than 40 characters"


@pytest.mark.parametrize("name", ["9abc", "Abc", "-abc", "a" * 41])
def test_name_rule_rejects(name):
    err = one(errors(v1beta1(lambda d: d["metadata"].update(name=name))), "metadata.name", NAME_RULE)
    assert err.value == name


@pytest.mark.parametrize("name", ["a", "abc-123", "a" * 40, "x1.y2"])
def test_name_rule_accepts(name):
    assert at(errors(v1beta1(lambda d: d["metadata"].update(name=name))), "metadata.name") == []


@pytest.mark.parametrize("name", ["abc-", "abc_def", "aBc"])
def test_katib_regex_has_no_end_anchor_but_the_api_server_still_refuses(name):
    err = one(errors(v1beta1(lambda d: d["metadata"].update(name=name))), "metadata.name", "RFC 1123 subdomain")
    assert NAME_RULE not in err.message


def test_name_and_namespace_required_and_checked():
    one(errors(v1beta1(lambda d: d["metadata"].pop("name"))), "metadata.name", "name or generateName is required")
    one(errors(v1beta1(lambda d: d["metadata"].update(namespace="Kube_flow"))), "metadata.namespace", "RFC 1123 label")


# -- 2-6. counts -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "fields, path, message",
    [
        ({"maxFailedTrialCount": -1}, "spec.maxFailedTrialCount", "should not be less than 0"),
        ({"maxTrialCount": 0}, "spec.maxTrialCount", "must be greater than 0"),
        ({"maxTrialCount": -3, "parallelTrialCount": 1, "maxFailedTrialCount": 0}, "spec.maxTrialCount", "must be greater than 0"),
        ({"parallelTrialCount": 0}, "spec.parallelTrialCount", "must be greater than 0"),
        ({"maxFailedTrialCount": 7}, "spec.maxFailedTrialCount", "should be less than or equal to spec.maxTrialCount"),
        ({"parallelTrialCount": 7}, "spec.parallelTrialCount", "should be less than or equal to spec.maxTrialCount"),
    ],
)
def test_count_rules(fields, path, message):
    one(errors(v1beta1(set_spec(**fields))), path, message)


@pytest.mark.parametrize(
    "fields",
    [{"maxFailedTrialCount": 0}, {"maxTrialCount": 1, "parallelTrialCount": 1, "maxFailedTrialCount": 1},
     {"parallelTrialCount": 6, "maxFailedTrialCount": 6}],
)
def test_count_rules_accept(fields):
    assert errors(v1beta1(set_spec(**fields))) == []


def test_counts_without_max_are_not_compared_but_warned():
    doc = v1beta1(lambda d: d["spec"].pop("maxTrialCount"))
    assert errors(doc) == []
    one(warnings(doc), "spec.maxTrialCount", "ends only when the goal is reached")


def test_no_max_and_no_goal_never_ends():
    def mutate(d):
        d["spec"].pop("maxTrialCount")
        d["spec"]["objective"].pop("goal")
    one(warnings(v1beta1(mutate)), "spec.maxTrialCount", "never ends by itself")


# -- 8. objective ------------------------------------------------------------------------------------
def test_objective_required():
    err = one(errors(v1beta1(lambda d: d["spec"].pop("objective"))), "spec.objective", "must be specified")
    assert err.kind == "required"
    assert err.render() == "exp.yaml: spec.objective: Required value: must be specified"


def test_objective_type_metric_and_additional_metrics():
    doc = v1beta1(lambda d: d["spec"]["objective"].update(type="maximise", objectiveMetricName="", additionalMetricNames=[""]))
    found = errors(doc)
    one(found, "spec.objective.type", "must be minimize or maximize")
    assert one(found, "spec.objective.objectiveMetricName", "must be specified").kind == "required"
    one(found, "spec.objective.additionalMetricNames", "should not contain spec.objective.objectiveMetricName")


def test_objective_errors_do_not_stop_the_other_rules():
    # Katib returns after a broken objective; katibsim reports the rest as well
    def mutate(d):
        d["spec"].pop("objective")
        d["spec"]["resumePolicy"] = "Sometimes"
    found = errors(v1beta1(mutate))
    one(found, "spec.resumePolicy", "invalid ResumePolicyType")


# -- 9-10. algorithm, earlyStopping -----------------------------------------------------------------
def test_algorithm_rules():
    one(errors(v1beta1(lambda d: d["spec"].pop("algorithm"))), "spec.algorithm", "must be specified")
    err = one(errors(v1beta1(lambda d: d["spec"]["algorithm"].update(algorithmName=""))), "spec.algorithm.algorithmName", "must be specified")
    assert err.kind == "required"


def test_early_stopping_rules():
    one(errors(v1beta1(set_spec(earlyStopping={"algorithmSettings": []}))), "spec.earlyStopping.algorithmName", "must be specified")
    assert errors(v1beta1(set_spec(earlyStopping={"algorithmName": "medianstop"}))) == []


# -- 11. resumePolicy --------------------------------------------------------------------------------
@pytest.mark.parametrize("policy", ["Never", "LongRunning", "FromVolume", ""])
def test_resume_policies_accepted(policy):
    assert errors(v1beta1(set_spec(resumePolicy=policy))) == []


def test_resume_policy_rejected():
    err = one(errors(v1beta1(set_spec(resumePolicy="Always"))), "spec.resumePolicy", "invalid ResumePolicyType")
    assert err.value == "Always"


# -- 12. trial template (rules live in katibsim.spec.template_checks; validate calls them in Katib's order) --
def test_trial_template_rules_are_part_of_validate():
    one(errors(v1beta1(lambda d: d["spec"].pop("trialTemplate"))), "spec.trialTemplate", "must be specified")
    found = errors(v1beta1(lambda d: d["spec"]["trialTemplate"].pop("primaryContainerName")))
    one(found, "spec.trialTemplate.primaryContainerName", "must be specified")

    def mutate(d):
        d["spec"].pop("trialTemplate")
        d["spec"]["resumePolicy"] = "x"
        d["spec"]["parameters"][0]["parameterType"] = "float"
    paths = [e.path for e in validate(experiment_from_dict(v1beta1(mutate)))]
    # Katib's order: ... resumePolicy (11), trialTemplate (12), parameters (15)
    assert paths[:3] == ["spec.resumePolicy", "spec.trialTemplate", "spec.parameters[0].parameterType"]


# -- 13-14. parameters / nasConfig --------------------------------------------------------------------
def test_parameters_or_nas_config_required():
    def mutate(d):
        d["spec"]["parameters"] = []
        d["spec"]["trialTemplate"]["trialParameters"] = []
        d["spec"]["trialTemplate"]["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["command"] = ["true"]
    err = one(errors(v1beta1(mutate)), SPEC, "spec.parameters or spec.nasConfig must be specified")
    assert err.kind == "required"


def test_only_one_of_parameters_and_nas_config():
    one(errors(v1beta1(set_spec(nasConfig={"graphConfig": {"numLayers": 2}}))), SPEC, "only one of spec.parameters and spec.nasConfig can be specified")


# -- 15. parameters ----------------------------------------------------------------------------------
def param(i, **fields):
    def mutate(d):
        p = d["spec"]["parameters"][i]
        for k, v in fields.items():
            if k in ("min", "max", "list", "step", "distribution"):
                if v is None:
                    p["feasibleSpace"].pop(k, None)
                else:
                    p["feasibleSpace"][k] = v
            else:
                p[k] = v
    return v1beta1(mutate)


def test_parameter_type_not_supported():
    err = one(errors(param(0, parameterType="float")), f"{PARAM}[0].parameterType", "parameterType: float is not supported")
    assert KATIBSIM_CHECK not in err.message


def test_parameter_type_unknown_passes_katib_but_not_katibsim():
    err = one(errors(param(0, parameterType="unknown")), f"{PARAM}[0].parameterType", "parameterType: unknown is not supported")
    assert KATIBSIM_CHECK in err.message


def test_distribution_not_supported():
    one(errors(param(0, distribution="gaussian")), f"{PARAM}[0].feasibleSpace.distribution", "distribution: gaussian is not supported")


@pytest.mark.parametrize("dist", ["uniform", "logUniform", "normal", "logNormal"])
def test_distributions_accepted(dist):
    assert errors(param(0, distribution=dist)) == []


def test_empty_feasible_space_after_defaulting_reports_min_max():
    # Katib's "feasibleSpace must be specified" cannot fire after the distribution default
    found = errors(param(0, min=None, max=None))
    err = one(found, f"{PARAM}[0].feasibleSpace.max", "feasibleSpace.max or feasibleSpace.min must be specified for parameterType: double")
    assert err.kind == "required"
    assert at(found, f"{PARAM}[0].feasibleSpace") == []
    assert at(found, f"{PARAM}[0].feasibleSpace.min") == []  # not repeated by katibsim's own check


def test_missing_min_only():
    one(errors(param(1, min=None)), f"{PARAM}[1].feasibleSpace.max", "for parameterType: int")


def test_list_not_supported_for_numbers():
    err = one(errors(param(1, list=["1", "2"])), f"{PARAM}[1].feasibleSpace.list", "feasibleSpace.list is not supported for parameterType: int")
    assert err.value == "[1, 2]"


def test_min_max_step_not_supported_for_categorical_and_discrete():
    one(errors(param(2, min="1")), f"{PARAM}[2].feasibleSpace", "feasibleSpace .max, .min and .step is not supported for parameterType: categorical")
    one(errors(param(2, parameterType="discrete", list=["1", "2"], step="1")), f"{PARAM}[2].feasibleSpace", "parameterType: discrete")


# -- katibsim additions on parameters (Katib: "Not checked") ------------------------------------------
@pytest.mark.parametrize(
    "doc, path, message",
    [
        (param(0, min="0.5", max="0.1"), f"{PARAM}[0].feasibleSpace.max", "expected max >= min"),
        (param(0, min="abc"), f"{PARAM}[0].feasibleSpace.min", "expected a number"),
        (param(0, step="0"), f"{PARAM}[0].feasibleSpace.step", "greater than 0"),
        (param(1, max="4.5"), f"{PARAM}[1].feasibleSpace.max", "integer"),
        (param(2, list=[]), f"{PARAM}[2].feasibleSpace.list", "non-empty list"),
        (param(2, parameterType="discrete", list=["1", "x"]), f"{PARAM}[2].feasibleSpace.list[1]", "expected a number"),
        (param(0, distribution="logUniform", min="0"), f"{PARAM}[0].feasibleSpace.min", "min > 0"),
        (param(1, name="lr"), f"{PARAM}[1].name", "duplicate parameter name, also spec.parameters[0]"),
        (param(1, name=""), f"{PARAM}[1].name", "must be specified"),
    ],
)
def test_katibsim_parameter_checks(doc, path, message):
    err = one(errors(doc), path, message)
    assert KATIBSIM_CHECK in err.message


# -- 16. metrics collector ----------------------------------------------------------------------------
def mc(collector_kind=None, source=None, custom=None):
    spec = {}
    if collector_kind is not None or custom is not None:
        spec["collector"] = {"kind": collector_kind} if collector_kind is not None else {}
        if custom is not None:
            spec["collector"]["customCollector"] = custom
    if source is not None:
        spec["source"] = source
    return v1beta1(set_spec(metricsCollectorSpec=spec))


@pytest.mark.parametrize(
    "doc",
    [
        mc("StdOut"), mc("Push"), mc("File"),
        mc("File", {"fileSystemPath": {"path": "/m.json", "kind": "File", "format": "JSON"}}),
        mc("File", {"fileSystemPath": {"path": "/m.log"}, "filter": {"metricsFormat": [r"(\w+):\s*([\d.]+)"]}}),
        mc("TensorFlowEvent", {"fileSystemPath": {"path": "/train", "kind": "Directory"}}),
        mc("Custom", custom={"name": "c", "image": "x"}),
        mc("Custom", {"fileSystemPath": {"path": "/out", "kind": "Directory"}}, custom={"name": "c", "image": "x"}),
        mc("StdOut", {"filter": {"metricsFormat": [r"([\w|-]+)\s*=\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)"]}}),
    ],
)
def test_collectors_accepted(doc):
    assert errors(doc) == []


@pytest.mark.parametrize(
    "doc, path, message, kind",
    [
        (mc("File", {"fileSystemPath": {"path": "metrics.log"}}), f"{MC}.source.fileSystemPath.path", "file path where metrics file exists is required", "required"),
        (mc("File", {"fileSystemPath": {"path": "/m", "kind": "Directory"}}), f"{MC}.source.fileSystemPath.path", "file path where metrics file exists is required", "required"),
        (mc("File", {"fileSystemPath": {"format": "XML"}}), f"{MC}.source.fileSystemPath.format", "format of metrics file is required for metrics collector", "required"),
        (mc("File", {"fileSystemPath": {"format": "JSON"}, "filter": {"metricsFormat": []}}), f"{MC}.source.filter", "filter must be nil when format of metrics file is json", "invalid"),
        (mc("TensorFlowEvent", {"fileSystemPath": {"path": "train"}}), f"{MC}.source", "directory path where tensorflow event files exist is required by .spec.metricsCollectorSpec.source.fileSystemPath.path", "required"),
        (mc("TensorFlowEvent", {"fileSystemPath": {"path": "/train", "kind": "File"}}), f"{MC}.source", "directory path where tensorflow event files exist", "required"),
        (mc("TensorFlowEvent", {"fileSystemPath": {"format": "TEXT"}}), f"{MC}.source.fileSystemPath.format", "must be empty", "invalid"),
        (mc("PrometheusMetric", {"httpGet": {"port": "http"}}), f"{MC}.source.httpGet.port", "must be a positive integer value for metrics collector kind: PrometheusMetric", "invalid"),
        (mc("PrometheusMetric", {"httpGet": {"port": -1}}), f"{MC}.source.httpGet.port", "must be a positive integer value", "invalid"),
        (mc("PrometheusMetric", {"httpGet": {"path": "metrics"}}), f"{MC}.source.httpGet.path", "path is invalid for metrics collector kind: PrometheusMetric", "invalid"),
        (mc("Custom"), f"{MC}.collector.customCollector", "metrics collector kind: Custom is required", "required"),
        (mc("Custom", {"fileSystemPath": {"path": "out", "kind": "File"}}, custom={"name": "c"}), f"{MC}.source.fileSystemPath", ".spec.metricsCollectorSpec.source is invalid", "invalid"),
        (mc("Custom", {"fileSystemPath": {"path": "/out", "kind": "Socket"}}, custom={"name": "c"}), f"{MC}.source.fileSystemPath", ".spec.metricsCollectorSpec.source is invalid", "invalid"),
        (mc("Syslog"), f"{MC}.collector.kind", "invalid metrics collector kind: Syslog", "invalid"),
        (mc(custom={"name": "c"}), f"{MC}.collector.kind", "invalid metrics collector kind: ", "invalid"),
        (mc("None"), f"{MC}.collector.kind", "renamed Push in Katib v0.18", "invalid"),
        (mc("File", {"filter": {"metricsFormat": ["(a"]}}), f"{MC}.source.filter.metricsFormat[0]", "invalid filter: error parsing regexp", "invalid"),
        (mc("File", {"filter": {"metricsFormat": [r"(\w+)=(?=\d)(x)"]}}), f"{MC}.source.filter.metricsFormat[0]", "invalid or unsupported Perl syntax", "invalid"),
        (mc("File", {"filter": {"metricsFormat": [r"ok", r"(\w+)=(\d+)", r"(\w+)=\d+"]}}), f"{MC}.source.filter.metricsFormat[2]", "two top subexpressions are required", "invalid"),
    ],
)
def test_collector_rules(doc, path, message, kind):
    err = one(errors(doc), path, message)
    assert err.kind == kind
    assert KATIBSIM_CHECK not in err.message


def test_every_bad_filter_is_reported():
    found = errors(mc("File", {"filter": {"metricsFormat": ["ok", "(a", r"(\w+)=(\d+)"]}}))
    assert [e.path for e in found] == [f"{MC}.source.filter.metricsFormat[0]", f"{MC}.source.filter.metricsFormat[1]"]


def test_stdout_filter_is_checked_by_katibsim_only():
    err = one(errors(mc("StdOut", {"filter": {"metricsFormat": ["just-one-(group)"]}})), f"{MC}.source.filter.metricsFormat[0]", "two top subexpressions")
    assert KATIBSIM_CHECK in err.message


def test_prometheus_is_a_cluster_warning_not_an_error():
    doc = mc("PrometheusMetric")
    assert errors(doc) == []
    w = one(warnings(doc), f"{MC}.collector.kind", "failed to find metrics collector config for kind: PrometheusMetric in ConfigMap: katib-config")
    assert w.severity == "warning"


# -- other katibsim additions and cluster warnings ------------------------------------------------------
def test_metric_strategy_values():
    doc = v1beta1(lambda d: d["spec"]["objective"].update(metricStrategies=[{"name": "loss", "value": "avg"}, {"name": "f1", "value": "max"}]))
    err = one(errors(doc), "spec.objective.metricStrategies[0].value", "must be one of min, max, latest")
    assert KATIBSIM_CHECK in err.message
    one(warnings(doc), "spec.objective.metricStrategies[1].name", "never used")


def test_trial_kind_outside_stock_trial_resources_is_a_warning():
    def mutate(d):
        d["spec"]["trialTemplate"]["trialSpec"].update(apiVersion="ray.io/v1", kind="RayJob")
        d["spec"]["trialTemplate"].update(successCondition="status.ok", failureCondition="status.bad")
    doc = v1beta1(mutate)
    assert errors(doc) == []
    one(warnings(doc), "spec.trialTemplate.trialSpec.kind", "CRD of RayJob (ray.io/v1)")


# -- all at once ------------------------------------------------------------------------------------------
def test_all_errors_of_a_document_at_once():
    def mutate(d):
        d["metadata"]["name"] = "Bad"
        d["spec"].update(parallelTrialCount=0, maxFailedTrialCount=-1, resumePolicy="x")
        d["spec"]["objective"]["type"] = "up"
        d["spec"]["parameters"][0]["feasibleSpace"]["min"] = "1"
        d["spec"]["metricsCollectorSpec"] = {"collector": {"kind": "Nope"}}
    found = errors(v1beta1(mutate))
    assert {e.path for e in found} >= {
        "metadata.name", "spec.parallelTrialCount", "spec.maxFailedTrialCount", "spec.resumePolicy",
        "spec.objective.type", f"{PARAM}[0].feasibleSpace.max", f"{MC}.collector.kind",
    }
    assert all(e.file == "exp.yaml" for e in found)


def test_validate_applies_defaults_first_and_raise_for_errors():
    undefaulted = experiment_from_dict(v1beta1(), defaults=False)
    assert errors_of(validate(undefaulted)) == []  # success/failure conditions come from the defaults
    assert raise_for_errors(undefaulted) is undefaulted
    with pytest.raises(SpecError) as info:
        raise_for_errors(experiment_from_dict(v1beta1(set_spec(maxTrialCount=0))))
    assert info.value.errors[0].path == "spec.maxTrialCount"
