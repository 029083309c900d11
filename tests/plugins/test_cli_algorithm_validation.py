"""`katibsim validate` checks the algorithm through its plugin: Katib's messages at field paths, exit 1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from katibsim.cli import main

EXPERIMENT = """\
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: grid-example
  namespace: kubeflow
spec:
  objective:
    type: maximize
    goal: 0.99
    objectiveMetricName: accuracy
  algorithm:
    algorithmName: {algorithm}
{settings}  parallelTrialCount: 2
  maxTrialCount: {max_trials}
  maxFailedTrialCount: 2
  parameters:
    - name: lr
      parameterType: double
      feasibleSpace:
        min: "0.01"
        max: "0.03"
{step}    - name: optimizer
      parameterType: categorical
      feasibleSpace:
        list: ["sgd", "adam"]
  trialTemplate:
    primaryContainerName: training-container
    trialParameters:
      - name: learningRate
        reference: lr
      - name: optimizer
        reference: optimizer
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        template:
          spec:
            containers:
              - name: training-container
                image: docker.io/kubeflowkatib/mxnet-mnist:latest
                command:
                  - "python3"
                  - "/opt/mxnet-mnist/mnist.py"
                  - "--lr=${{trialParameters.learningRate}}"
                  - "--optimizer=${{trialParameters.optimizer}}"
            restartPolicy: Never
"""


def write(tmp_path: Path, *, algorithm="grid", settings=None, max_trials=6, step=True) -> str:
    block = ""
    if settings:
        block = "    algorithmSettings:\n" + "".join(f'      - name: {k}\n        value: "{v}"\n' for k, v in settings.items())
    text = EXPERIMENT.format(
        algorithm=algorithm,
        settings=block,
        max_trials=max_trials,
        step='        step: "0.01"\n' if step else "",
    )
    path = tmp_path / "experiment.yaml"
    path.write_text(text)
    return str(path)


def validate(capsys, path, *extra):
    code = main(["validate", path, *extra])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_a_valid_grid_experiment(tmp_path, capsys):
    code, out = validate(capsys, write(tmp_path))
    assert code == 0, out
    assert "valid (Experiment grid-example, v1beta1)" in out


@pytest.mark.parametrize(
    "kwargs, line",
    [
        (
            {"algorithm": "hyperband-ish"},
            "spec.algorithm.algorithmName: Invalid value: 'hyperband-ish': unable to get Suggestion config data for "
            "algorithm hyperband-ish: no plugin provides algorithm hyperband-ish; known algorithms: ",
        ),
        (
            {"settings": {"random_state": "1", "n_startup_trials": "5"}},
            "spec.algorithm.algorithmSettings[1].name: Invalid value: 'n_startup_trials': unknown setting "
            "n_startup_trials for algorithm grid",
        ),
        (
            {"settings": {"random_state": "-1"}},
            "spec.algorithm.algorithmSettings[0].value: Invalid value: '-1': Katib's Optuna service rejects a negative "
            "random_state with an empty message (\"ValidateAlgorithmSettings Error: \"): random_state must be an int >= 0",
        ),
        (
            {"algorithm": "random", "settings": {"random_state": "seven"}},
            "spec.algorithm.algorithmSettings[0].value: Invalid value: 'seven': failed to validate random_state(seven): "
            "invalid literal for int() with base 10: 'seven'",
        ),
        (
            {"max_trials": 7},
            "spec.maxTrialCount: Max Trial Count: 7 > all possible search combinations: 6",
        ),
        (
            {"step": False, "max_trials": 2},
            "spec.parameters[0].feasibleSpace.step: Required value: Param lr step is nil; For discrete search space, "
            "all parameters must include step",
        ),
    ],
    ids=["unknown-algorithm", "unknown-setting", "bad-value", "bad-int", "max-trials-beyond-grid", "double-without-step"],
)
def test_algorithm_errors_have_katibs_message_and_path(tmp_path, capsys, kwargs, line):
    path = write(tmp_path, **kwargs)
    code, out = validate(capsys, path)
    assert code == 1, out
    assert f"{path}: {line}" in out
    assert "Traceback" not in out


def test_unknown_algorithm_lists_the_known_ones(tmp_path, capsys):
    code, out = validate(capsys, write(tmp_path, algorithm="no-such-algorithm"))
    assert code == 1
    known = out.split("known algorithms: ")[1].split("\n")[0].split(", ")
    assert {"grid", "random"} <= set(known) and known == sorted(known)


def test_json_output_carries_path_and_message(tmp_path, capsys):
    code, out = validate(capsys, write(tmp_path, max_trials=9), "-o", "json")
    assert code == 1
    (err,) = json.loads(out)["files"][0]["experiments"][0]["errors"]
    assert (err["path"], err["message"]) == ("spec.maxTrialCount", "Max Trial Count: 9 > all possible search combinations: 6")


@pytest.mark.parametrize(
    "name, settings, line",
    [
        (
            "meanstop",
            {},
            "spec.earlyStopping.algorithmName: Invalid value: 'meanstop': unable to get EarlyStopping config data for "
            "algorithm meanstop: no plugin provides early-stopping algorithm meanstop; known early-stopping algorithms: ",
        ),
        (
            "medianstop",
            {"min_trials_required": "3", "foo": "1"},
            "spec.earlyStopping.algorithmSettings[1].name: Invalid value: 'foo': unknown setting foo for algorithm medianstop",
        ),
    ],
)
def test_early_stopping_is_validated_through_its_plugin(tmp_path, capsys, name, settings, line):
    block = f"  earlyStopping:\n    algorithmName: {name}\n"
    if settings:
        block += "    algorithmSettings:\n" + "".join(f'      - name: {k}\n        value: "{v}"\n' for k, v in settings.items())
    path = Path(write(tmp_path))
    path.write_text(path.read_text().replace("  parallelTrialCount: 2\n", block + "  parallelTrialCount: 2\n"))
    code, out = validate(capsys, str(path))
    assert code == 1, out
    assert f"{path}: {line}" in out
