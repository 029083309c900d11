"""Katib's mutating-webhook defaults (docs/katib-behaviour.md §1.2, §1.3): exact values, purity, idempotence."""

from __future__ import annotations

import pytest

from experiment_docs import v1alpha3, v1beta1
from katibsim.spec.defaults import (
    JOB_FAILURE_CONDITION,
    JOB_SUCCESS_CONDITION,
    KUBEFLOW_JOB_FAILURE_CONDITION,
    KUBEFLOW_JOB_SUCCESS_CONDITION,
    apply_defaults,
    go_template_kind,
)
from katibsim.spec.loader import experiment_from_dict
from katibsim.spec.model import MetricStrategy, ObjectiveSpec


def raw(doc):
    return experiment_from_dict(doc, defaults=False)


def defaulted(doc):
    return apply_defaults(raw(doc))


def test_condition_strings_are_katibs():
    assert JOB_SUCCESS_CONDITION == 'status.conditions.#(type=="Complete")#|#(status=="True")#'
    assert JOB_FAILURE_CONDITION == 'status.conditions.#(type=="Failed")#|#(status=="True")#'
    assert KUBEFLOW_JOB_SUCCESS_CONDITION == 'status.conditions.#(type=="Succeeded")#|#(status=="True")#'
    assert KUBEFLOW_JOB_FAILURE_CONDITION == JOB_FAILURE_CONDITION


# -- counts and resumePolicy ------------------------------------------------------------------------
def test_parallel_trial_count_defaults_to_3_only_when_absent():
    assert defaulted(v1beta1(lambda d: d["spec"].pop("parallelTrialCount"))).spec.parallel_trial_count == 3
    assert defaulted(v1beta1(lambda d: d["spec"].update(parallelTrialCount=0))).spec.parallel_trial_count == 0


def test_max_counts_and_goal_are_never_defaulted():
    def mutate(d):
        d["spec"].pop("maxTrialCount")
        d["spec"].pop("maxFailedTrialCount")
        d["spec"]["objective"].pop("goal")
    s = defaulted(v1beta1(mutate)).spec
    assert (s.max_trial_count, s.max_failed_trial_count, s.objective.goal) == (None, None, None)


def test_resume_policy_never_for_v1beta1_longrunning_for_v1alpha3():
    assert defaulted(v1beta1()).spec.resume_policy == "Never"
    assert defaulted(v1alpha3()).spec.resume_policy == "LongRunning"
    assert defaulted(v1beta1(lambda d: d["spec"].update(resumePolicy="FromVolume"))).spec.resume_policy == "FromVolume"


# -- metric strategies ------------------------------------------------------------------------------
def strategies(doc):
    return [(s.name, s.value) for s in defaulted(doc).spec.objective.metric_strategies]


@pytest.mark.parametrize("objective_type, value", [("maximize", "max"), ("minimize", "min"), ("bogus", "latest")])
def test_additional_metrics_follow_the_objective_type_not_latest(objective_type, value):
    doc = v1beta1(lambda d: d["spec"]["objective"].update(type=objective_type))
    assert strategies(doc) == [("accuracy", value), ("loss", value)]


def test_existing_strategies_are_kept_and_not_duplicated():
    doc = v1beta1(lambda d: d["spec"]["objective"].update(metricStrategies=[{"name": "loss", "value": "latest"}]))
    assert strategies(doc) == [("loss", "latest"), ("accuracy", "max")]
    doc = v1beta1(lambda d: d["spec"]["objective"].update(metricStrategies=[{"name": "accuracy", "value": "latest"}]))
    assert strategies(doc) == [("accuracy", "latest"), ("loss", "max")]


def test_katib_quirks_of_strategy_defaulting():
    # the objective's own entry does not count as present for an additional metric of that name,
    # and a name listed twice gets two entries (Katib's setDefaultObjective does the same)
    doc = v1beta1(lambda d: d["spec"]["objective"].update(additionalMetricNames=["accuracy", "loss", "loss"]))
    assert strategies(doc) == [("accuracy", "max"), ("accuracy", "max"), ("loss", "max"), ("loss", "max")]


def test_no_objective_no_strategies_and_v1alpha3_gets_none():
    assert defaulted(v1beta1(lambda d: d["spec"].pop("objective"))).spec.objective is None
    assert defaulted(v1alpha3()).spec.objective.metric_strategies == ()


@pytest.mark.parametrize("objective_type, value", [("minimize", "min"), ("maximize", "max"), (None, "latest"), ("bogus", "latest")])
def test_strategy_for_falls_back_on_katibs_default_for_the_objective_type(objective_type, value):
    # A metric with no entry (v1alpha3, or an objective read without defaults) is collected the way
    # Katib's defaulter would have written its entry: min for minimize, max for maximize, else latest.
    obj = ObjectiveSpec(type=objective_type, objective_metric_name="loss", additional_metric_names=("acc",))
    assert [obj.strategy_for(m) for m in ("loss", "acc", "unlisted")] == [value] * 3


def test_strategy_for_prefers_the_listed_entry_and_agrees_with_the_defaulter():
    obj = ObjectiveSpec(type="minimize", objective_metric_name="loss", metric_strategies=(MetricStrategy("loss", "latest"),))
    assert (obj.strategy_for("loss"), obj.strategy_for("other")) == ("latest", "min")
    exp = defaulted(v1beta1())
    written = {st.name: st.value for st in exp.spec.objective.metric_strategies}
    bare = raw(v1beta1()).spec.objective
    assert bare.metric_strategies == () and {m: bare.strategy_for(m) for m in written} == written


# -- trial template ---------------------------------------------------------------------------------
def template(kind, **extra):
    def mutate(d):
        d["spec"]["trialTemplate"]["trialSpec"]["kind"] = kind
        d["spec"]["trialTemplate"].update(extra)
    return defaulted(v1beta1(mutate)).spec.trial_template


def test_job_gets_complete_failed_conditions_and_no_labels():
    t = template("Job")
    assert (t.success_condition, t.failure_condition, t.primary_pod_labels) == (JOB_SUCCESS_CONDITION, JOB_FAILURE_CONDITION, None)


@pytest.mark.parametrize("kind", ["TFJob", "PyTorchJob", "XGBoostJob", "MPIJob"])
def test_kubeflow_jobs_get_succeeded_conditions_and_master_label(kind):
    t = template(kind)
    assert t.success_condition == KUBEFLOW_JOB_SUCCESS_CONDITION
    assert t.failure_condition == KUBEFLOW_JOB_FAILURE_CONDITION
    assert dict(t.primary_pod_labels) == {"training.kubeflow.org/job-role": "master"}


def test_trainjob_defaults():
    t = template("TrainJob")
    assert (t.success_condition, t.failure_condition) == (JOB_SUCCESS_CONDITION, JOB_FAILURE_CONDITION)
    assert dict(t.primary_pod_labels) == {
        "jobset.sigs.k8s.io/replicatedjob-name": "node",
        "batch.kubernetes.io/job-completion-index": "0",
    }


def test_other_kinds_and_config_maps_get_nothing_and_set_values_stay():
    t = template("RayJob")
    assert (t.success_condition, t.failure_condition, t.primary_pod_labels) == (None, None, None)
    t = template("TFJob", successCondition="custom", primaryPodLabels={"a": "b"})
    assert t.success_condition == "custom" and dict(t.primary_pod_labels) == {"a": "b"}
    assert t.failure_condition == KUBEFLOW_JOB_FAILURE_CONDITION

    def config_map(d):
        tt = d["spec"]["trialTemplate"]
        tt.pop("trialSpec")
        tt["configMap"] = {"configMapName": "c", "configMapNamespace": "n", "templatePath": "p"}
    t = defaulted(v1beta1(config_map)).spec.trial_template
    assert t.success_condition is None


def test_kind_is_matched_without_the_api_version():
    def mutate(d):
        d["spec"]["trialTemplate"]["trialSpec"]["apiVersion"] = "example.com/v9"
    assert defaulted(v1beta1(mutate)).spec.trial_template.success_condition == JOB_SUCCESS_CONDITION


def test_v1alpha3_trial_template_defaults():
    t = defaulted(v1alpha3(lambda d: d["spec"].pop("trialTemplate"))).spec.trial_template
    assert t.retain is True
    assert dict(t.go_template_spec) == {
        "configMapName": "trial-template", "configMapNamespace": "kubeflow", "templatePath": "defaultTrialTemplate.yaml",
    }
    seed = defaulted(v1alpha3()).spec.trial_template
    assert seed.go_template_spec is None and seed.retain is False
    # v1alpha3's built-in TFJob completion rule, recorded as v1beta1 conditions
    assert seed.success_condition == KUBEFLOW_JOB_SUCCESS_CONDITION and seed.primary_pod_labels is None


def test_go_template_kind():
    assert go_template_kind("apiVersion: batch/v1\nkind: Job\nmetadata: {}") == "Job"
    assert go_template_kind('kind: "TFJob"\n') == "TFJob"
    assert go_template_kind("spec:\n  kind: Job\n") is None
    assert go_template_kind(None) is None


# -- metrics collector ------------------------------------------------------------------------------
def collector(doc_factory, spec):
    return defaulted(doc_factory(lambda d: d["spec"].update(metricsCollectorSpec=spec))).spec.metrics_collector_spec


def test_missing_collector_is_stdout():
    assert defaulted(v1beta1()).spec.metrics_collector_spec.kind == "StdOut"
    assert collector(v1beta1, {"source": {"fileSystemPath": {"path": "/x"}}}).kind == "StdOut"


def test_file_collector_defaults():
    fsp = collector(v1beta1, {"collector": {"kind": "File"}}).file_system_path
    assert (fsp.path, fsp.kind, fsp.format) == ("/var/log/katib/metrics.log", "File", "TEXT")
    fsp = collector(v1beta1, {"collector": {"kind": "File"}, "source": {"fileSystemPath": {"path": "/m.json", "format": "JSON"}}}).file_system_path
    assert (fsp.path, fsp.kind, fsp.format) == ("/m.json", "File", "JSON")
    fsp = collector(v1alpha3, {"collector": {"kind": "File"}}).file_system_path
    assert (fsp.path, fsp.kind, fsp.format) == ("/var/log/katib/metrics.log", "File", None)


def test_tfevent_collector_defaults():
    fsp = collector(v1beta1, {"collector": {"kind": "TensorFlowEvent"}}).file_system_path
    assert (fsp.path, fsp.kind, fsp.format) == ("/var/log/katib/tfevent/", "Directory", None)


@pytest.mark.parametrize("given, port", [(None, 8080), (0, 8080), ("0", 8080), (9090, 9090), ("metrics", "metrics")])
def test_prometheus_collector_defaults(given, port):
    source = {} if given is None else {"source": {"httpGet": {"port": given}}}
    mc = collector(v1beta1, {"collector": {"kind": "PrometheusMetric"}, **source})
    assert mc.http_get["path"] == "/metrics" and mc.http_get["port"] == port


def test_distribution_uniform_for_every_v1beta1_parameter_none_for_v1alpha3():
    params = defaulted(v1beta1(lambda d: d["spec"]["parameters"][0]["feasibleSpace"].update(distribution="logUniform"))).spec.parameters
    assert [p.feasible_space.distribution for p in params] == ["logUniform", "uniform", "uniform"]
    assert [p.feasible_space.distribution for p in defaulted(v1alpha3()).spec.parameters] == [None, None]


# -- purity ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("doc", [v1beta1(), v1alpha3(), v1beta1(lambda d: d["spec"].clear())], ids=["v1beta1", "v1alpha3", "empty"])
def test_idempotent_and_pure(doc):
    before = raw(doc)
    once = apply_defaults(before)
    assert apply_defaults(once) == once
    assert before == raw(doc)  # the input was not changed
