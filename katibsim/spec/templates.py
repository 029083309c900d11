"""Trial templates: render a trial's manifest from an Experiment as Katib does, and find its primary container.

Two jobs, each with Katib's semantics (``docs/katib-behaviour.md`` §7):

- :func:`render_trial` turns an assignment (Katib strings) into the trial's manifest. v1beta1:
  the ``trialSpec`` is serialised to JSON the way Go's ``encoding/json`` does, every
  ``${trialParameters.<name>}`` is replaced by **plain string replacement**, meta references
  ``${trialSpec.Name|Namespace|Kind|APIVersion|Labels[k]|Annotations[k]}`` are resolved, the
  result is parsed back and ``metadata.name``/``namespace`` are set to the trial's (§7.1).
  v1alpha3 (a converted experiment whose ``trial_template.go_template`` is set): the Go template
  is executed with ``.Trial``, ``.NameSpace``, ``.Experiment`` and ``.HyperParameters`` and the
  result is parsed as YAML (§7.2).
- :func:`primary_container` finds the container a trial's metrics come from.

The webhook's checks of a template (§2.2 item 12, the template part of §2.3) live in
:mod:`katibsim.spec.template_checks`; they render with the functions here.

Errors are :class:`~katibsim.spec.gotemplate.TemplateError` (a ``SpecError``) carrying the field
path, e.g. ``spec.trialTemplate.trialParameters[2].reference``.
"""

from __future__ import annotations

import json
import re
from typing import Any, Mapping, Sequence

import yaml

from katibsim.spec import gotemplate
from katibsim.spec.gotemplate import TemplateError
from katibsim.spec.model import Experiment, ParameterSpec, TrialParameterSpec, TrialTemplate

__all__ = [
    "META_KEYS",
    "TemplateError",
    "go_template_data",
    "is_meta_reference",
    "primary_container",
    "render_trial",
    "trial_template_string",
]

TRIAL_TEMPLATE = "spec.trialTemplate"
TRIAL_PARAMETERS = f"{TRIAL_TEMPLATE}.trialParameters"
RAW_TEMPLATE = f"{TRIAL_TEMPLATE}.goTemplate.rawTemplate"

# Katib's consts (pkg/controller.v1beta1/consts/const.go).
PLACEHOLDER = "${{trialParameters.{}}}"
META_RE = re.compile(r"\$\{trialSpec\.(.+?)\}")
META_INDEX_RE = re.compile(r"(.+)\[(.+)]")
META_KEYS = ("Name", "Namespace", "Kind", "APIVersion", "Annotations", "Labels")

# Default training-container names of the Kubeflow operators (tfv1/pytorchv1.DefaultContainerName).
DEFAULT_CONTAINER = {"TFJob": "tensorflow", "PyTorchJob": "pytorch"}
# Where each kind keeps its pod templates, and which replica types hold the "master" pod first.
REPLICA_SPECS = {
    "TFJob": ("tfReplicaSpecs", ("Chief", "Master", "Worker")),
    "PyTorchJob": ("pytorchReplicaSpecs", ("Master", "Worker")),
}


# -- Go-compatible serialisation and formatting -------------------------------------------------------


def _string_keys(obj: Any) -> Any:
    """YAML allows non-string keys; Kubernetes' YAML-to-JSON conversion turns them into strings."""
    if isinstance(obj, Mapping):
        out = {}
        for k, v in obj.items():
            key = ("true" if k else "false") if isinstance(k, bool) else str(k)
            out[key] = _string_keys(v)
        return out
    if isinstance(obj, (list, tuple)):
        return [_string_keys(v) for v in obj]
    return obj


def go_json(obj: Any) -> str:
    """Serialise like Go's ``encoding/json`` on an unstructured object: sorted keys, compact, and
    ``<``, ``>``, ``&``, U+2028, U+2029 escaped (so a placeholder containing them is not found,
    exactly as in Katib). Raises ValueError for NaN/Infinity, which Go refuses too."""
    text = json.dumps(_string_keys(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=str)
    # These characters only occur inside JSON strings, so replacing them keeps the JSON valid.
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text


def go_value(v: Any) -> str:
    """Go's ``%v`` of an unstructured value (used inside Katib's messages)."""
    if v is None:
        return "<nil>"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, Mapping):
        return "map[" + " ".join(f"{k}:{go_value(v[k])}" for k in sorted(v, key=str)) + "]"
    if isinstance(v, (list, tuple)):
        return "[" + " ".join(go_value(x) for x in v) + "]"
    return str(v)


def go_trial_parameters(tps: Sequence[TrialParameterSpec] | None) -> str:
    return "[" + " ".join(f"{{{p.name} {p.description} {p.reference}}}" for p in (tps or ())) + "]"


def go_parameters(params: Sequence[ParameterSpec]) -> str:
    def fs(p: ParameterSpec) -> str:
        f = p.feasible_space
        lst = "[" + " ".join(f.list or ()) + "]"
        return f"{{{f.max or ''} {f.min or ''} {lst} {f.step or ''} {f.distribution or ''}}}"

    return "[" + " ".join(f"{{{p.name} {p.parameter_type} {fs(p)}}}" for p in params) + "]"


def _go_assignments(assignment: Mapping[str, str]) -> str:
    return "[" + " ".join(f"{{{k} {v}}}" for k, v in assignment.items()) + "]"


def unstructured(text: str) -> dict:
    """Katib's ConvertStringToUnstructured for JSON text: an object whose ``kind`` is a non-empty string."""
    obj = json.loads(text)
    if not isinstance(obj, dict):
        raise ValueError(f"cannot unmarshal {type(obj).__name__} into an object")
    if not isinstance(obj.get("kind"), str) or not obj["kind"]:
        raise ValueError(f"Object 'Kind' is missing in '{text}'")
    return obj


def meta_string(obj: Mapping[str, Any], key: str) -> str:
    v = obj.get(key) if isinstance(obj, Mapping) else None
    return v if isinstance(v, str) else ""


def _meta_map(spec: Mapping[str, Any], key: str) -> dict[str, str]:
    """``GetLabels()``/``GetAnnotations()``: a string map, or empty when any value is not a string."""
    meta = spec.get("metadata") if isinstance(spec, Mapping) else None
    m = meta.get(key) if isinstance(meta, Mapping) else None
    if not isinstance(m, Mapping) or not all(isinstance(v, str) for v in m.values()):
        return {}
    return {str(k): v for k, v in m.items()}


# -- meta references ---------------------------------------------------------------------------------


def is_meta_reference(reference: str) -> bool:
    """Katib's ``isMetaKey``: ``${trialSpec.<Key>}`` or ``${trialSpec.<Key>[index]}`` with a known key.

    Like Katib's regex, the match is not anchored: ``x${trialSpec.Name}`` counts as a meta reference.
    """
    m = META_RE.search(reference)
    if not m:
        return False
    key = m.group(1)
    if key in META_KEYS:
        return True
    sub = META_INDEX_RE.search(key)
    return bool(sub) and sub.group(1) in META_KEYS


def trial_template_string(experiment: Experiment) -> str:
    """The v1beta1 template as Katib sees it (``GetTrialTemplate``): the trialSpec serialised to JSON.

    Raises TemplateError for a ConfigMap source (it lives in the cluster) or a missing trialSpec.
    """
    tt = _template(experiment)
    if tt.trial_spec is None:
        if tt.config_map is not None:
            raise _config_map_error(tt, experiment)
        raise TemplateError(
            "spec.trialTemplate.trialSpec or spec.trialTemplate.configMap must be specified",
            path=f"{TRIAL_TEMPLATE}.trialSpec", file=experiment.source_file,
        )
    try:
        return go_json(tt.trial_spec)
    except (TypeError, ValueError) as exc:
        raise TemplateError(
            f"failed to convert unstructured to string: {exc}", path=f"{TRIAL_TEMPLATE}.trialSpec", file=experiment.source_file
        ) from None


def _template(experiment: Experiment) -> TrialTemplate:
    tt = experiment.spec.trial_template
    if tt is None:
        raise TemplateError("must be specified", path=TRIAL_TEMPLATE, file=experiment.source_file)
    return tt


def _config_map_error(tt: TrialTemplate, experiment: Experiment) -> TemplateError:
    cm = tt.config_map or {}
    return TemplateError(
        f"the trial template is in ConfigMap {cm.get('configMapNamespace')}/{cm.get('configMapName')} "
        f"(key {cm.get('templatePath')}), which only a cluster can provide; inline it as spec.trialTemplate.trialSpec",
        path=f"{TRIAL_TEMPLATE}.configMap", file=experiment.source_file,
    )


def is_go_template(tt: TrialTemplate) -> bool:
    return tt.go_template is not None or tt.go_template_spec is not None


# -- rendering ----------------------------------------------------------------------------------------


def go_template_data(experiment: Experiment, trial_name: str, assignment: Mapping[str, str] | None) -> dict[str, Any]:
    """The v1alpha3 template data (``trialTemplateParams``). ``.HyperParameters`` follows the order
    of ``spec.parameters``; assignment names that are not search parameters follow in their order."""
    hps: list[dict[str, str]] = []
    if assignment:
        order = [p.name for p in experiment.spec.parameters if p.name in assignment]
        order += [k for k in assignment if k not in order]
        hps = [{"Name": k, "Value": str(assignment[k])} for k in order]
    return {"Experiment": experiment.name, "Trial": trial_name, "NameSpace": experiment.namespace, "HyperParameters": hps}


def _first_yaml_document(text: str) -> Any:
    """What Kubernetes' YAMLOrJSONDecoder reads: the first non-empty document."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for doc in yaml.load_all(text, Loader=loader):
        if doc is not None:
            return doc
    return None


def decode_go_rendered(text: str) -> dict:
    """Decode a rendered v1alpha3 template into an unstructured object (ValueError/YAMLError on failure)."""
    doc = _first_yaml_document(text)
    if not isinstance(doc, dict) or not isinstance(doc.get("kind"), str) or not doc["kind"]:
        shown = json.dumps(doc, default=str) if not isinstance(doc, dict) else go_json(doc)
        raise ValueError(f"Object 'Kind' is missing in '{shown}'")
    return doc


def _render_v1alpha3(experiment: Experiment, trial_name: str, assignment: Mapping[str, str] | None) -> dict:
    tt = _template(experiment)
    if tt.go_template is None:
        spec = tt.go_template_spec or {}
        raise TemplateError(
            f"the trial template is in ConfigMap {spec.get('configMapNamespace')}/{spec.get('configMapName')} "
            f"(key {spec.get('templatePath')}), which only a cluster can provide; inline it as goTemplate.rawTemplate",
            path=f"{TRIAL_TEMPLATE}.goTemplate.templateSpec", file=experiment.source_file,
        )
    text = gotemplate.render(
        tt.go_template, go_template_data(experiment, trial_name, assignment), path=RAW_TEMPLATE, file=experiment.source_file
    )
    try:
        return decode_go_rendered(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise TemplateError(
            f"the template rendered for trial {trial_name} is not a Kubernetes object: {exc}",
            path=RAW_TEMPLATE, file=experiment.source_file,
        ) from None


def render_trial(experiment: Experiment, trial_name: str, assignment: Mapping[str, str]) -> dict:
    """The manifest of trial ``trial_name`` for ``assignment`` ({parameter name: Katib string}).

    v1beta1 follows Katib's ``GetRunSpecWithHyperParameters`` step by step, with its error texts:
    a non-meta reference missing from the assignment, an unknown meta key, a missing label or
    annotation, or an assignment with parameters no trialParameter consumes, are errors. Values are
    inserted raw, with no escaping, so a value containing ``"`` breaks the JSON just as in Katib.
    Placeholders are replaced in trialParameters order (Katib's map order is random; it only
    matters when a value itself contains a placeholder).
    """
    tt = _template(experiment)
    if is_go_template(tt):
        return _render_v1alpha3(experiment, trial_name, assignment)
    file = experiment.source_file
    template = trial_template_string(experiment)
    spec = tt.trial_spec or {}
    values = {k: str(v) for k, v in assignment.items()}
    replacements: list[tuple[str, str]] = []
    non_meta = 0
    # Katib declares the index outside its loop, so a bare ${trialSpec.Labels} reuses the previous one.
    index = ""
    for i, tp in enumerate(tt.trial_parameters or ()):
        ref_path = f"{TRIAL_PARAMETERS}[{i}].reference"
        m = META_RE.search(tp.reference)
        if not m:
            if tp.reference not in values:
                raise TemplateError(
                    "unable to find non-meta parameter from TrialParameters in ParameterAssignment: "
                    f"parameter: {tp.reference}, parameter assignment: {go_value(values)}",
                    path=ref_path, file=file,
                )
            replacements.append((tp.name, values[tp.reference]))
            non_meta += 1
            continue
        key = m.group(1)
        sub = META_INDEX_RE.search(key)
        if sub:
            key, index = sub.group(1), sub.group(2)
        if key == "Name":
            value = trial_name
        elif key == "Namespace":
            value = experiment.namespace
        elif key == "Kind":
            value = meta_string(spec, "kind")
        elif key == "APIVersion":
            value = meta_string(spec, "apiVersion")
        elif key in ("Annotations", "Labels"):
            entries = _meta_map(spec, key.lower())
            if index not in entries:
                what = "Annotation" if key == "Annotations" else "Label"
                raise TemplateError(
                    f"illegal reference of trial metadata: {tp.reference}; failed to fetch {what}: {index}",
                    path=ref_path, file=file,
                )
            value = entries[index]
        else:
            raise TemplateError(f"illegal reference of trial metadata: {tp.reference}", path=ref_path, file=file)
        replacements.append((tp.name, value))
    if len(values) != non_meta:
        raise TemplateError(
            "unable to find parameter from ParameterAssignment in TrialParameters: "
            f"parameter assignments: {_go_assignments(values)}, non-meta trial parameter count: {non_meta}",
            path=TRIAL_PARAMETERS, file=file,
        )
    for name, value in replacements:
        template = template.replace(PLACEHOLDER.format(name), value)
    try:
        manifest = unstructured(template)
    except ValueError as exc:
        raise TemplateError(
            f"failed to convert string to unstructured: {exc}", path=f"{TRIAL_TEMPLATE}.trialSpec", file=file
        ) from None
    _set_meta(manifest, "name", trial_name)
    _set_meta(manifest, "namespace", experiment.namespace)
    return manifest


def _set_meta(obj: dict, key: str, value: str) -> None:
    """Unstructured ``SetName``/``SetNamespace``: an empty value removes the field; a non-object
    ``metadata`` is left alone (Go ignores that error)."""
    meta = obj.setdefault("metadata", {}) if value else obj.get("metadata")
    if not isinstance(meta, dict):
        return
    if value:
        meta[key] = value
    else:
        meta.pop(key, None)


# -- primary container --------------------------------------------------------------------------------


def _pod_templates(manifest: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """(where, pod template) pairs of a manifest, the primary (master) pod's template first.

    Job: ``spec.template``. TFJob: replica specs Chief, Master, then Worker (the training operator
    labels worker 0 as master when there is no chief/master), then the rest. PyTorchJob: Master,
    then Worker. Other kinds: every ``template`` holding ``spec.containers``, in document order.
    """
    kind = manifest.get("kind")
    spec = manifest.get("spec") if isinstance(manifest.get("spec"), Mapping) else {}
    if kind == "Job":
        tmpl = spec.get("template")
        return [("spec.template", tmpl)] if isinstance(tmpl, Mapping) else []
    if kind in REPLICA_SPECS:
        field_name, order = REPLICA_SPECS[kind]
        replicas = spec.get(field_name) if isinstance(spec.get(field_name), Mapping) else {}
        # Replica types are matched case-insensitively, as the operators do.
        rank = {r.lower(): i for i, r in enumerate(order)}
        keys = sorted(replicas, key=lambda k: rank.get(str(k).lower(), len(order)))
        out = []
        for k in keys:
            rs = replicas[k]
            tmpl = rs.get("template") if isinstance(rs, Mapping) else None
            if isinstance(tmpl, Mapping):
                out.append((f"spec.{field_name}.{k}.template", tmpl))
        return out
    found: list[tuple[str, Mapping[str, Any]]] = []

    def walk(obj: Any, at: str) -> None:
        if isinstance(obj, Mapping):
            for k, v in obj.items():
                here = f"{at}.{k}" if at else str(k)
                if k == "template" and isinstance(v, Mapping) and isinstance(v.get("spec"), Mapping) and isinstance(v["spec"].get("containers"), list):
                    found.append((here, v))
                walk(v, here)
        elif isinstance(obj, list):
            for i, v in enumerate(obj):
                walk(v, f"{at}[{i}]")

    walk(spec, "spec")
    return found


def primary_container(manifest: Mapping[str, Any], experiment: Experiment) -> dict:
    """The container whose metrics Katib collects, from a rendered trial manifest.

    Rules: with ``trialTemplate.primaryContainerName`` set, the first container of that name in
    the pod templates, searched primary pod first (see ``_pod_templates``). Without it (v1alpha3
    experiments), Katib v1alpha3's defaults: Job → the first container of the pod template;
    TFJob → the container named ``tensorflow``, PyTorchJob → ``pytorch``, in the master pod's
    template (Chief/Master, else Worker). Any other kind needs primaryContainerName. Raises
    TemplateError when no container matches.
    """
    tt = experiment.spec.trial_template
    name = tt.primary_container_name if tt is not None else None
    kind = manifest.get("kind")
    templates = _pod_templates(manifest)
    file = experiment.source_file
    path = f"{TRIAL_TEMPLATE}.primaryContainerName"

    def containers_of(tmpl: Mapping[str, Any]) -> list:
        pod = tmpl.get("spec")
        cs = pod.get("containers") if isinstance(pod, Mapping) else None
        return [c for c in cs if isinstance(c, Mapping)] if isinstance(cs, list) else []

    if not name:
        if kind == "Job":
            for _, tmpl in templates:
                cs = containers_of(tmpl)
                if cs:
                    return cs[0]
            raise TemplateError("the Job's pod template has no containers", path=TRIAL_TEMPLATE, file=file)
        if kind not in DEFAULT_CONTAINER:
            raise TemplateError(f"must be specified for a trial of kind {kind}", path=path, file=file)
        name = DEFAULT_CONTAINER[kind]
    for _, tmpl in templates:
        for c in containers_of(tmpl):
            if c.get("name") == name:
                return c
    raise TemplateError(f"no container named {name!r} in the {kind} trial's pod templates", path=path, file=file)
