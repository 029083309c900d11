"""Katib's mutating-webhook defaults (docs/katib-behaviour.md §1.2 for v1beta1, §1.3 for v1alpha3), as a pure function.

``apply_defaults(exp)`` returns a new Experiment; it never mutates and is idempotent. Which set
of defaults applies depends on ``exp.source_api_version``: a converted v1alpha3 experiment gets
v1alpha3's (``resumePolicy: LongRunning``, ``trialTemplate: {retain: true}``, no metric
strategies, no distributions, no file ``format``), because that is what a v0.9 Katib did to it.
"""

from __future__ import annotations

import re
from dataclasses import replace

from katibsim.spec.model import (
    V1ALPHA3,
    Experiment,
    FileSystemPath,
    MetricsCollectorSpec,
    MetricStrategy,
    ObjectiveSpec,
    TrialTemplate,
    default_metric_strategy,
)

__all__ = ["apply_defaults", "go_template_kind"]

DEFAULT_PARALLEL_TRIAL_COUNT = 3
DEFAULT_RESUME_POLICY = "Never"
DEFAULT_RESUME_POLICY_V1ALPHA3 = "LongRunning"
DEFAULT_DISTRIBUTION = "uniform"

# katib-config / consts: the success and failure conditions are gjson expressions on the job.
JOB_SUCCESS_CONDITION = 'status.conditions.#(type=="Complete")#|#(status=="True")#'
JOB_FAILURE_CONDITION = 'status.conditions.#(type=="Failed")#|#(status=="True")#'
KUBEFLOW_JOB_SUCCESS_CONDITION = 'status.conditions.#(type=="Succeeded")#|#(status=="True")#'
KUBEFLOW_JOB_FAILURE_CONDITION = 'status.conditions.#(type=="Failed")#|#(status=="True")#'
KUBEFLOW_JOB_KINDS = ("TFJob", "PyTorchJob", "XGBoostJob", "MPIJob")
KUBEFLOW_JOB_PRIMARY_POD_LABELS = {"training.kubeflow.org/job-role": "master"}
TRAINJOB_SUCCESS_CONDITION = JOB_SUCCESS_CONDITION
TRAINJOB_FAILURE_CONDITION = JOB_FAILURE_CONDITION
TRAINJOB_PRIMARY_POD_LABELS = {
    "jobset.sigs.k8s.io/replicatedjob-name": "node",
    "batch.kubernetes.io/job-completion-index": "0",
}

DEFAULT_FILE_PATH = "/var/log/katib/metrics.log"
DEFAULT_TFEVENT_DIR = "/var/log/katib/tfevent/"
DEFAULT_FILE_FORMAT = "TEXT"
DEFAULT_PROMETHEUS_PATH = "/metrics"
DEFAULT_PROMETHEUS_PORT = 8080

# v1alpha3: with neither rawTemplate nor templateSpec the template comes from this ConfigMap in
# Katib's namespace (env KATIB_CORE_NAMESPACE, "kubeflow" in stock installs).
V1ALPHA3_DEFAULT_TEMPLATE_SPEC = {
    "configMapName": "trial-template",
    "configMapNamespace": "kubeflow",
    "templatePath": "defaultTrialTemplate.yaml",
}


def apply_defaults(exp: Experiment) -> Experiment:
    """The experiment as Katib's mutating webhook would store it (CREATE and UPDATE)."""
    if exp.source_api_version == V1ALPHA3:
        return _v1alpha3(exp)
    return _v1beta1(exp)


# ------------------------------------------------------------------------------------------------
def _v1beta1(exp: Experiment) -> Experiment:
    s = exp.spec
    spec = replace(
        s,
        parallel_trial_count=DEFAULT_PARALLEL_TRIAL_COUNT if s.parallel_trial_count is None else s.parallel_trial_count,
        resume_policy=s.resume_policy or DEFAULT_RESUME_POLICY,
        objective=_objective(s.objective),
        trial_template=_trial_template(s.trial_template),
        metrics_collector_spec=_collector(s.metrics_collector_spec, file_format=True),
        parameters=tuple(
            p if p.feasible_space.distribution else replace(p, feasible_space=replace(p.feasible_space, distribution=DEFAULT_DISTRIBUTION))
            for p in s.parameters
        ),
    )
    return replace(exp, spec=spec)


def _v1alpha3(exp: Experiment) -> Experiment:
    s = exp.spec
    spec = replace(
        s,
        parallel_trial_count=DEFAULT_PARALLEL_TRIAL_COUNT if s.parallel_trial_count is None else s.parallel_trial_count,
        resume_policy=s.resume_policy or DEFAULT_RESUME_POLICY_V1ALPHA3,
        trial_template=_trial_template_v1alpha3(s.trial_template),
        metrics_collector_spec=_collector(s.metrics_collector_spec, file_format=False),
    )
    return replace(exp, spec=spec)


# ------------------------------------------------------------------------------------------------
def _objective(obj: ObjectiveSpec | None) -> ObjectiveSpec | None:
    """Metric strategies as Katib's setDefaultObjective adds them.

    Additional metrics get the rule keyed on the objective type (min for minimize, max for
    maximize), not "latest" as Katib's code comment claims (§1.2). Like Katib, the objective's
    own entry is not counted as "present" for additional metrics, and a name listed twice in
    additionalMetricNames gets two entries.
    """
    if obj is None:
        return None
    metric = obj.objective_metric_name or ""
    strategies = list(obj.metric_strategies)
    objective_has = any(st.name == metric for st in strategies)
    present = {st.name for st in strategies if st.name != metric}
    value = default_metric_strategy(obj.type)
    if not objective_has:
        strategies.append(MetricStrategy(metric, value))
    for name in obj.additional_metric_names:
        if name not in present:
            strategies.append(MetricStrategy(name, value))
    if len(strategies) == len(obj.metric_strategies):
        return obj
    return replace(obj, metric_strategies=tuple(strategies))


def _trial_template(t: TrialTemplate | None) -> TrialTemplate | None:
    """Kind-based conditions and primary pod labels; only for an inline trialSpec, matched on kind only."""
    if t is None or t.trial_spec is None:
        return t
    kind = t.trial_spec.get("kind")
    if kind == "Job":
        return replace(
            t,
            success_condition=t.success_condition or JOB_SUCCESS_CONDITION,
            failure_condition=t.failure_condition or JOB_FAILURE_CONDITION,
        )
    if kind in KUBEFLOW_JOB_KINDS:
        return replace(
            t,
            success_condition=t.success_condition or KUBEFLOW_JOB_SUCCESS_CONDITION,
            failure_condition=t.failure_condition or KUBEFLOW_JOB_FAILURE_CONDITION,
            primary_pod_labels=t.primary_pod_labels or dict(KUBEFLOW_JOB_PRIMARY_POD_LABELS),
        )
    if kind == "TrainJob":
        return replace(
            t,
            success_condition=t.success_condition or TRAINJOB_SUCCESS_CONDITION,
            failure_condition=t.failure_condition or TRAINJOB_FAILURE_CONDITION,
            primary_pod_labels=t.primary_pod_labels or dict(TRAINJOB_PRIMARY_POD_LABELS),
        )
    return t


_KIND_LINE = re.compile(r"^kind:\s*[\"']?([A-Za-z0-9]+)[\"']?\s*$", re.MULTILINE)


def go_template_kind(raw: str | None) -> str | None:
    """The top-level ``kind:`` of a v1alpha3 raw Go template, read without rendering it."""
    if not raw:
        return None
    m = _KIND_LINE.search(raw)
    return m.group(1) if m else None


def _trial_template_v1alpha3(t: TrialTemplate | None) -> TrialTemplate:
    """v1alpha3: ``{retain: true}`` when absent, the stock ConfigMap when no template is given.

    katibsim also records v1alpha3's built-in completion rules for its three job kinds (Job:
    Complete/Failed; TFJob, PyTorchJob: Succeeded/Failed, from the v0.9 job providers) as v1beta1
    success/failure conditions, so the engine needs one rule only [derived]. They are not part of
    the v1alpha3 shape and are not shown for it.
    """
    if t is None:
        t = TrialTemplate(retain=True)
    if not t.go_template and t.go_template_spec is None and t.trial_spec is None and t.config_map is None:
        t = replace(t, go_template_spec=dict(V1ALPHA3_DEFAULT_TEMPLATE_SPEC))
    kind = go_template_kind(t.go_template)
    if kind == "Job":
        t = replace(
            t,
            success_condition=t.success_condition or JOB_SUCCESS_CONDITION,
            failure_condition=t.failure_condition or JOB_FAILURE_CONDITION,
        )
    elif kind in ("TFJob", "PyTorchJob"):
        t = replace(
            t,
            success_condition=t.success_condition or KUBEFLOW_JOB_SUCCESS_CONDITION,
            failure_condition=t.failure_condition or KUBEFLOW_JOB_FAILURE_CONDITION,
        )
    return t


def _collector(mc: MetricsCollectorSpec | None, *, file_format: bool) -> MetricsCollectorSpec:
    if mc is None:
        return MetricsCollectorSpec(kind="StdOut")
    if mc.kind == "PrometheusMetric":
        http_get = dict(mc.http_get or {})
        if not http_get.get("path"):
            http_get["path"] = DEFAULT_PROMETHEUS_PATH
        # Katib tests intstr.String() == "0": an absent port, 0 and "0" all become 8080.
        if str(http_get.get("port", 0)) == "0":
            http_get["port"] = DEFAULT_PROMETHEUS_PORT
        if http_get != dict(mc.http_get or {}) or mc.http_get is None:
            return replace(mc, http_get=http_get)
        return mc
    if mc.kind == "File":
        fsp = mc.file_system_path or FileSystemPath()
        new = replace(
            fsp,
            kind=fsp.kind or "File",
            path=fsp.path or DEFAULT_FILE_PATH,
            format=(fsp.format or DEFAULT_FILE_FORMAT) if file_format else fsp.format,
        )
        return mc if new == mc.file_system_path else replace(mc, file_system_path=new)
    if mc.kind == "TensorFlowEvent":
        fsp = mc.file_system_path or FileSystemPath()
        new = replace(fsp, kind=fsp.kind or "Directory", path=fsp.path or DEFAULT_TFEVENT_DIR)
        return mc if new == mc.file_system_path else replace(mc, file_system_path=new)
    return mc

