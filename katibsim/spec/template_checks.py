"""The validating webhook's checks of a trial template (Katib's §2.2 item 12 and the template part of §2.3).

Section numbers are those of ``docs/katib-behaviour.md``. The checks render the template with
:mod:`katibsim.spec.templates` (the same serialisation and substitution a trial gets), so a
template that passes here renders there. :func:`template_problems` returns every problem rather
than Katib's first.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

import yaml

from katibsim.errors import FieldError
from katibsim.spec import gotemplate
from katibsim.spec.gotemplate import TemplateError
from katibsim.spec.model import Experiment, TrialTemplate
from katibsim.spec.templates import (
    PLACEHOLDER,
    RAW_TEMPLATE,
    TRIAL_PARAMETERS,
    TRIAL_TEMPLATE,
    decode_go_rendered,
    go_json,
    go_parameters,
    go_template_data,
    go_trial_parameters,
    go_value,
    is_go_template,
    is_meta_reference,
    meta_string,
    unstructured,
)

__all__ = ["template_problems"]

PLACEHOLDER_RE = re.compile(r"\$\{trialParameters\..+?\}")
# The value Katib's webhook substitutes for every placeholder before parsing the template.
TEST_VALUE = "test-value"

# v1alpha3: the only job kinds the v0.9.0 webhook accepts (pkg/job/v1alpha3), as (group, version, kind).
V1ALPHA3_JOB_KINDS = (("batch", "v1", "Job"), ("kubeflow.org", "v1", "TFJob"), ("kubeflow.org", "v1", "PyTorchJob"))


def template_problems(experiment: Experiment) -> list[FieldError]:
    """Every trial-template error Katib's validating webhook would give, as FieldErrors.

    v1beta1 follows §2.2 item 12 in order with Katib's messages; it returns early only where the
    later checks cannot run (no template, no trialParameters, no or two sources, an unparsable
    template), and otherwise keeps going where Katib stops at the first missing placeholder. Added
    (§7.1 [derived]): a search parameter that no trialParameter references is an error, because
    Katib fails every trial of such an experiment. A ConfigMap template cannot be read without a
    cluster: a warning says its checks were skipped.

    v1alpha3 follows §2.3: the template is rendered for trial ``<name>-trial`` with no
    hyperparameters and must decode to a Job batch/v1, TFJob kubeflow.org/v1 or PyTorchJob
    kubeflow.org/v1 named ``{{.Trial}}`` in the experiment's namespace; all failures are reported.
    """
    tt = experiment.spec.trial_template
    file = experiment.source_file
    if tt is None:
        return [FieldError(TRIAL_TEMPLATE, "must be specified", file, kind="required")]
    if is_go_template(tt):
        return _v1alpha3_problems(experiment, tt)
    return _v1beta1_problems(experiment, tt, file)


def _v1beta1_problems(experiment: Experiment, tt: TrialTemplate, file: str | None) -> list[FieldError]:
    errs: list[FieldError] = []

    def err(path: str, message: str, value: Any = None, kind: str = "invalid", severity: str = "error") -> None:
        errs.append(FieldError(path, message, file, value, kind, severity))

    if not tt.primary_container_name:
        err(f"{TRIAL_TEMPLATE}.primaryContainerName", "must be specified", kind="required")
    if not tt.success_condition or not tt.failure_condition:
        err(TRIAL_TEMPLATE, "successCondition and failureCondition must be specified", kind="required")
    if tt.trial_parameters is None:
        err(TRIAL_PARAMETERS, "must be specified", kind="required")
        return errs
    if tt.trial_spec is None and tt.config_map is None:
        # Katib names the Go field (spec.trialTemplate.TrialSource); we name the YAML one.
        err(f"{TRIAL_TEMPLATE}.trialSpec", "spec.trialTemplate.trialSpec or spec.trialTemplate.configMap must be specified", kind="required")
        return errs
    if tt.trial_spec is not None and tt.config_map is not None:
        err(TRIAL_TEMPLATE, "only one of spec.trialTemplate.trialSpec or spec.trialTemplate.configMap can be specified", kind="required")
        return errs
    template: str | None = None
    if tt.config_map is not None:
        cm = tt.config_map
        if not (cm.get("configMapName") and cm.get("configMapNamespace") and cm.get("templatePath")):
            err(f"{TRIAL_TEMPLATE}.configMap", "configMapName, configMapNamespace and templatePath must be specified", kind="required")
            return errs
        err(
            f"{TRIAL_TEMPLATE}.configMap",
            f"the template in ConfigMap {cm.get('configMapNamespace')}/{cm.get('configMapName')} (key {cm.get('templatePath')}) "
            "is read from the cluster; the checks that need the template text were skipped",
            severity="warning",
        )
    elif not isinstance(tt.trial_spec, Mapping):
        err(f"{TRIAL_TEMPLATE}.trialSpec", f"unable to parse spec.trialTemplate: expected an object, got {type(tt.trial_spec).__name__}")
        return errs
    else:
        try:
            template = go_json(tt.trial_spec)
        except (TypeError, ValueError) as exc:
            err(TRIAL_TEMPLATE, f"unable to parse spec.trialTemplate: failed to convert unstructured to string: {exc}")
            return errs

    search_names = {p.name for p in experiment.spec.parameters}
    all_refs = {tp.reference for tp in tt.trial_parameters}
    names: set[str] = set()
    refs: set[str] = set()
    tps = tt.trial_parameters
    for i, tp in enumerate(tps):
        base = f"{TRIAL_PARAMETERS}[{i}]"
        if not tp.name or not tp.reference or "{" in tp.name or "}" in tp.name:
            err(base, "name and reference must be specified and name must not contain '{' or '}'")
            continue
        if tp.name in names:
            err(f"{base}.name", f"parameter name {tp.name} can't be duplicated in spec.trialTemplate.trialParameters: {go_trial_parameters(tps)}", tp.name)
            continue
        if tp.reference in refs:
            err(f"{base}.reference", f"parameter reference {tp.reference} can't be duplicated in spec.trialTemplate.trialParameters: {go_trial_parameters(tps)}", tp.reference)
            continue
        names.add(tp.name)
        refs.add(tp.reference)
        if search_names and not is_meta_reference(tp.reference) and tp.reference not in search_names:
            err(f"{base}.reference", f"parameter reference {tp.reference} does not exist in spec.parameters: {go_parameters(experiment.spec.parameters)}", tp.reference)
        if template is None:
            continue
        placeholder = PLACEHOLDER.format(tp.name)
        if placeholder not in template:
            # Katib returns here; we go on so that every problem is reported at once.
            err(f"{base}.name", f"parameter name: {tp.name} in spec.trialParameters not found in spec.trialTemplate: "
                f"{_abbreviated(template)}{_where_placeholders(tt.trial_spec, placeholder)}", tp.name)
            continue
        template = template.replace(placeholder, TEST_VALUE)

    # [derived] §7.1: Katib requires as many assignments as non-meta trialParameters, so a search
    # parameter nobody references fails every trial at run time; say so now.
    for i, p in enumerate(experiment.spec.parameters):
        if p.name not in all_refs:
            err(
                TRIAL_PARAMETERS,
                f"spec.parameters[{i}] {p.name} is not referenced by any trialParameter; Katib would fail every trial with "
                "\"unable to find parameter from ParameterAssignment in TrialParameters\"",
                p.name,
            )

    if template is None:
        return errs
    leftover = PLACEHOLDER_RE.findall(template)
    if leftover:
        err(TRIAL_TEMPLATE, f"parameters: [{' '.join(leftover)}] in spec.trialTemplate not found in spec.trialParameters: {go_trial_parameters(tps)}")
    try:
        run_spec = unstructured(template)
    except ValueError:
        err(TRIAL_TEMPLATE, f"unable to convert spec.trialTemplate: {_abbreviated(template)} to unstructured")
        return errs
    meta = run_spec.get("metadata") if isinstance(run_spec.get("metadata"), Mapping) else {}
    if meta_string(meta, "name") or meta_string(meta, "namespace"):
        err(TRIAL_TEMPLATE, "metadata.name and metadata.namespace in spec.trialTemplate must be omitted")
    if not meta_string(run_spec, "apiVersion") or not meta_string(run_spec, "kind"):
        err(TRIAL_TEMPLATE, "APIVersion and Kind in spec.trialTemplate must be specified", kind="required")
    if run_spec.get("apiVersion") == "batch/v1" and run_spec.get("kind") == "Job":
        for pointer, value in _unknown_job_fields(run_spec):
            err(TRIAL_TEMPLATE, f"invalid spec.trialTemplate: unable to convert: {pointer} - {go_value(value)} to Job")
    return errs


def _v1alpha3_problems(experiment: Experiment, tt: TrialTemplate) -> list[FieldError]:
    file = experiment.source_file
    if tt.go_template is None:
        spec = tt.go_template_spec or {}
        return [
            FieldError(
                f"{TRIAL_TEMPLATE}.goTemplate.templateSpec",
                f"the template in ConfigMap {spec.get('configMapNamespace')}/{spec.get('configMapName')} "
                f"(key {spec.get('templatePath')}) is read from the cluster; the trial-template checks were skipped",
                file, severity="warning",
            )
        ]
    trial = f"{experiment.name}-trial"
    try:
        text = gotemplate.render(tt.go_template, go_template_data(experiment, trial, None), path=RAW_TEMPLATE, file=file)
    except TemplateError as exc:
        return [FieldError(RAW_TEMPLATE, f"Invalid spec.trialTemplate: {exc.errors[0].message}.", file)]
    try:
        job = decode_go_rendered(text)
    except (ValueError, yaml.YAMLError) as exc:
        return [FieldError(RAW_TEMPLATE, f"Invalid spec.trialTemplate: {exc}.", file)]
    errs: list[FieldError] = []
    gvk = _group_version_kind(job)
    if gvk not in V1ALPHA3_JOB_KINDS:
        group, version, kind = gvk
        errs.append(FieldError(RAW_TEMPLATE, f"Invalid spec.trialTemplate: Job type {group}/{version}, Kind={kind} not supported.", file))
    meta = job.get("metadata") if isinstance(job.get("metadata"), Mapping) else {}
    if meta_string(meta, "namespace") != experiment.namespace:
        errs.append(FieldError(
            RAW_TEMPLATE, f"Invalid spec.trialTemplate: metadata.namespace should be {experiment.namespace} or {{{{.NameSpace}}}}", file
        ))
    if meta_string(meta, "name") != trial:
        errs.append(FieldError(RAW_TEMPLATE, "Invalid spec.trialTemplate: metadata.name should be {{.Trial}}", file))
    return errs


def _group_version_kind(obj: Mapping[str, Any]) -> tuple[str, str, str]:
    """Unstructured ``GroupVersionKind()``: an unparsable apiVersion gives the empty GVK."""
    api_version = meta_string(obj, "apiVersion")
    kind = meta_string(obj, "kind")
    if api_version.count("/") > 1:
        return ("", "", "")
    group, _, version = api_version.rpartition("/")
    return (group, version, kind)


# -- batch/v1 Job field check (partial) ---------------------------------------------------------------
# Katib converts a batch/v1 Job template to the typed Job and back; a field the typed struct does not
# know shows up as a JSON-patch "add" and is refused. We know the field names of the objects users
# actually write (Job, ObjectMeta, JobSpec, PodTemplateSpec, PodSpec, Container, EnvVar); deeper
# objects and value types are not checked.

_OBJECT_META = frozenset(
    "name generateName namespace selfLink uid resourceVersion generation creationTimestamp deletionTimestamp "
    "deletionGracePeriodSeconds labels annotations ownerReferences finalizers managedFields".split()
)
_JOB = frozenset("apiVersion kind metadata spec status".split())
_JOB_SPEC = frozenset(
    "parallelism completions activeDeadlineSeconds podFailurePolicy successPolicy backoffLimit backoffLimitPerIndex "
    "maxFailedIndexes selector manualSelector template ttlSecondsAfterFinished completionMode suspend "
    "podReplacementPolicy managedBy".split()
)
_POD_TEMPLATE = frozenset("metadata spec".split())
_POD_SPEC = frozenset(
    "volumes initContainers containers ephemeralContainers restartPolicy terminationGracePeriodSeconds "
    "activeDeadlineSeconds dnsPolicy nodeSelector serviceAccountName serviceAccount automountServiceAccountToken "
    "nodeName hostNetwork hostPID hostIPC shareProcessNamespace securityContext imagePullSecrets hostname subdomain "
    "affinity schedulerName tolerations hostAliases priorityClassName priority dnsConfig readinessGates "
    "runtimeClassName enableServiceLinks preemptionPolicy overhead topologySpreadConstraints setHostnameAsFQDN os "
    "hostUsers schedulingGates resourceClaims resources".split()
)
_CONTAINER = frozenset(
    "name image command args workingDir ports envFrom env resources resizePolicy restartPolicy volumeMounts "
    "volumeDevices livenessProbe readinessProbe startupProbe lifecycle terminationMessagePath "
    "terminationMessagePolicy imagePullPolicy securityContext stdin stdinOnce tty".split()
)
_ENV_VAR = frozenset("name value valueFrom".split())


LONG_TEMPLATE = 300  # characters of template JSON a message prints whole (Katib prints all of it)
MAX_PLACES = 5


def _abbreviated(template: str) -> str:
    """Katib's messages embed the whole template; above LONG_TEMPLATE characters only its size is shown."""
    if len(template) <= LONG_TEMPLATE:
        return template
    return f"<the template as JSON, {len(template):,} characters; Katib's message prints all of it>"


def _placeholder_places(obj: Any, at: str = "") -> list[tuple[str, str]]:
    """(field path, placeholder) of every ``${trialParameters.x}`` in the template, in document order."""
    found: list[tuple[str, str]] = []
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            found += _placeholder_places(v, f"{at}.{k}" if at else str(k))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            found += _placeholder_places(v, f"{at}[{i}]")
    elif isinstance(obj, str):
        found += [(at, m) for m in PLACEHOLDER_RE.findall(obj)]
    return found


def _where_placeholders(trial_spec: Any, missing: str) -> str:
    """Names what is missing and what the template refers to instead (with field paths)."""
    places = [(at, ph) for at, ph in _placeholder_places(trial_spec) if ph != missing]
    if not places:
        return f" (the template has no {missing}, and no ${{trialParameters.…}} at all)"
    shown = ", ".join(f"{ph} at trialSpec.{at}" if at else ph for at, ph in places[:MAX_PLACES])
    more = f" and {len(places) - MAX_PLACES} more" if len(places) > MAX_PLACES else ""
    return f" (the template has no {missing}; it refers to {shown}{more})"


def _pointer(parts: Iterable[str | int]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _unknown_job_fields(job: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """(JSON pointer, value) of every field of a batch/v1 Job template the typed Job would drop."""
    found: list[tuple[str, Any]] = []

    def check(obj: Any, known: frozenset, at: tuple) -> None:
        if isinstance(obj, Mapping):
            for k in sorted(obj, key=str):
                if k not in known:
                    found.append((_pointer(at + (k,)), obj[k]))

    def containers(items: Any, at: tuple) -> None:
        if isinstance(items, list):
            for i, c in enumerate(items):
                check(c, _CONTAINER, at + (i,))
                if isinstance(c, Mapping) and isinstance(c.get("env"), list):
                    for j, e in enumerate(c["env"]):
                        check(e, _ENV_VAR, at + (i, "env", j))

    check(job, _JOB, ())
    check(job.get("metadata"), _OBJECT_META, ("metadata",))
    spec = job.get("spec")
    check(spec, _JOB_SPEC, ("spec",))
    tmpl = spec.get("template") if isinstance(spec, Mapping) else None
    check(tmpl, _POD_TEMPLATE, ("spec", "template"))
    if isinstance(tmpl, Mapping):
        check(tmpl.get("metadata"), _OBJECT_META, ("spec", "template", "metadata"))
        pod = tmpl.get("spec")
        check(pod, _POD_SPEC, ("spec", "template", "spec"))
        if isinstance(pod, Mapping):
            for key in ("containers", "initContainers"):
                containers(pod.get(key), ("spec", "template", "spec", key))
    return found
