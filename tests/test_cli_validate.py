"""`katibsim validate` and `katibsim show`: verdicts, every error with its path, exit codes, no traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from katibsim.cli import main
from katibsim.errors import FieldError

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SEED = FIXTURES / "tfjob-bayesian.yaml"

VALID = """
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: random-job, namespace: kubeflow}
spec:
  objective: {type: minimize, objectiveMetricName: loss}
  algorithm: {algorithmName: random}
  maxTrialCount: 4
  parameters:
    - {name: lr, parameterType: double, feasibleSpace: {min: "0.01", max: "0.1"}}
  trialTemplate:
    primaryContainerName: training
    trialParameters: [{name: learningRate, reference: lr}]
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        template:
          spec:
            containers:
              - {name: training, image: busybox, command: [echo, "${trialParameters.learningRate}"]}
            restartPolicy: Never
"""

# Several problems of different kinds: a reading error, Katib rules, katibsim additions.
BROKEN = """
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: Broken, namespace: kubeflow}
spec:
  parallelTrialCount: 0
  maxTrialCount: 4
  maxFailedTrialCount: "1"
  objective: {type: maximise, objectiveMetricName: loss}
  algorithm: {algorithmName: random}
  resumePolicy: Sometimes
  parameters:
    - {name: lr, parameterType: double, feasibleSpace: {min: "0.5", max: "0.1"}}
    - {name: n, parameterType: int, feasibleSpace: {min: 1, max: "x"}}
  metricsCollectorSpec:
    collector: {kind: File}
    source: {fileSystemPath: {path: relative.log}}
  trialTemplate:
    primaryContainerName: training
    trialParameters: [{name: learningRate, reference: lr}, {name: n, reference: n}]
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        template:
          spec:
            containers:
              - {name: training, image: busybox, command: [echo, "${trialParameters.learningRate}", "${trialParameters.n}"]}
            restartPolicy: Never
"""
BROKEN_PATHS = [  # reading problems first, then Katib's order, then katibsim's additions
    "spec.parameters[1].feasibleSpace.min",
    "spec.maxFailedTrialCount",
    "metadata.name",
    "spec.parallelTrialCount",
    "spec.objective.type",
    "spec.resumePolicy",
    "spec.metricsCollectorSpec.source.fileSystemPath.path",
    "spec.parameters[0].feasibleSpace.max",
    "spec.parameters[1].feasibleSpace.max",
]


@pytest.fixture
def files(tmp_path):
    def write(name: str, text: str) -> str:
        p = tmp_path / name
        p.write_text(text)
        return str(p)
    return write


@pytest.fixture
def no_plugin_checks(monkeypatch):
    """Spec-only verdicts: algorithm availability depends on which plugins are installed."""
    monkeypatch.setattr("katibsim.commands.validate._plugin_problems", lambda exp: [])


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "katibsim.cli", *args], capture_output=True, text=True, timeout=120,
    )


# -- the promise of the issue: a broken file, every error with its path, exit 1, no traceback ---------
def test_broken_file_reports_every_error_with_its_path(files):
    path = files("broken.yaml", BROKEN)
    proc = run_cli("validate", path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "Traceback" not in out
    assert f"{path}: invalid (Experiment Broken, v1beta1): " in proc.stdout
    for field in BROKEN_PATHS:
        assert f"{path}: {field}: " in proc.stdout, field
    assert 'quote it: "1"' in proc.stdout  # the reading error says how to fix it
    assert "katibsim check" in proc.stdout  # additions are marked as such


def test_usage_error_exits_2_without_traceback():
    proc = run_cli("validate")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "usage:" in proc.stderr


# -- in process --------------------------------------------------------------------------------------------
def test_valid_file(files, capsys, no_plugin_checks):
    path = files("ok.yaml", VALID)
    assert main(["validate", path]) == 0
    assert capsys.readouterr().out == f"{path}: valid (Experiment random-job, v1beta1)\n"


def test_seed_verdict_line(capsys, no_plugin_checks):
    assert main(["validate", str(SEED)]) == 0
    assert capsys.readouterr().out == f"{SEED}: valid (Experiment tfjob-bayesian, v1alpha3)\n"


def test_warnings_are_shown_and_do_not_fail(files, capsys, no_plugin_checks):
    path = files("warn.yaml", VALID.replace("maxTrialCount: 4", "maxTrialCounts: 4"))
    assert main(["validate", path]) == 0
    out = capsys.readouterr().out
    assert f"{path}: valid (Experiment random-job, v1beta1, 2 warnings)" in out
    assert f"{path}: warning: spec.maxTrialCounts: " in out and "did you mean maxTrialCount?" in out


def test_exit_codes_over_several_files(files, capsys, no_plugin_checks):
    ok, broken = files("ok.yaml", VALID), files("broken.yaml", BROKEN)
    assert main(["validate", ok, ok]) == 0
    assert main(["validate", ok, broken]) == 1
    assert main(["validate", ok, broken, files("x", "") + "-missing"]) == 2
    out = capsys.readouterr().out
    assert "3 files: 1 valid, 1 invalid, 1 unreadable" in out
    assert "no such file" in out


def test_several_documents_and_skipped_kinds(files, capsys, no_plugin_checks):
    other = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}}
    text = yaml.safe_dump_all([yaml.safe_load(VALID), other, yaml.safe_load(BROKEN)])
    path = files("multi.yaml", text)
    assert main(["validate", path]) == 1
    out = capsys.readouterr().out
    assert f"{path}: note: document 2: kind ConfigMap skipped" in out
    assert f"{path}: document 1: valid (Experiment random-job, v1beta1)" in out
    assert f"{path}: document 3: invalid (Experiment Broken, v1beta1)" in out


def test_unreadable_yaml_exits_2_with_the_line(files, capsys):
    bad = files("bad.yaml", "kind: Experiment\nspec: [unclosed\n")
    assert main(["validate", bad]) == 2
    assert f"error: {bad}:3:1: invalid YAML" in capsys.readouterr().out


def test_a_file_without_experiments_is_invalid(files, capsys):
    path = files("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    assert main(["validate", path]) == 1
    assert f"{path}: invalid: no Experiment found" in capsys.readouterr().out


def test_json_output(files, capsys, no_plugin_checks):
    ok, broken = files("ok.json", json.dumps(yaml.safe_load(VALID))), files("broken.yaml", BROKEN)
    assert main(["validate", "-o", "json", ok, broken]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["valid"] is False and report["exitCode"] == 1
    first, second = report["files"]
    assert first["status"] == "valid" and first["experiments"][0]["name"] == "random-job"
    assert second["status"] == "invalid"
    errors = second["experiments"][0]["errors"]
    assert [e["path"] for e in errors] == BROKEN_PATHS
    assert errors[1] == {
        "file": broken, "path": "spec.maxFailedTrialCount", "value": "1", "kind": "invalid", "severity": "error",
        "message": "expected an integer, got a string ('1')",
    }


def test_plugin_checks_are_called(files, capsys, monkeypatch):
    import katibsim.algorithm_factory

    calls = []

    def validate_algorithm(exp):
        calls.append(exp.spec.algorithm.algorithm_name)
        return [FieldError("spec.algorithm.algorithmName", "no plugin provides algorithm random", None, "random", "not-supported")]

    monkeypatch.setattr(katibsim.algorithm_factory, "validate_algorithm", validate_algorithm)
    monkeypatch.setattr(katibsim.algorithm_factory, "validate_early_stopping", lambda exp: [])
    path = files("ok.yaml", VALID)
    assert main(["validate", path]) == 1
    assert calls == ["random"]
    out = capsys.readouterr().out
    assert f"{path}: spec.algorithm.algorithmName: Invalid value: 'random': no plugin provides algorithm random" in out


# -- show ---------------------------------------------------------------------------------------------------
def test_show_prints_the_defaulted_experiment(capsys):
    assert main(["show", str(SEED)]) == 0
    shown = yaml.safe_load(capsys.readouterr().out)
    assert shown["apiVersion"] == "kubeflow.org/v1alpha3"
    assert shown["spec"]["resumePolicy"] == "LongRunning"
    assert shown["spec"]["parameters"][0]["feasibleSpace"] == {"min": "0.01", "max": "0.05"}


def test_show_converted(capsys):
    assert main(["show", str(SEED), "--api-version", "v1beta1"]) == 0
    shown = yaml.safe_load(capsys.readouterr().out)
    assert shown["apiVersion"] == "kubeflow.org/v1beta1"
    assert shown["spec"]["objective"]["metricStrategies"] == [{"name": "accuracy_1", "value": "max"}]


def test_show_refuses_unreadable_and_broken_input(files, capsys):
    assert main(["show", files("broken.yaml", BROKEN)]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "spec.maxFailedTrialCount" in captured.err
    assert main(["show", str(SEED), "--api-version", "v2"]) == 2
    assert main(["show", files("ok.yaml", VALID), "--api-version", "v1alpha3"]) == 2
    assert main(["show", "/nonexistent.yaml"]) == 2
    assert "Traceback" not in capsys.readouterr().err
