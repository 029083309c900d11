"""Trial templates: rendering (v1beta1 placeholders, v1alpha3 Go templates), Katib's webhook
template rules, and the primary container. Experiments are built directly from the model."""

from __future__ import annotations

import copy
import hashlib
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from katibsim.errors import KatibsimError, SpecError
from katibsim.spec.model import (
    V1ALPHA3,
    Experiment,
    ExperimentSpec,
    FeasibleSpace,
    ParameterSpec,
    TrialParameterSpec,
    TrialTemplate,
)
from katibsim.spec.templates import (
    TemplateError,
    go_json,
    is_meta_reference,
    primary_container,
    render_trial,
)
from katibsim.spec.template_checks import template_problems

ROOT = Path(__file__).resolve().parents[2]
SUCCESS = 'status.conditions.#(type=="Complete")#|#(status=="True")#'
FAILURE = 'status.conditions.#(type=="Failed")#|#(status=="True")#'

LR = ParameterSpec("lr", "double", FeasibleSpace(min="0.01", max="0.05", distribution="uniform"))
MOMENTUM = ParameterSpec("momentum", "double", FeasibleSpace(min="0.5", max="0.9", distribution="uniform"))


def job_spec(*args: str, **extra) -> dict:
    spec = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": "training-container", "image": "trainer:1", "command": ["python3", "/opt/train.py", *args]}
                    ],
                    "restartPolicy": "Never",
                }
            }
        },
    }
    spec.update(extra)
    return spec


def experiment(
    trial_spec=None,
    trial_parameters=(TrialParameterSpec("learningRate", "lr"), TrialParameterSpec("momentum", "momentum")),
    parameters=(LR, MOMENTUM),
    **template_fields,
) -> Experiment:
    if trial_spec is None:
        trial_spec = job_spec("--lr=${trialParameters.learningRate}", "--momentum=${trialParameters.momentum}")
    fields = dict(
        trial_spec=trial_spec,
        trial_parameters=trial_parameters,
        primary_container_name="training-container",
        success_condition=SUCCESS,
        failure_condition=FAILURE,
    )
    fields.update(template_fields)
    return Experiment(
        name="random-exp",
        namespace="kubeflow",
        spec=ExperimentSpec(parameters=tuple(parameters), trial_template=TrialTemplate(**fields)),
        source_file="random-exp.yaml",
    )


def go_experiment(raw: str, parameters=(LR, MOMENTUM), name="tfjob-bayesian") -> Experiment:
    return Experiment(
        name=name,
        namespace="kubeflow",
        spec=ExperimentSpec(parameters=tuple(parameters), trial_template=TrialTemplate(retain=True, go_template=raw)),
        api_version="kubeflow.org/v1beta1",
        source_api_version=V1ALPHA3,
        source_file="go.yaml",
    )


def messages(problems) -> list[str]:
    return [p.message for p in problems]


# -- v1beta1 rendering -------------------------------------------------------------------------------


def test_v1beta1_render_substitutes_and_names_the_trial():
    exp = experiment()
    before = copy.deepcopy(exp.spec.trial_template.trial_spec)
    m = render_trial(exp, "random-exp-abc123", {"lr": "0.0123", "momentum": "0.7"})
    assert m["metadata"] == {"name": "random-exp-abc123", "namespace": "kubeflow"}
    assert m["spec"]["template"]["spec"]["containers"][0]["command"] == ["python3", "/opt/train.py", "--lr=0.0123", "--momentum=0.7"]
    assert exp.spec.trial_template.trial_spec == before  # the experiment is not mutated


def test_v1beta1_plain_string_replacement_everywhere_and_values_stay_strings():
    spec = job_spec("--lr=${trialParameters.learningRate}", "lr again ${trialParameters.learningRate}!")
    spec["spec"]["parallelism"] = "${trialParameters.momentum}"
    exp = experiment(trial_spec=spec)
    m = render_trial(exp, "t", {"lr": "1e-3", "momentum": "2"})
    cmd = m["spec"]["template"]["spec"]["containers"][0]["command"]
    assert cmd[2:] == ["--lr=1e-3", "lr again 1e-3!"]
    assert m["spec"]["parallelism"] == "2"  # inserted into a JSON string, so still a string


def test_v1beta1_meta_references():
    spec = job_spec("--lr=${trialParameters.lr}")
    spec["metadata"] = {"labels": {"team": "vision"}, "annotations": {"owner": "ana"}}
    spec["spec"]["template"]["spec"]["containers"][0]["env"] = [
        {"name": n, "value": "${trialParameters.%s}" % n} for n in ("tn", "tns", "tk", "tav", "tl", "ta")
    ]
    tps = (
        TrialParameterSpec("lr", "lr"),
        TrialParameterSpec("tn", "${trialSpec.Name}"),
        TrialParameterSpec("tns", "${trialSpec.Namespace}"),
        TrialParameterSpec("tk", "${trialSpec.Kind}"),
        TrialParameterSpec("tav", "${trialSpec.APIVersion}"),
        TrialParameterSpec("tl", "${trialSpec.Labels[team]}"),
        TrialParameterSpec("ta", "${trialSpec.Annotations[owner]}"),
    )
    exp = experiment(trial_spec=spec, trial_parameters=tps, parameters=(LR,))
    m = render_trial(exp, "random-exp-xyz", {"lr": "0.02"})
    env = {e["name"]: e["value"] for e in m["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env == {"tn": "random-exp-xyz", "tns": "kubeflow", "tk": "Job", "tav": "batch/v1", "tl": "vision", "ta": "ana"}
    assert m["metadata"]["labels"] == {"team": "vision"}
    assert template_problems(exp) == []


@pytest.mark.parametrize(
    "reference,message",
    [
        ("${trialSpec.Labels[nope]}", "illegal reference of trial metadata: ${trialSpec.Labels[nope]}; failed to fetch Label: nope"),
        ("${trialSpec.Annotations[x]}", "illegal reference of trial metadata: ${trialSpec.Annotations[x]}; failed to fetch Annotation: x"),
        ("${trialSpec.Uid}", "illegal reference of trial metadata: ${trialSpec.Uid}"),
    ],
)
def test_v1beta1_bad_meta_reference(reference, message):
    spec = job_spec("--lr=${trialParameters.lr}", "${trialParameters.meta}")
    exp = experiment(trial_spec=spec, trial_parameters=(TrialParameterSpec("lr", "lr"), TrialParameterSpec("meta", reference)), parameters=(LR,))
    with pytest.raises(TemplateError) as info:
        render_trial(exp, "t", {"lr": "0.02"})
    assert info.value.errors[0].message == message
    assert info.value.errors[0].path == "spec.trialTemplate.trialParameters[1].reference"


def test_v1beta1_missing_assignment():
    with pytest.raises(TemplateError) as info:
        render_trial(experiment(), "t", {"lr": "0.02"})
    err = info.value.errors[0]
    assert err.message == (
        "unable to find non-meta parameter from TrialParameters in ParameterAssignment: "
        "parameter: momentum, parameter assignment: map[lr:0.02]"
    )
    assert err.path == "spec.trialTemplate.trialParameters[1].reference"
    assert err.file == "random-exp.yaml"


def test_v1beta1_assignment_nobody_consumes():
    with pytest.raises(TemplateError) as info:
        render_trial(experiment(), "t", {"lr": "0.02", "momentum": "0.6", "extra": "1"})
    assert info.value.errors[0].message.startswith("unable to find parameter from ParameterAssignment in TrialParameters")
    assert "non-meta trial parameter count: 2" in info.value.errors[0].message


def test_v1beta1_values_are_inserted_raw():
    with pytest.raises(TemplateError, match="failed to convert string to unstructured"):
        render_trial(experiment(), "t", {"lr": 'a"b', "momentum": "0.6"})


def test_v1beta1_config_map_needs_a_cluster():
    exp = experiment(trial_spec=None)
    exp = replace(exp, spec=replace(exp.spec, trial_template=replace(
        exp.spec.trial_template, trial_spec=None,
        config_map={"configMapName": "trial-templates", "configMapNamespace": "kubeflow", "templatePath": "defaultTrialTemplate.yaml"},
    )))
    with pytest.raises(TemplateError) as info:
        render_trial(exp, "t", {"lr": "0.02", "momentum": "0.6"})
    assert info.value.errors[0].path == "spec.trialTemplate.configMap"
    problems = template_problems(exp)
    assert [p.severity for p in problems] == ["warning"]


def test_go_json_is_sorted_compact_and_html_escaped():
    assert go_json({"b": 1, "a": ["<x>", "&"], 3: True}) == '{"3":true,"a":["\\u003cx\\u003e","\\u0026"],"b":1}'
    with pytest.raises(ValueError):
        go_json({"x": float("nan")})


def test_is_meta_reference():
    assert is_meta_reference("${trialSpec.Name}")
    assert is_meta_reference("${trialSpec.Labels[a/b]}")
    assert is_meta_reference("prefix-${trialSpec.Kind}")  # Katib's regex is not anchored
    assert not is_meta_reference("${trialSpec.Uid}")
    assert not is_meta_reference("lr")


# -- v1alpha3 rendering ------------------------------------------------------------------------------


def _seed_experiment() -> Experiment:
    """The seed example, read from examples/ without the loader: only its Go template and parameters."""
    doc = yaml.safe_load((ROOT / "examples" / "tfjob-bayesian.yaml").read_text())
    params = tuple(
        ParameterSpec(p["name"], p["parameterType"], FeasibleSpace(min=p["feasibleSpace"]["min"], max=p["feasibleSpace"]["max"]))
        for p in doc["spec"]["parameters"]
    )
    return Experiment(
        name=doc["metadata"]["name"],
        namespace=doc["metadata"]["namespace"],
        spec=ExperimentSpec(parameters=params, trial_template=TrialTemplate(retain=True, go_template=doc["spec"]["trialTemplate"]["goTemplate"]["rawTemplate"])),
        source_api_version=V1ALPHA3,
    )


# SHA-256 of the seed experiment as it was handed to the project; the example is kept unchanged.
SEED_SHA256 = "0995fae8aee1fd7768af257279f706029c278fe0aba4eae0a1cc25eb00515f25"


def test_seed_example_is_the_seed_byte_for_byte():
    example = (ROOT / "examples" / "tfjob-bayesian.yaml").read_bytes()
    assert hashlib.sha256(example).hexdigest() == SEED_SHA256
    assert (ROOT / "tests" / "fixtures" / "tfjob-bayesian.yaml").read_bytes() == example  # the tests' copy too


def test_acceptance_seed_renders_the_tfjob():
    exp = _seed_experiment()
    # Assignment order deliberately reversed: .HyperParameters follows spec.parameters.
    m = render_trial(exp, "tfjob-bayesian-jtj6kc7w", {"--batch_size": "159", "--learning_rate": "0.011057901678989632"})
    assert m["kind"] == "TFJob" and m["apiVersion"] == "kubeflow.org/v1"
    assert m["metadata"]["name"] == "tfjob-bayesian-jtj6kc7w"
    assert m["metadata"]["namespace"] == "kubeflow"
    container = primary_container(m, exp)
    assert container["name"] == "tensorflow"
    assert container["command"] == [
        "python",
        "/var/tf_mnist/mnist_with_summaries.py",
        "--log_dir=/train/metrics",
        "--learning_rate=0.011057901678989632",
        "--batch_size=159",
    ]
    assert template_problems(exp) == []


def test_v1alpha3_template_error_has_the_field_path():
    exp = go_experiment("kind: Job\nmetadata:\n  name: {{if .Trial}}x{{end}}\n")
    with pytest.raises(TemplateError) as info:
        render_trial(exp, "t", {})
    assert info.value.errors[0].path == "spec.trialTemplate.goTemplate.rawTemplate"
    assert info.value.errors[0].file == "go.yaml"
    assert isinstance(info.value, SpecError) and isinstance(info.value, KatibsimError)


def test_v1alpha3_rendered_text_must_be_an_object():
    with pytest.raises(TemplateError, match="not a Kubernetes object"):
        render_trial(go_experiment("just: [unclosed\n"), "t", {})
    with pytest.raises(TemplateError, match="Kind"):
        render_trial(go_experiment("apiVersion: v1\nmetadata: {}\n"), "t", {})


def test_v1alpha3_experiment_data():
    exp = go_experiment("apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {{.Trial}}\n  namespace: {{.NameSpace}}\n  labels: {exp: {{.Experiment}}}\n")
    m = render_trial(exp, "tfjob-bayesian-1", {})
    assert m["metadata"] == {"name": "tfjob-bayesian-1", "namespace": "kubeflow", "labels": {"exp": "tfjob-bayesian"}}


# -- v1beta1 webhook rules ---------------------------------------------------------------------------


def test_valid_v1beta1_has_no_problems():
    assert template_problems(experiment()) == []


def test_missing_template():
    exp = replace(experiment(), spec=replace(experiment().spec, trial_template=None))
    [p] = template_problems(exp)
    assert (p.path, p.message, p.kind) == ("spec.trialTemplate", "must be specified", "required")


def test_primary_container_and_conditions_required():
    problems = template_problems(experiment(primary_container_name=None, success_condition=""))
    assert [(p.path, p.message, p.kind) for p in problems] == [
        ("spec.trialTemplate.primaryContainerName", "must be specified", "required"),
        ("spec.trialTemplate", "successCondition and failureCondition must be specified", "required"),
    ]


def test_trial_parameters_required_returns_early():
    problems = template_problems(experiment(trial_parameters=None, primary_container_name=None))
    assert [(p.path, p.message) for p in problems] == [
        ("spec.trialTemplate.primaryContainerName", "must be specified"),
        ("spec.trialTemplate.trialParameters", "must be specified"),
    ]


def test_empty_trial_parameters_list_is_allowed_by_katib():
    exp = experiment(trial_spec=job_spec(), trial_parameters=(), parameters=())
    assert template_problems(exp) == []


def test_sources():
    assert messages(template_problems(_no_source())) == [
        "spec.trialTemplate.trialSpec or spec.trialTemplate.configMap must be specified"
    ]
    both = experiment(config_map={"configMapName": "a", "configMapNamespace": "b", "templatePath": "c"})
    assert messages(template_problems(both)) == [
        "only one of spec.trialTemplate.trialSpec or spec.trialTemplate.configMap can be specified"
    ]
    incomplete = replace(both, spec=replace(both.spec, trial_template=replace(both.spec.trial_template, trial_spec=None, config_map={"configMapName": "a"})))
    [p] = template_problems(incomplete)
    assert p.message == "configMapName, configMapNamespace and templatePath must be specified"
    assert p.path == "spec.trialTemplate.configMap"


def _no_source() -> Experiment:
    exp = experiment()
    return replace(exp, spec=replace(exp.spec, trial_template=replace(exp.spec.trial_template, trial_spec=None)))


def test_trial_parameter_name_and_reference_rules():
    spec = job_spec("--lr=${trialParameters.learningRate}", "--momentum=${trialParameters.momentum}")
    tps = (
        TrialParameterSpec("learningRate", "lr"),
        TrialParameterSpec("bad{name}", "momentum"),
        TrialParameterSpec("learningRate", "momentum"),
        TrialParameterSpec("momentum", "lr"),
        TrialParameterSpec("", "x"),
    )
    problems = template_problems(experiment(trial_spec=spec, trial_parameters=tps))
    got = [(p.path, p.message.split(":")[0]) for p in problems]
    assert got == [
        ("spec.trialTemplate.trialParameters[1]", "name and reference must be specified and name must not contain '{' or '}'"),
        ("spec.trialTemplate.trialParameters[2].name", "parameter name learningRate can't be duplicated in spec.trialTemplate.trialParameters"),
        ("spec.trialTemplate.trialParameters[3].reference", "parameter reference lr can't be duplicated in spec.trialTemplate.trialParameters"),
        ("spec.trialTemplate.trialParameters[4]", "name and reference must be specified and name must not contain '{' or '}'"),
        # No valid trialParameter named momentum is left, so its placeholder stays unreplaced.
        ("spec.trialTemplate", "parameters"),
    ]
    assert problems[1].message.endswith("[{learningRate  lr} {bad{name}  momentum} {learningRate  momentum} {momentum  lr} {  x}]")


def test_reference_to_unknown_search_parameter():
    tps = (TrialParameterSpec("learningRate", "lr"), TrialParameterSpec("momentum", "mom"))
    problems = template_problems(experiment(trial_parameters=tps))
    assert problems[0].path == "spec.trialTemplate.trialParameters[1].reference"
    assert problems[0].message == (
        "parameter reference mom does not exist in spec.parameters: "
        "[{lr double {0.05 0.01 []  uniform}} {momentum double {0.9 0.5 []  uniform}}]"
    )
    # ... and momentum is then referenced by nobody ([derived] §7.1).
    assert "spec.parameters[1] momentum is not referenced by any trialParameter" in problems[1].message


def test_nas_experiments_skip_the_reference_check():
    spec = job_spec("--arch=${trialParameters.arch}")
    exp = experiment(trial_spec=spec, trial_parameters=(TrialParameterSpec("arch", "architecture"),), parameters=())
    assert template_problems(exp) == []


def test_template_referencing_an_unknown_trial_parameter():
    spec = job_spec("--lr=${trialParameters.learningRate}", "--momentum=${trialParameters.momentum}", "--wd=${trialParameters.weightDecay}")
    [p] = template_problems(experiment(trial_spec=spec))
    assert p.path == "spec.trialTemplate"
    assert p.message.startswith("parameters: [${trialParameters.weightDecay}] in spec.trialTemplate not found in spec.trialParameters: ")


def test_trial_parameter_missing_from_template_and_all_errors_reported():
    spec = job_spec("--lr=0.1")
    problems = template_problems(experiment(trial_spec=spec))
    assert [p.path for p in problems] == ["spec.trialTemplate.trialParameters[0].name", "spec.trialTemplate.trialParameters[1].name"]
    assert problems[0].message.startswith("parameter name: learningRate in spec.trialParameters not found in spec.trialTemplate: {")


def test_search_parameter_left_unreferenced():
    spec = job_spec("--lr=${trialParameters.learningRate}")
    exp = experiment(trial_spec=spec, trial_parameters=(TrialParameterSpec("learningRate", "lr"),))
    [p] = template_problems(exp)
    assert p.path == "spec.trialTemplate.trialParameters"
    assert p.value == "momentum"
    assert "spec.parameters[1] momentum is not referenced by any trialParameter" in p.message
    # Katib itself fails such a trial at render time with this message.
    with pytest.raises(TemplateError, match="unable to find parameter from ParameterAssignment in TrialParameters"):
        render_trial(exp, "t", {"lr": "0.02", "momentum": "0.6"})


def test_name_and_namespace_must_be_omitted():
    spec = job_spec("--lr=${trialParameters.learningRate}", "--momentum=${trialParameters.momentum}", metadata={"name": "fixed"})
    assert messages(template_problems(experiment(trial_spec=spec))) == [
        "metadata.name and metadata.namespace in spec.trialTemplate must be omitted"
    ]


def test_api_version_and_kind():
    spec = job_spec("--lr=${trialParameters.learningRate}", "--momentum=${trialParameters.momentum}")
    del spec["apiVersion"]
    [p] = template_problems(experiment(trial_spec=spec))
    assert (p.message, p.kind) == ("APIVersion and Kind in spec.trialTemplate must be specified", "required")
    # Without a kind, Kubernetes' unstructured decoding already fails.
    del spec["kind"]
    [p] = template_problems(experiment(trial_spec=spec))
    assert p.message.startswith("unable to convert spec.trialTemplate: {") and p.message.endswith("to unstructured")


def test_unknown_job_fields_are_refused():
    spec = job_spec("--lr=${trialParameters.learningRate}", "--momentum=${trialParameters.momentum}")
    c = spec["spec"]["template"]["spec"]["containers"][0]
    c["comand"] = ["x"]
    spec["spec"]["template"]["spec"]["restartPolicyy"] = "Never"
    problems = template_problems(experiment(trial_spec=spec))
    assert sorted(messages(problems)) == [
        "invalid spec.trialTemplate: unable to convert: /spec/template/spec/containers/0/comand - [x] to Job",
        "invalid spec.trialTemplate: unable to convert: /spec/template/spec/restartPolicyy - Never to Job",
    ]
    # Other kinds are not checked.
    tf = {"apiVersion": "kubeflow.org/v1", "kind": "TFJob", "spec": {"whatever": "${trialParameters.learningRate} ${trialParameters.momentum}"}}
    assert template_problems(experiment(trial_spec=tf)) == []


# -- v1alpha3 webhook rules --------------------------------------------------------------------------

GOOD_GO = (
    "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {{.Trial}}\n  namespace: {{.NameSpace}}\n"
    "spec:\n  template:\n    spec:\n      containers:\n        - name: main\n          image: x\n          args:\n"
    "            {{- range .HyperParameters}}\n            - \"{{.Name}}={{.Value}}\"\n            {{- end}}\n"
)


def test_v1alpha3_valid():
    assert template_problems(go_experiment(GOOD_GO)) == []


def test_v1alpha3_collects_every_error():
    raw = GOOD_GO.replace("batch/v1", "apps/v1").replace("{{.Trial}}", "fixed").replace("{{.NameSpace}}", "default")
    problems = template_problems(go_experiment(raw))
    assert messages(problems) == [
        "Invalid spec.trialTemplate: Job type apps/v1, Kind=Job not supported.",
        "Invalid spec.trialTemplate: metadata.namespace should be kubeflow or {{.NameSpace}}",
        "Invalid spec.trialTemplate: metadata.name should be {{.Trial}}",
    ]
    assert {p.path for p in problems} == {"spec.trialTemplate.goTemplate.rawTemplate"}


def test_v1alpha3_name_is_checked_with_trial_name_exp_trial():
    raw = GOOD_GO.replace("{{.Trial}}", "tfjob-bayesian-trial")
    assert template_problems(go_experiment(raw)) == []


def test_v1alpha3_template_and_decode_errors():
    [p] = template_problems(go_experiment("kind: {{.Nope}}"))
    assert p.message.startswith("Invalid spec.trialTemplate: line 1, column 7: executing {{.Nope}}: can't evaluate field Nope")
    [p] = template_problems(go_experiment("metadata: {}"))
    assert p.message.startswith("Invalid spec.trialTemplate: Object 'Kind' is missing")


def test_v1alpha3_supported_kinds():
    for api, kind in (("kubeflow.org/v1", "TFJob"), ("kubeflow.org/v1", "PyTorchJob"), ("batch/v1", "Job")):
        assert template_problems(go_experiment(GOOD_GO.replace("batch/v1", api).replace("kind: Job", f"kind: {kind}"))) == []
    [p] = template_problems(go_experiment(GOOD_GO.replace("batch/v1", "kubeflow.org/v1beta2").replace("kind: Job", "kind: TFJob")))
    assert p.message == "Invalid spec.trialTemplate: Job type kubeflow.org/v1beta2, Kind=TFJob not supported."


def test_v1alpha3_config_map_template_is_a_warning():
    exp = go_experiment("x")
    exp = replace(exp, spec=replace(exp.spec, trial_template=TrialTemplate(go_template_spec={"configMapName": "trial-template", "configMapNamespace": "kubeflow", "templatePath": "defaultTrialTemplate.yaml"})))
    [p] = template_problems(exp)
    assert p.severity == "warning" and p.path == "spec.trialTemplate.goTemplate.templateSpec"
    with pytest.raises(TemplateError):
        render_trial(exp, "t", {})


# -- primary container -------------------------------------------------------------------------------


def _tfjob(*replica_types: str) -> dict:
    return {
        "apiVersion": "kubeflow.org/v1",
        "kind": "TFJob",
        "spec": {
            "tfReplicaSpecs": {
                rt: {"replicas": 1, "template": {"spec": {"containers": [{"name": "sidecar"}, {"name": "tensorflow", "image": rt}]}}}
                for rt in replica_types
            }
        },
    }


def test_primary_container_job():
    exp = experiment()
    m = render_trial(exp, "t", {"lr": "0.01", "momentum": "0.5"})
    assert primary_container(m, exp)["name"] == "training-container"
    unnamed = experiment(primary_container_name=None)
    assert primary_container(m, unnamed)["name"] == "training-container"  # Job default: the first container
    other = experiment(primary_container_name="nope")
    with pytest.raises(TemplateError) as info:
        primary_container(m, other)
    assert info.value.errors[0].path == "spec.trialTemplate.primaryContainerName"


def test_primary_container_tfjob_prefers_chief_then_master_then_worker():
    exp = go_experiment("x")
    assert primary_container(_tfjob("Worker", "PS", "Chief"), exp)["image"] == "Chief"
    assert primary_container(_tfjob("Worker", "Master"), exp)["image"] == "Master"
    assert primary_container(_tfjob("PS", "Worker"), exp)["image"] == "Worker"


def test_primary_container_pytorchjob_and_named_container():
    manifest = {
        "apiVersion": "kubeflow.org/v1",
        "kind": "PyTorchJob",
        "spec": {"pytorchReplicaSpecs": {
            "Worker": {"template": {"spec": {"containers": [{"name": "pytorch", "image": "w"}]}}},
            "Master": {"template": {"spec": {"containers": [{"name": "pytorch", "image": "m"}, {"name": "trainer", "image": "t"}]}}},
        }},
    }
    assert primary_container(manifest, go_experiment("x"))["image"] == "m"
    assert primary_container(manifest, experiment(primary_container_name="trainer"))["image"] == "t"


def test_primary_container_other_kinds_need_a_name():
    manifest = {"apiVersion": "kubeflow.org/v1", "kind": "XGBoostJob", "spec": {"xgbReplicaSpecs": {"Master": {"template": {"spec": {"containers": [{"name": "xgboost"}]}}}}}}
    with pytest.raises(TemplateError, match="must be specified for a trial of kind XGBoostJob"):
        primary_container(manifest, go_experiment("x"))
    assert primary_container(manifest, experiment(primary_container_name="xgboost")) == {"name": "xgboost"}


# -- robustness ----------------------------------------------------------------------------------------

_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=12))
_json_like = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.text(max_size=8), st.integers()), inner, max_size=4),
    ),
    max_leaves=20,
)
_names = st.text(alphabet="abxy{}$.[]-", max_size=6)


@settings(max_examples=150, deadline=None)
@given(
    trial_spec=st.one_of(_json_like, st.fixed_dictionaries({"apiVersion": _scalars, "kind": _scalars, "metadata": _json_like, "spec": _json_like})),
    tps=st.lists(st.builds(TrialParameterSpec, _names, st.one_of(_names, st.sampled_from(["lr", "${trialSpec.Labels[a]}", "${trialSpec.Name}"]))), max_size=4),
    values=st.dictionaries(st.sampled_from(["lr", "momentum", "x"]), st.text(max_size=6), max_size=3),
)
def test_v1beta1_never_raises_foreign_errors(trial_spec, tps, values):
    exp = experiment(trial_spec=trial_spec, trial_parameters=tuple(tps))
    assert all(isinstance(p.message, str) for p in template_problems(exp))
    try:
        manifest = render_trial(exp, "t", values)
        primary_container(manifest, exp)
    except KatibsimError:
        pass


@settings(max_examples=150, deadline=None)
@given(raw=st.text(alphabet="{}-. \n:abkindTrl[]\"'", max_size=60))
def test_v1alpha3_never_raises_foreign_errors(raw):
    exp = go_experiment(raw)
    template_problems(exp)
    try:
        primary_container(render_trial(exp, "t", {"lr": "0.1"}), exp)
    except KatibsimError:
        pass


def test_a_long_template_is_not_printed_whole_and_the_message_names_what_it_refers_to():
    tasks = [
        {"name": f"step-{i}", "taskSpec": {"steps": [{"name": "run", "image": "python:3.11", "script": "echo " + "x" * 80}]}}
        for i in range(12)
    ]
    tasks[3]["params"] = [{"name": "lr", "value": "${trialParameters.learning_rate}"}]
    tasks[4]["params"] = [{"name": "m", "value": "${trialParameters.momentum}"}]
    spec = {"apiVersion": "tekton.dev/v1beta1", "kind": "PipelineRun", "spec": {"pipelineSpec": {"tasks": tasks}}}
    problems = template_problems(experiment(trial_spec=spec, success_condition="status.x", failure_condition="status.y"))
    lr = next(p for p in problems if p.path == "spec.trialTemplate.trialParameters[0].name")
    assert len(lr.message) < 500  # not the 2,324 characters of the template
    assert "<the template as JSON, " in lr.message and "characters; Katib's message prints all of it>" in lr.message
    assert ("the template has no ${trialParameters.learningRate}; it refers to ${trialParameters.learning_rate} at "
            "trialSpec.spec.pipelineSpec.tasks[3].params[0].value") in lr.message
