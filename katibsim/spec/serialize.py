"""The internal Experiment back as Katib's camelCase object, as ``kubectl get experiment -o yaml`` shows it.

``experiment_to_dict(exp)`` keeps the shape of the version the experiment came from (a v1alpha3
file shows as v1alpha3, with v1alpha3's defaults); ``api_version="kubeflow.org/v1beta1"`` gives
the converted object, defaulted the way a v1beta1 Katib would store it. Empty fields are left out
as Go's ``omitempty`` does; feasibleSpace numbers and setting values stay strings.

A converted v1alpha3 Go template has no v1beta1 field to live in: it is written as
``trialTemplate.goTemplate`` (a katibsim extension the loader reads back, with a warning), so
v1alpha3 -> internal -> v1beta1 YAML -> internal is stable. See docs/experiments.md.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any, Iterable

import yaml

from katibsim.errors import InputError
from katibsim.spec.model import (
    V1ALPHA3,
    V1BETA1,
    AlgorithmSpec,
    Experiment,
    MetricsCollectorSpec,
    ObjectiveSpec,
    ParameterSpec,
    TrialTemplate,
)

__all__ = ["experiment_to_dict", "experiment_to_yaml", "normalize_api_version", "to_yaml"]


def normalize_api_version(value: str | None) -> str | None:
    """``v1beta1`` / ``kubeflow.org/v1beta1`` -> ``kubeflow.org/v1beta1`` (InputError if unknown)."""
    if value is None:
        return None
    full = value if "/" in value else f"kubeflow.org/{value}"
    if full not in (V1BETA1, V1ALPHA3):
        raise InputError(f"unknown api version {value!r}: expected v1beta1 or v1alpha3")
    return full


def experiment_to_dict(exp: Experiment, api_version: str | None = None) -> dict[str, Any]:
    """Katib's object for ``exp``, in its source version's shape or converted to ``api_version``."""
    target = normalize_api_version(api_version) or exp.source_api_version
    if target == exp.source_api_version:
        shown = exp
    elif target == V1BETA1:
        shown = _to_v1beta1(exp)
    else:
        raise InputError(
            f"Experiment {exp.name} is {exp.source_api_version}; katibsim converts v1alpha3 to v1beta1, not back"
        )
    metadata = copy.deepcopy(dict(shown.metadata))
    metadata["name"] = shown.name
    metadata["namespace"] = shown.namespace
    spec = _spec_v1alpha3(shown) if target == V1ALPHA3 else _spec_v1beta1(shown)
    return {"apiVersion": target, "kind": "Experiment", "metadata": metadata, "spec": spec}


def experiment_to_yaml(exp: Experiment, api_version: str | None = None) -> str:
    return to_yaml([experiment_to_dict(exp, api_version)])


def to_yaml(objects: Iterable[dict[str, Any]]) -> str:
    """Objects as multi-document YAML, keys sorted like kubectl, multi-line strings as blocks."""
    return yaml.dump_all(list(objects), Dumper=_Dumper, sort_keys=True, default_flow_style=False, allow_unicode=True, width=120)


class _Dumper(yaml.SafeDumper):
    pass


_YAML_BREAKS = ("\x85", "\u2028", "\u2029", "\ufeff")


def _str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    # YAML reads NEL and the Unicode separators as line breaks unless they are escaped, which
    # only the double-quoted style does; without this, dump -> load would change the text.
    if any(c in data for c in _YAML_BREAKS):
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style='"')
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_Dumper.add_representer(str, _str)


# ------------------------------------------------------------------------------------------------
def _to_v1beta1(exp: Experiment) -> Experiment:
    """A converted v1alpha3 experiment as a v1beta1 Katib would store it (its defaults applied)."""
    from katibsim.spec.defaults import apply_defaults

    spec = exp.spec
    mc = spec.metrics_collector_spec
    if mc is not None and mc.kind == "None":  # renamed Push in v0.18
        spec = replace(spec, metrics_collector_spec=replace(mc, kind="Push"))
    return apply_defaults(replace(exp, spec=spec, source_api_version=V1BETA1))


def _obj(out: dict, key: str, value: dict | None) -> None:
    """A Go pointer to a struct: shown (even as ``{}``) whenever it is set."""
    if value is not None:
        out[key] = value


def _put(out: dict, key: str, value: Any) -> None:
    """Go's omitempty: None, "", empty lists and mappings are left out; False too."""
    if value is None or value == "" or value is False:
        return
    if isinstance(value, (list, dict, tuple)) and not value:
        return
    out[key] = value


def _parameters(params: Iterable[ParameterSpec], *, distribution: bool) -> list[dict]:
    out = []
    for p in params:
        fs = p.feasible_space
        space: dict[str, Any] = {}
        _put(space, "min", fs.min)
        _put(space, "max", fs.max)
        _put(space, "list", list(fs.list) if fs.list else None)
        _put(space, "step", fs.step)
        if distribution:
            _put(space, "distribution", fs.distribution)
        item: dict[str, Any] = {}
        _put(item, "name", p.name)
        _put(item, "parameterType", p.parameter_type)
        item["feasibleSpace"] = space
        out.append(item)
    return out


def _objective(obj: ObjectiveSpec | None, *, strategies: bool) -> dict | None:
    if obj is None:
        return None
    out: dict[str, Any] = {}
    _put(out, "type", obj.type)
    if obj.goal is not None:
        out["goal"] = obj.goal
    _put(out, "objectiveMetricName", obj.objective_metric_name)
    _put(out, "additionalMetricNames", list(obj.additional_metric_names))
    if strategies:
        _put(out, "metricStrategies", [{"name": s.name, "value": s.value} for s in obj.metric_strategies])
    return out


def _settings(spec: AlgorithmSpec) -> list[dict]:
    return [{"name": s.name, "value": s.value} for s in spec.algorithm_settings]


def _algorithm(a: AlgorithmSpec | None) -> dict | None:
    if a is None:
        return None
    out: dict[str, Any] = {}
    _put(out, "algorithmName", a.algorithm_name)
    _put(out, "algorithmSettings", _settings(a))
    return out


def _go_template(t: TrialTemplate) -> dict | None:
    if t.go_template is None and t.go_template_spec is None:
        return None
    out: dict[str, Any] = {}
    _put(out, "rawTemplate", t.go_template)
    if t.go_template_spec is not None:
        out["templateSpec"] = dict(t.go_template_spec)
    return out


def _trial_template_v1beta1(t: TrialTemplate | None) -> dict | None:
    if t is None:
        return None
    out: dict[str, Any] = {}
    _put(out, "retain", t.retain)
    if t.trial_spec is not None:
        out["trialSpec"] = copy.deepcopy(dict(t.trial_spec))
    if t.config_map is not None:
        out["configMap"] = dict(t.config_map)
    if t.trial_parameters is not None:
        # kept even when empty: Katib tells a nil list (an error) from an empty one (allowed)
        out["trialParameters"] = [
            {k: v for k, v in (("name", p.name), ("reference", p.reference), ("description", p.description)) if v}
            for p in t.trial_parameters
        ]
    _put(out, "primaryPodLabels", dict(t.primary_pod_labels or {}))
    _put(out, "primaryContainerName", t.primary_container_name)
    _put(out, "successCondition", t.success_condition)
    _put(out, "failureCondition", t.failure_condition)
    _put(out, "goTemplate", _go_template(t))
    return out


def _trial_template_v1alpha3(t: TrialTemplate | None) -> dict | None:
    if t is None:
        return None
    out: dict[str, Any] = {}
    _put(out, "retain", t.retain)
    _put(out, "goTemplate", _go_template(t))
    return out


def _collector(mc: MetricsCollectorSpec | None, *, file_format: bool) -> dict | None:
    if mc is None:
        return None
    source: dict[str, Any] = {}
    if mc.http_get is not None:
        source["httpGet"] = copy.deepcopy(dict(mc.http_get))
    if mc.file_system_path is not None:
        fsp: dict[str, Any] = {}
        _put(fsp, "path", mc.file_system_path.path)
        _put(fsp, "kind", mc.file_system_path.kind)
        if file_format:
            _put(fsp, "format", mc.file_system_path.format)
        source["fileSystemPath"] = fsp
    if mc.metrics_format is not None:
        source["filter"] = {"metricsFormat": list(mc.metrics_format)} if mc.metrics_format else {}
    collector: dict[str, Any] = {"kind": mc.kind}
    if mc.custom_collector is not None:
        collector["customCollector"] = copy.deepcopy(dict(mc.custom_collector))
    out: dict[str, Any] = {}
    _put(out, "source", source)
    out["collector"] = collector
    return out


def _common(exp: Experiment, spec: dict) -> dict:
    s = exp.spec
    for key, value in (
        ("parallelTrialCount", s.parallel_trial_count),
        ("maxTrialCount", s.max_trial_count),
        ("maxFailedTrialCount", s.max_failed_trial_count),
    ):
        if value is not None:  # pointers in Go: 0 is shown, nil is not
            spec[key] = value
    _put(spec, "resumePolicy", s.resume_policy)
    if s.nas_config is not None:
        spec["nasConfig"] = copy.deepcopy(dict(s.nas_config))
    return spec


def _spec_v1beta1(exp: Experiment) -> dict:
    s = exp.spec
    spec: dict[str, Any] = {}
    _put(spec, "parameters", _parameters(s.parameters, distribution=True))
    _obj(spec, "objective", _objective(s.objective, strategies=True))
    _obj(spec, "algorithm", _algorithm(s.algorithm))
    _obj(spec, "earlyStopping", _algorithm(s.early_stopping))
    _obj(spec, "trialTemplate", _trial_template_v1beta1(s.trial_template))
    _obj(spec, "metricsCollectorSpec", _collector(s.metrics_collector_spec, file_format=True))
    return _common(exp, spec)


def _spec_v1alpha3(exp: Experiment) -> dict:
    s = exp.spec
    spec: dict[str, Any] = {}
    _put(spec, "parameters", _parameters(s.parameters, distribution=False))
    _obj(spec, "objective", _objective(s.objective, strategies=False))
    algorithm = _algorithm(s.algorithm)
    if s.early_stopping is not None:
        algorithm = dict(algorithm or {})
        early: dict[str, Any] = {}
        _put(early, "earlyStoppingAlgorithmName", s.early_stopping.algorithm_name)
        _put(early, "earlyStoppingSettings", _settings(s.early_stopping))
        algorithm["earlyStopping"] = early
    _obj(spec, "algorithm", algorithm)
    _obj(spec, "trialTemplate", _trial_template_v1alpha3(s.trial_template))
    _obj(spec, "metricsCollectorSpec", _collector(s.metrics_collector_spec, file_format=False))
    return _common(exp, spec)
