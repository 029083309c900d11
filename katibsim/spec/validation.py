"""Katib's validating-webhook rules that need no cluster, plus the checks a run needs (docs/katib-behaviour.md §2).

``validate(exp)`` returns every problem at once, errors and warnings (``severity``), each with
the file, the Katib-style field path, the offending value and Katib's own wording:

- v1beta1: ``ValidateExperiment`` of §2.2 in Katib's order. Unlike Katib, which stops after a
  broken objective, the remaining rules still run, so a file shows all its problems at once.
- v1alpha3 (converted): the v0.9 validator of §2.3 with its sentences; Katib returned only the
  first, here all are reported.
- trial templates (§2.2 item 12, the v1alpha3 template checks): ``katibsim.spec.template_checks``.
- katibsim additions, marked as such in the message: what Katib's webhook lets through but a run
  cannot survive (§2.2 item 15 "Not checked": numbers that do not parse, min > max, step <= 0,
  duplicate names, an empty list; metric strategies outside min/max/latest; a StdOut filter that
  does not compile).
- cluster-only checks become warnings where katibsim can say something useful offline (a
  PrometheusMetric collector, a trial kind outside the stock trialResources); see
  docs/experiments.md for the full list and what is deliberately not checked.

Algorithm names and settings are validated by the plugin host (``katibsim.plugins``).

Why one module of about 550 lines: it has one job, Katib's ``ValidateExperiment`` as one ordered
pass, and its parts share the problem collector (``_Checks``) and the small path and port rules
the v1beta1 and v1alpha3 collector checks both use. The part with its own job — the trial-template
checks — is already separate (:mod:`katibsim.spec.template_checks`).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import replace
from typing import Any, Iterable

from katibsim.collectors import goregex
from katibsim.errors import FieldError, SpecError
from katibsim.spec import template_checks
from katibsim.spec.defaults import apply_defaults
from katibsim.spec.model import V1ALPHA3, Experiment, MetricsCollectorSpec

__all__ = [
    "KATIBSIM_CHECK",
    "CLUSTER_CHECK",
    "validate",
    "errors_of",
    "warnings_of",
    "merge_problems",
    "raise_for_errors",
]

KATIBSIM_CHECK = "katibsim check: Katib's webhook accepts this, but a run cannot work with it"
CLUSTER_CHECK = "cluster-dependent, so katibsim only warns"

PARAMETER_TYPES = ("int", "double", "categorical", "discrete", "unknown")
DISTRIBUTIONS = ("uniform", "logUniform", "normal", "logNormal", "unknown")
RESUME_POLICIES = ("", "Never", "LongRunning", "FromVolume")
RESUME_POLICIES_V1ALPHA3 = ("", "Never", "LongRunning")
METRIC_STRATEGIES = ("min", "max", "latest")
# Kinds in the stock katib-config trialResources (Appendix): other kinds need their CRD installed
# and katib-config extended, which only a cluster can tell.
STOCK_TRIAL_KINDS = ("Job", "TrainJob", "TFJob", "PyTorchJob", "MPIJob", "XGBoostJob")

_NAME_PREFIX = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_NAME_MESSAGE = (
    "name must consist of lower case alphanumeric characters or '-', start with an alphabetic character, "
    "and end with an alphanumeric character (e.g. 'my-name', or 'abc-123', regex used for validation is "
    "'^[a-z]([-a-z0-9]*[a-z0-9])?)') and may not be longer than 40 characters."
)
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_SUBDOMAIN_MESSAGE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*') (Kubernetes API server rule)"
)
_LABEL_MESSAGE = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and "
    "end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?') (Kubernetes API server rule)"
)
_TWO_GROUPS = re.compile(r".*\(.*\).*\(.*\).*")

MC = "spec.metricsCollectorSpec"
SOURCE = f"{MC}.source"


# ------------------------------------------------------------------------------------------------
# public API
# ------------------------------------------------------------------------------------------------
def validate(exp: Experiment) -> list[FieldError]:
    """Every problem of ``exp`` (errors and warnings), in Katib's order, then katibsim's own.

    Katib validates after defaulting, so this applies ``apply_defaults`` first (idempotent).
    """
    exp = apply_defaults(exp)
    c = _Checks(exp.source_file)
    if exp.source_api_version == V1ALPHA3:
        _v1alpha3(exp, c)
    else:
        _v1beta1(exp, c)
    _search_space(exp, c)
    _additions(exp, c)
    _cluster_warnings(exp, c)
    _collector_path_backsteps(exp, c)
    return c.out


def errors_of(problems: Iterable[FieldError]) -> list[FieldError]:
    return [p for p in problems if p.severity == "error"]


def warnings_of(problems: Iterable[FieldError]) -> list[FieldError]:
    return [p for p in problems if p.severity == "warning"]


def raise_for_errors(exp: Experiment) -> Experiment:
    """``exp`` when it has no validation errors, else SpecError with all of them."""
    errors = errors_of(validate(exp))
    if errors:
        raise SpecError(errors)
    return exp


def merge_problems(reading: Iterable[FieldError], checks: Iterable[FieldError]) -> list[FieldError]:
    """Reading problems followed by validation problems, without repeating a field.

    A field that could not be read is left out of the model, so validation would report it
    again as missing; validation problems at (or below) a path already reported are dropped.
    """
    reading = list(reading)
    bad = [p.path for p in reading if p.severity == "error" and p.path]
    out = list(reading)
    for p in checks:
        if p.path and any(p.path == b or p.path.startswith(b + ".") or p.path.startswith(b + "[") for b in bad):
            continue
        out.append(p)
    return out


# ------------------------------------------------------------------------------------------------
class _Checks:
    def __init__(self, file: str | None):
        self.file = file
        self.out: list[FieldError] = []

    def invalid(self, path: str, value: Any, message: str) -> None:
        self.out.append(FieldError(path, message, self.file, _scalar(value), "invalid"))

    def required(self, path: str, message: str) -> None:
        self.out.append(FieldError(path, message, self.file, None, "required"))

    def forbidden(self, path: str, message: str) -> None:
        self.out.append(FieldError(path, message, self.file, None, "forbidden"))

    def warn(self, path: str, value: Any, message: str) -> None:
        self.out.append(FieldError(path, message, self.file, _scalar(value), "invalid", "warning"))

    def add(self, errors: Iterable[FieldError]) -> None:
        for e in errors:
            self.out.append(e if e.file is not None or self.file is None else replace(e, file=self.file))

    def has(self, path: str) -> bool:
        return any(e.path == path for e in self.out)


def _scalar(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


# ------------------------------------------------------------------------------------------------
# v1beta1: §2.2 in order
# ------------------------------------------------------------------------------------------------
def _v1beta1(exp: Experiment, c: _Checks) -> None:
    s = exp.spec
    _names(exp, c)
    # 2-6. counts
    if s.max_failed_trial_count is not None and s.max_failed_trial_count < 0:
        c.invalid("spec.maxFailedTrialCount", s.max_failed_trial_count, "should not be less than 0")
    if s.max_trial_count is not None and s.max_trial_count <= 0:
        c.invalid("spec.maxTrialCount", s.max_trial_count, "must be greater than 0")
    if s.parallel_trial_count is not None and s.parallel_trial_count <= 0:
        c.invalid("spec.parallelTrialCount", s.parallel_trial_count, "must be greater than 0")
    if s.max_failed_trial_count is not None and s.max_trial_count is not None:
        if s.max_failed_trial_count > s.max_trial_count:
            c.invalid("spec.maxFailedTrialCount", s.max_failed_trial_count, "should be less than or equal to spec.maxTrialCount")
    if s.parallel_trial_count is not None and s.max_trial_count is not None:
        if s.parallel_trial_count > s.max_trial_count:
            c.invalid("spec.parallelTrialCount", s.parallel_trial_count, "should be less than or equal to spec.maxTrialCount")
    # 7. UPDATE-only rules: there is no old object offline (the engine's restart owns them).
    # 8. objective (Katib returns here when it fails; katibsim goes on to report the rest)
    obj = s.objective
    if obj is None:
        c.required("spec.objective", "must be specified")
    else:
        if obj.type not in ("minimize", "maximize"):
            c.invalid("spec.objective.type", obj.type or "", "must be minimize or maximize")
        if not obj.objective_metric_name:
            c.required("spec.objective.objectiveMetricName", "must be specified")
        if obj.objective_metric_name is not None and obj.objective_metric_name in obj.additional_metric_names:
            c.invalid(
                "spec.objective.additionalMetricNames", list(obj.additional_metric_names),
                "should not contain spec.objective.objectiveMetricName",
            )
    # 9. algorithm (the katib-config lookup is the plugin host's: katibsim.algorithm_factory.validate_algorithm)
    if s.algorithm is None:
        c.required("spec.algorithm", "must be specified")
    elif not s.algorithm.algorithm_name:
        c.required("spec.algorithm.algorithmName", "must be specified")
    # 10. earlyStopping (name lookup: katibsim.algorithm_factory.validate_early_stopping)
    if s.early_stopping is not None and not s.early_stopping.algorithm_name:
        c.required("spec.earlyStopping.algorithmName", "must be specified")
    # 11. resumePolicy
    if (s.resume_policy or "") not in RESUME_POLICIES:
        c.invalid("spec.resumePolicy", s.resume_policy, "invalid ResumePolicyType")
    # 12. trialTemplate
    c.add(_template_problems(exp))
    # 13-14. parameters / nasConfig
    if not s.parameters and s.nas_config is None:
        c.required("spec", "spec.parameters or spec.nasConfig must be specified")
    if s.parameters and s.nas_config is not None:
        c.invalid("spec", None, "only one of spec.parameters and spec.nasConfig can be specified")
    # 15. parameters
    for i, p in enumerate(s.parameters):
        base = f"spec.parameters[{i}]"
        fs = p.feasible_space
        if p.parameter_type not in PARAMETER_TYPES:
            c.invalid(f"{base}.parameterType", p.parameter_type, f"parameterType: {p.parameter_type} is not supported")
        if fs.distribution and fs.distribution not in DISTRIBUTIONS:
            c.invalid(f"{base}.feasibleSpace.distribution", fs.distribution, f"distribution: {fs.distribution} is not supported")
        # After defaulting the distribution is never empty, so in Katib (v0.18+) this zero-value
        # check cannot fire any more [derived]; kept for fidelity.
        if not (fs.min or fs.max or fs.list or fs.step or fs.distribution):
            c.required(f"{base}.feasibleSpace", "feasibleSpace must be specified")
        elif p.parameter_type in ("double", "int"):
            if fs.list:
                c.invalid(f"{base}.feasibleSpace.list", list(fs.list), f"feasibleSpace.list is not supported for parameterType: {p.parameter_type}")
            if not fs.max or not fs.min:
                c.required(
                    f"{base}.feasibleSpace.max",
                    f"feasibleSpace.max or feasibleSpace.min must be specified for parameterType: {p.parameter_type}",
                )
        elif p.parameter_type in ("categorical", "discrete"):
            if fs.max or fs.min or fs.step:
                c.invalid(
                    f"{base}.feasibleSpace", _fs_text(fs),
                    f"feasibleSpace .max, .min and .step is not supported for parameterType: {p.parameter_type}",
                )
    # 16. metrics collector
    _collector_v1beta1(s.metrics_collector_spec or MetricsCollectorSpec(), c)


def _fs_text(fs) -> str:
    parts = [f"{k}: {getattr(fs, k)}" for k in ("min", "max", "step") if getattr(fs, k)]
    if fs.list:
        parts.append(f"list: [{', '.join(fs.list)}]")
    return "{" + ", ".join(parts) + "}"


def _names(exp: Experiment, c: _Checks) -> None:
    name = exp.name
    if not name:
        c.required("metadata.name", "name or generateName is required (Kubernetes API server rule)")
    elif not _NAME_PREFIX.match(name) or len(name) > 40:
        c.invalid("metadata.name", name, _NAME_MESSAGE)
    elif len(name) > 253 or not _DNS1123_SUBDOMAIN.fullmatch(name):
        # Katib's regex has no "$": only the first character is really checked; the API server
        # still requires an RFC 1123 subdomain.
        c.invalid("metadata.name", name, _SUBDOMAIN_MESSAGE)
    ns = exp.namespace
    if ns and (len(ns) > 63 or not _DNS1123_LABEL.fullmatch(ns)):
        c.invalid("metadata.namespace", ns, _LABEL_MESSAGE)


def _is_abs(path: str | None) -> bool:
    return bool(path) and posixpath.isabs(path)  # Go's filepath.IsAbs on Linux


def _port_ok(port: Any) -> bool:
    """Katib: ``strconv.Atoi(port.String())`` must give an int > 0 (a named port fails)."""
    text = str(port) if port is not None else "0"
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        return False
    value = int(text)
    return 0 < value < 2**63


def _collector_v1beta1(mc: MetricsCollectorSpec, c: _Checks) -> None:
    kind = mc.kind
    if kind == "PrometheusMetric":
        c.warn(
            f"{MC}.collector.kind", kind,
            "GetMetricsCollectorConfigData failed: failed to find metrics collector config for kind: PrometheusMetric "
            f"in ConfigMap: katib-config (stock Katib installs have no PrometheusMetric collector; {CLUSTER_CHECK})",
        )
    fsp = mc.file_system_path
    filter_checked_by_katib = True
    if kind in ("Push", "StdOut"):
        filter_checked_by_katib = False
    elif kind == "File":
        if fsp is None or fsp.kind != "File" or not _is_abs(fsp.path):
            c.required(f"{SOURCE}.fileSystemPath.path", "file path where metrics file exists is required")
        fmt = fsp.format if fsp is not None else None
        if fmt not in ("TEXT", "JSON"):
            c.required(f"{SOURCE}.fileSystemPath.format", "format of metrics file is required for metrics collector")
        if fmt == "JSON" and mc.metrics_format is not None:
            c.invalid(f"{SOURCE}.filter", "", "filter must be nil when format of metrics file is json")
    elif kind == "TensorFlowEvent":
        if fsp is None or fsp.kind != "Directory" or not _is_abs(fsp.path):
            c.required(
                SOURCE,
                "directory path where tensorflow event files exist is required by .spec.metricsCollectorSpec.source.fileSystemPath.path",
            )
        if fsp is not None and fsp.format:
            c.invalid(f"{SOURCE}.fileSystemPath.format", fsp.format, "must be empty")
    elif kind == "PrometheusMetric":
        http_get = mc.http_get or {}
        port = http_get.get("port")
        if not _port_ok(port):
            c.invalid(f"{SOURCE}.httpGet.port", str(port if port is not None else 0), f"must be a positive integer value for metrics collector kind: {kind}")
        path = http_get.get("path") or ""
        if not str(path).startswith("/"):
            c.invalid(f"{SOURCE}.httpGet.path", path, f"path is invalid for metrics collector kind: {kind}")
    elif kind == "Custom":
        if mc.custom_collector is None:
            c.required(f"{MC}.collector.customCollector", f"metrics collector kind: {kind} is required")
        if fsp is not None and (not _is_abs(fsp.path) or fsp.kind not in ("Directory", "File")):
            c.invalid(f"{SOURCE}.fileSystemPath", "", ".spec.metricsCollectorSpec.source is invalid")
    else:
        hint = " (katibsim: kind None was renamed Push in Katib v0.18)" if kind == "None" else ""
        c.invalid(f"{MC}.collector.kind", kind, f"invalid metrics collector kind: {kind}{hint}")
        return
    for i, fmt in enumerate(mc.metrics_format or ()):
        problem = _filter_problem(fmt)
        if problem is None:
            continue
        path = f"{SOURCE}.filter.metricsFormat[{i}]"
        if filter_checked_by_katib:
            c.invalid(path, fmt, problem)
        else:
            # Katib returns before the filter check for StdOut/Push, yet the StdOut collector
            # uses the filter: a bad one fails every trial at run time.
            c.invalid(path, fmt, f"{problem} ({KATIBSIM_CHECK})")


def _filter_problem(fmt: str) -> str | None:
    """Katib's two filter rules: it compiles as an RE2 regex and has two top subexpressions.

    Compiled through the collectors' Go-regexp translation, which knows RE2's dialect.
    """
    try:
        goregex.compile_go(fmt)
    except goregex.GoRegexError as err:
        if err.katib_rejects:
            return f"invalid filter: error parsing regexp: {err.reason}"
        return None  # Katib accepts it; the collector reports what it cannot emulate
    if not _TWO_GROUPS.search(fmt):
        return "two top subexpressions are required"
    return None


# ------------------------------------------------------------------------------------------------
# v1alpha3: §2.3, every error instead of the first
# ------------------------------------------------------------------------------------------------
def _v1alpha3(exp: Experiment, c: _Checks) -> None:
    s = exp.spec
    _names(exp, c)
    if s.max_failed_trial_count is not None and s.max_failed_trial_count < 0:
        c.invalid("spec.maxFailedTrialCount", s.max_failed_trial_count, "spec.maxFailedTrialCount should not be less than 0")
    if s.max_trial_count is not None and s.max_trial_count <= 0:
        c.invalid("spec.maxTrialCount", s.max_trial_count, "spec.maxTrialCount must be greater than 0")
    if s.parallel_trial_count is not None and s.parallel_trial_count <= 0:
        c.invalid("spec.parallelTrialCount", s.parallel_trial_count, "spec.parallelTrialCount must be greater than 0")
    obj = s.objective
    if obj is None:
        c.required("spec.objective", "No spec.objective specified.")
    else:
        if obj.type not in ("minimize", "maximize"):
            c.invalid("spec.objective.type", obj.type or "", "spec.objective.type must be minimize or maximize.")
        if not obj.objective_metric_name:
            c.required("spec.objective.objectiveMetricName", "No spec.objective.objectiveMetricName specified.")
    if s.algorithm is None:
        c.required("spec.algorithm", "No spec.algorithm specified.")
    elif not s.algorithm.algorithm_name:
        c.required("spec.algorithm.algorithmName", "No spec.algorithm.name specified.")
    if (s.resume_policy or "") not in RESUME_POLICIES_V1ALPHA3:
        c.invalid("spec.resumePolicy", s.resume_policy, f"invalid ResumePolicyType {s.resume_policy}")
    c.add(_template_problems(exp))
    if not s.parameters and s.nas_config is None:
        c.required("spec", "spec.parameters or spec.nasConfig must be specified.")
    if s.parameters and s.nas_config is not None:
        c.invalid("spec", None, "Only one of spec.parameters and spec.nasConfig can be specified.")
    _collector_v1alpha3(s.metrics_collector_spec or MetricsCollectorSpec(), c)
    if s.early_stopping is not None:
        if not s.early_stopping.algorithm_name:
            c.required(
                "spec.algorithm.earlyStopping.earlyStoppingAlgorithmName",
                f"must be specified ({KATIBSIM_CHECK})",
            )
        c.warn(
            "spec.algorithm.earlyStopping", s.early_stopping.algorithm_name,
            "Katib v1alpha3 declared early stopping but never ran it (no service existed); katibsim converts it "
            "to v1beta1 spec.earlyStopping and does run it",
        )


def _collector_v1alpha3(mc: MetricsCollectorSpec, c: _Checks) -> None:
    kind = mc.kind
    fsp = mc.file_system_path
    if kind == "PrometheusMetric":
        c.warn(
            f"{MC}.collector.kind", kind,
            f'Don\'t support metrics collector kind "PrometheusMetric": stock Katib installs have no image for it ({CLUSTER_CHECK}).',
        )
    check_filter = True
    if kind in ("None", "StdOut"):
        check_filter = False
    elif kind == "File":
        if fsp is None or fsp.kind != "File" or not _is_abs(fsp.path):
            c.required(
                f"{SOURCE}.fileSystemPath.path",
                "File path where metrics file exists is required by .spec.metricsCollectorSpec.source.fileSystemPath.path",
            )
    elif kind == "TensorFlowEvent":
        if fsp is None or fsp.kind != "Directory" or not _is_abs(fsp.path):
            c.required(
                f"{SOURCE}.fileSystemPath.path",
                "Directory path where tensorflow event files exist is required by .spec.metricsCollectorSpec.source.fileSystemPath.path",
            )
    elif kind == "PrometheusMetric":
        http_get = mc.http_get or {}
        if not _port_ok(http_get.get("port")):
            c.invalid(
                f"{SOURCE}.httpGet.port", str(http_get.get("port", 0)),
                f".spec.metricsCollectorSpec.source.httpGet.port must be a positive integer value for metrics collector kind: {kind}.",
            )
        path = http_get.get("path") or ""
        if not str(path).startswith("/"):
            c.invalid(
                f"{SOURCE}.httpGet.path", path,
                f".spec.metricsCollectorSpec.source.httpGet.path is invalid for metrics collector kind: {kind}.",
            )
    elif kind == "Custom":
        if mc.custom_collector is None:
            c.required(
                f"{MC}.collector.customCollector",
                f".spec.metricsCollectorSpec.collector.customCollector is required for metrics collector kind: {kind}.",
            )
        if fsp is not None and (not _is_abs(fsp.path) or fsp.kind not in ("Directory", "File")):
            c.invalid(f"{SOURCE}.fileSystemPath", "", ".spec.metricsCollectorSpec.source is invalid")
    else:
        c.invalid(f"{MC}.collector.kind", kind, f"Invalid metrics collector kind: {kind}.")
        return
    for i, fmt in enumerate(mc.metrics_format or ()):
        problem = _filter_problem(fmt)
        if problem is None:
            continue
        path = f"{SOURCE}.filter.metricsFormat[{i}]"
        detail = problem.removeprefix("invalid filter: ")
        message = f'Invalid "{fmt}" in .spec.metricsCollectorSpec.source.filter: {detail}'
        if check_filter:
            c.invalid(path, fmt, message + ("." if not detail.startswith("two top") else ""))
        else:
            c.invalid(path, fmt, f"{message} ({KATIBSIM_CHECK})")


# ------------------------------------------------------------------------------------------------
# trial templates: another module's rules, called in Katib's place in the order
# ------------------------------------------------------------------------------------------------
def _template_problems(exp: Experiment) -> list[FieldError]:
    return list(template_checks.template_problems(exp))


# ------------------------------------------------------------------------------------------------
# katibsim additions
# ------------------------------------------------------------------------------------------------
def _search_space(exp: Experiment, c: _Checks) -> None:
    """Numbers that do not parse, min > max, step <= 0, empty lists, ... (SearchSpace.from_specs).

    Problems Katib's own rules already reported at the same place are not repeated.
    """
    from katibsim.spec.space import SearchSpace

    if not exp.spec.parameters:
        return
    try:
        SearchSpace.from_specs(exp.spec.parameters, file=exp.source_file)
        found: list[FieldError] = []
    except SpecError as err:
        found = err.errors
    v1beta1 = exp.source_api_version != V1ALPHA3
    for e in found:
        if c.has(e.path):
            continue
        if v1beta1 and e.kind == "required" and e.path.endswith((".feasibleSpace.min", ".feasibleSpace.max")):
            base = e.path.rsplit(".", 1)[0]
            if c.has(f"{base}.max"):
                continue
        c.out.append(replace(e, message=f"{e.message} ({KATIBSIM_CHECK})", file=e.file or exp.source_file))
    seen: dict[str, int] = {}
    for i, p in enumerate(exp.spec.parameters):
        if not p.name:
            c.required(f"spec.parameters[{i}].name", f"must be specified ({KATIBSIM_CHECK})")
            continue
        if p.name in seen:
            c.invalid(
                f"spec.parameters[{i}].name", p.name,
                f"duplicate parameter name, also spec.parameters[{seen[p.name]}]; Katib's CRD has no schema to reject "
                f"it, but assignments and trial templates are keyed by name ({KATIBSIM_CHECK})",
            )
        else:
            seen[p.name] = i


def _additions(exp: Experiment, c: _Checks) -> None:
    s = exp.spec
    obj = s.objective
    if obj is not None:
        metrics = {obj.objective_metric_name, *obj.additional_metric_names}
        for i, st in enumerate(obj.metric_strategies):
            if st.value not in METRIC_STRATEGIES:
                c.invalid(
                    f"spec.objective.metricStrategies[{i}].value", st.value,
                    f"must be one of min, max, latest ({KATIBSIM_CHECK}: Katib's trial controller fails on it)",
                )
            if st.name not in metrics and st.name != (obj.objective_metric_name or ""):
                c.warn(
                    f"spec.objective.metricStrategies[{i}].name", st.name,
                    "not the objective metric nor an additional metric; the strategy is never used",
                )
    if s.max_trial_count is None:
        why = (
            "the experiment ends only when the goal is reached (or when it fails)"
            if obj is not None and obj.goal is not None
            else "with no goal either, the experiment never ends by itself"
        )
        c.warn("spec.maxTrialCount", None, f"not set: {why}")


def _cluster_warnings(exp: Experiment, c: _Checks) -> None:
    t = exp.spec.trial_template
    if exp.source_api_version == V1ALPHA3 or t is None or t.trial_spec is None:
        return
    kind = t.kind
    if kind and kind not in STOCK_TRIAL_KINDS:
        api = t.trial_spec.get("apiVersion")
        c.warn(
            "spec.trialTemplate.trialSpec.kind", kind,
            f"not in the stock katib-config trialResources ({', '.join(STOCK_TRIAL_KINDS)}): the cluster needs the "
            f"CRD of {kind}{f' ({api})' if isinstance(api, str) else ''} and katib-config must list it ({CLUSTER_CHECK})",
        )


def _collector_path_backsteps(exp: Experiment, c: _Checks) -> None:
    """A collector path with '..': Katib resolves it inside the container; katibsim's local backend refuses it.

    Katib mounts its emptyDir at the path's folder as written and the container resolves the
    '..' there (possibly onto a system folder of the image); the local backend places the folder
    inside each trial's directory and refuses a path that would climb out of it.
    """
    mc = exp.spec.metrics_collector_spec
    fsp = mc.file_system_path if mc is not None else None
    path = fsp.path if fsp is not None else None
    if isinstance(path, str) and ".." in path.split("/"):
        c.warn(
            "spec.metricsCollectorSpec.source.fileSystemPath.path", path,
            "contains '..': Katib resolves it inside the container (its emptyDir may then cover another folder of "
            "the image); `katibsim run --backend local` refuses a path that leaves the trial's folder; write the "
            "path without '..'",
        )
