"""Properties: reading and validating never fail with anything but KatibsimError; conversions are stable.

Each property runs in the default suite with the "default" hypothesis profile and again, marked
slow, under ``make test-slow`` (``HYPOTHESIS_PROFILE=slow``: many more examples).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from experiment_docs import V1ALPHA3_DOC, V1BETA1_DOC
from katibsim.errors import KatibsimError
from katibsim.spec.defaults import apply_defaults
from katibsim.spec.loader import experiment_from_dict, load_text, parse_experiment
from katibsim.spec.serialize import _to_v1beta1, experiment_to_dict, to_yaml
from katibsim.spec.validation import validate

RUNS = [pytest.param("default", id="default"), pytest.param("slow", id="slow", marks=pytest.mark.slow)]

# Every field name Katib knows, so that random documents reach deep into the reader.
KEYS = [
    "apiVersion", "kind", "metadata", "name", "namespace", "spec", "parameters", "parameterType", "feasibleSpace",
    "min", "max", "list", "step", "distribution", "objective", "type", "goal", "objectiveMetricName",
    "additionalMetricNames", "metricStrategies", "value", "algorithm", "algorithmName", "algorithmSettings",
    "earlyStopping", "earlyStoppingAlgorithmName", "earlyStoppingSettings", "trialTemplate", "retain", "trialSpec",
    "configMap", "configMapName", "configMapNamespace", "templatePath", "trialParameters", "reference",
    "primaryPodLabels", "primaryContainerName", "successCondition", "failureCondition", "goTemplate", "rawTemplate",
    "templateSpec", "parallelTrialCount", "maxTrialCount", "maxFailedTrialCount", "metricsCollectorSpec", "source",
    "collector", "fileSystemPath", "format", "filter", "metricsFormat", "httpGet", "port", "path", "customCollector",
    "nasConfig", "resumePolicy",
]
VALUES = [
    "Experiment", "kubeflow.org/v1beta1", "kubeflow.org/v1alpha3", "double", "int", "categorical", "discrete",
    "minimize", "maximize", "File", "Directory", "StdOut", "TensorFlowEvent", "PrometheusMetric", "Custom", "None",
    "Push", "TEXT", "JSON", "Job", "TFJob", "LongRunning", "Never", "0.1", "-1", "1e3", "abc", "/var/log", "(a)(b)",
    "(?=x)", "${trialParameters.x}", "{{.Trial}}", "{{- range .}}",
]

scalars = (
    st.none() | st.booleans() | st.integers(min_value=-(2**40), max_value=2**40)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12) | st.sampled_from(VALUES)
)
keys = st.sampled_from(KEYS) | st.text(max_size=6)
json_like = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=5),
    max_leaves=25,
)
experiment_like = st.fixed_dictionaries(
    {
        "apiVersion": st.sampled_from(["kubeflow.org/v1beta1", "kubeflow.org/v1alpha3"]),
        "kind": st.just("Experiment"),
    },
    optional={"metadata": json_like, "spec": st.dictionaries(st.sampled_from(KEYS), json_like, max_size=8)},
)


def _paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out.extend(_paths(v, prefix + (k,)))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out.extend(_paths(v, prefix + (i,)))
    return out


@st.composite
def mutated(draw, base_docs=(V1BETA1_DOC, V1ALPHA3_DOC)):
    """A valid document with a few subtrees replaced by arbitrary data or removed."""
    doc = copy.deepcopy(draw(st.sampled_from(base_docs)))
    for _ in range(draw(st.integers(1, 4))):
        candidates = [p for p in _paths(doc) if len(p) >= 2]
        if not candidates:
            break
        path = draw(st.sampled_from(candidates))
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_like)
    return doc


def _exercise(doc: Any) -> None:
    """Everything a user can do with one document; only KatibsimError may escape."""
    try:
        exp, _ = parse_experiment(doc, file="fuzz.yaml")
        if exp is None:
            return
        defaulted = apply_defaults(exp)
        assert apply_defaults(defaulted) == defaulted
        for problem in validate(exp):
            assert problem.severity in ("error", "warning")
            assert problem.render()
            problem.to_dict()
        to_yaml([experiment_to_dict(defaulted)])
        try:
            experiment_from_dict(doc)
        except KatibsimError:
            pass
    except KatibsimError:
        pass


@pytest.mark.parametrize("run", RUNS)
@given(doc=json_like | experiment_like)
def test_arbitrary_documents_only_raise_katibsim_errors(run, doc):
    _exercise(doc)


@pytest.mark.parametrize("run", RUNS)
@given(doc=mutated())
def test_mutated_experiments_only_raise_katibsim_errors(run, doc):
    _exercise(doc)


@pytest.mark.parametrize("run", RUNS)
@given(text=st.text(max_size=300) | json_like.map(lambda v: yaml.safe_dump(v)) | mutated().map(yaml.safe_dump))
def test_arbitrary_text_only_raises_katibsim_errors(run, text):
    try:
        result = load_text(text, file="fuzz.yaml")
    except KatibsimError:
        return
    for doc in result.documents:
        if doc.experiment is not None:
            validate(doc.experiment)


# -- v1alpha3 -> internal -> v1beta1 YAML -> internal is stable -----------------------------------------
numbers = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).map(str) | st.integers(-1000, 1000).map(str)


@st.composite
def v1alpha3_docs(draw):
    params = []
    for i in range(draw(st.integers(1, 4))):
        ptype = draw(st.sampled_from(["double", "int", "categorical", "discrete"]))
        if ptype in ("double", "int"):
            space = {"min": draw(numbers), "max": draw(numbers)}
            if draw(st.booleans()):
                space["step"] = draw(numbers)
        else:
            space = {"list": draw(st.lists(numbers | st.text(min_size=1, max_size=5), min_size=1, max_size=4))}
        params.append({"name": f"--p{i}", "parameterType": ptype, "feasibleSpace": space})
    spec: dict[str, Any] = {
        "parameters": params,
        "objective": {
            "type": draw(st.sampled_from(["minimize", "maximize"])),
            "objectiveMetricName": "loss",
            "additionalMetricNames": draw(st.lists(st.sampled_from(["acc", "f1"]), max_size=2, unique=True)),
        },
        "algorithm": {
            "algorithmName": draw(st.sampled_from(["random", "grid", "bayesianoptimization"])),
            "algorithmSettings": [{"name": "random_state", "value": str(draw(st.integers(0, 99)))}],
        },
        "trialTemplate": copy.deepcopy(V1ALPHA3_DOC["spec"]["trialTemplate"]),
    }
    if draw(st.booleans()):
        spec["algorithm"]["earlyStopping"] = {"earlyStoppingAlgorithmName": "medianstop"}
    for key in ("parallelTrialCount", "maxTrialCount", "maxFailedTrialCount"):
        if draw(st.booleans()):
            spec[key] = draw(st.integers(0, 50))
    if draw(st.booleans()):
        spec["objective"]["goal"] = draw(st.floats(-10, 10))
    kind = draw(st.sampled_from(["StdOut", "File", "TensorFlowEvent", "None", "PrometheusMetric", None]))
    if kind is not None:
        spec["metricsCollectorSpec"] = {"collector": {"kind": kind}}
    if draw(st.booleans()):
        spec["resumePolicy"] = draw(st.sampled_from(["Never", "LongRunning"]))
    if draw(st.booleans()):
        spec["trialTemplate"] = {"goTemplate": {"templateSpec": {"configMapName": "c", "configMapNamespace": "n", "templatePath": "p"}}}
    return {"apiVersion": "kubeflow.org/v1alpha3", "kind": "Experiment", "metadata": {"name": "x", "namespace": "ns"}, "spec": spec}


@pytest.mark.parametrize("run", RUNS)
@given(doc=v1alpha3_docs())
def test_v1alpha3_to_v1beta1_round_trip_is_stable(run, doc):
    original = experiment_from_dict(doc, file="a.yaml")
    first_yaml = to_yaml([experiment_to_dict(original, "kubeflow.org/v1beta1")])
    (converted,) = load_text(first_yaml, file="a.yaml").experiments
    assert converted.source_api_version == "kubeflow.org/v1beta1"
    assert to_yaml([experiment_to_dict(converted)]) == first_yaml
    # the internal model is the converted one exactly (v1beta1 defaults added, None renamed Push)
    assert converted == _to_v1beta1(original)
    # and it still means the same search
    assert [p.name for p in converted.spec.parameters] == [p.name for p in original.spec.parameters]
    assert converted.spec.trial_template.go_template == original.spec.trial_template.go_template
    assert converted.spec.resume_policy == original.spec.resume_policy


@pytest.mark.parametrize("run", RUNS)
@given(doc=v1alpha3_docs())
def test_v1alpha3_shape_round_trip_is_identity(run, doc):
    exp = experiment_from_dict(doc, file="a.yaml")
    again, found = parse_experiment(experiment_to_dict(exp), file="a.yaml")
    assert [f for f in found if f.severity == "error"] == []
    assert apply_defaults(again) == exp
