"""``katibsim simulate``: outputs, exit codes and the errors a user meets first."""

from __future__ import annotations

import json

import pytest
import yaml

from katibsim.cli import main
from katibsim.engine.result import RunResult

EXPERIMENT = """\
# A 1-D experiment for the CLI tests. Objective: seed-1d.
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: cli-demo
  namespace: kubeflow
spec:
  objective:
    type: maximize
    objectiveMetricName: objective
  algorithm:
    algorithmName: {algorithm}
  parallelTrialCount: 2
  maxTrialCount: 6
  maxFailedTrialCount: 3
  parameters:
    - name: x
      parameterType: double
      feasibleSpace: {{min: "-2", max: "10"}}
  trialTemplate:
    primaryContainerName: main
    trialParameters:
      - {{name: x, reference: x}}
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        template:
          spec:
            containers:
              - name: main
                image: busybox
                command: ["echo", "${{trialParameters.x}}"]
            restartPolicy: Never
"""


@pytest.fixture
def exp_file(tmp_path):
    def make(algorithm: str = "random", comment: bool = True) -> str:
        text = EXPERIMENT.format(algorithm=algorithm)
        if not comment:
            text = text.split("\n", 1)[1]
        p = tmp_path / f"{algorithm}.yaml"
        p.write_text(text)
        return str(p)

    return make


def test_yaml_output_is_what_kubectl_would_show(exp_file, capsys):
    assert main(["simulate", exp_file(), "--objective", "seed-1d", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    docs = [d for d in yaml.safe_load_all(out) if d]
    assert [d["kind"] for d in docs] == ["Experiment", "Suggestion"]
    exp, sug = docs
    assert exp["status"]["trials"] == 6 and exp["status"]["trialsSucceeded"] == 6
    assert exp["status"]["conditions"][-1]["reason"] == "ExperimentMaxTrialsReached"
    assert exp["status"]["currentOptimalTrial"]["bestTrialName"].startswith("cli-demo-")
    assert sug["spec"]["requests"] == 6 and len(sug["status"]["suggestions"]) == 6
    assert "# kubectl get trials -n kubeflow" in out and "# NAME" in out
    assert "# simulation: seed 3, objective seed-1d, algorithm random" in out


def test_json_output_and_result_file(exp_file, capsys, tmp_path):
    result_path = tmp_path / "run.json"
    assert main(["simulate", exp_file(), "--objective", "seed-1d", "-o", "json", "--result", str(result_path)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"katib_failures", "experiment", "suggestion", "trials", "simulation"}
    assert len(data["trials"]) == 6 and data["trials"][0]["kind"] == "Trial"
    assert data["trials"][0]["spec"]["runSpec"]["kind"] == "Job"  # the rendered trial template
    assert data["simulation"]["max_concurrent"] == 2
    r = RunResult.from_dict(json.loads(result_path.read_text()))
    assert len(r.trials) == 6 and r.objective == "seed-1d"


def test_table_output(exp_file, capsys):
    assert main(["simulate", exp_file(), "--objective", "seed-1d", "-o", "table"]) == 0
    out = capsys.readouterr().out
    assert "Experiment kubeflow/cli-demo: random, objective seed-1d, seed 0" in out
    assert "CONDITION" in out and "START" in out and "END" in out
    assert "Optimal trial: cli-demo-" in out


def test_same_seed_same_output(exp_file, capsys):
    main(["simulate", exp_file(), "--objective", "seed-1d", "--seed", "5"])
    first = capsys.readouterr().out
    main(["simulate", exp_file(), "--objective", "seed-1d", "--seed", "5"])
    assert capsys.readouterr().out == first


def test_missing_objective_says_which_one_the_file_needs(exp_file, capsys):
    assert main(["simulate", exp_file(comment=False)]) == 2
    err = capsys.readouterr().err
    assert "--objective NAME" in err and "this experiment needs: --objective seed-1d" in err
    assert "it reports objective" in err and "known objectives:" in err


def test_unknown_algorithm_lists_the_known_ones(exp_file, capsys):
    assert main(["simulate", exp_file("hyperband-ish"), "--objective", "seed-1d"]) == 1
    err = capsys.readouterr().err
    assert "spec.algorithm.algorithmName" in err and "known algorithms:" in err and "random" in err


def test_usage_errors_exit_2(exp_file, capsys):
    assert main(["simulate", exp_file(), "--objective", "seed-1d", "--sim-option", "failure_probability=2"]) == 2
    assert "probability in [0, 1]" in capsys.readouterr().err
    assert main(["simulate", exp_file(), "--objective", "seed-1d", "--map", "y=x"]) == 2
    assert "no experiment parameter 'y'" in capsys.readouterr().err
    assert main(["simulate", exp_file(), "--objective", "no-such-objective"]) == 2
    assert "known objectives" in capsys.readouterr().err


def test_corrected_mode_and_sim_options_reach_the_run(exp_file, capsys, tmp_path):
    result_path = tmp_path / "run.json"
    assert main(["simulate", exp_file(), "--objective", "seed-1d", "--corrected", "--sim-option",
                 "failure_probability=1", "--result", str(result_path), "-o", "table"]) == 0
    r = RunResult.from_dict(json.loads(result_path.read_text()))
    assert r.options.katib_compat is False and r.reason == "ExperimentFailed"


def test_algorithm_override_is_validated(exp_file, capsys, tmp_path):
    result_path = tmp_path / "run.json"
    assert main(["simulate", exp_file(), "--objective", "seed-1d", "--algorithm", "grid",
                 "--algorithm-setting", "order=lexicographic", "--result", str(result_path), "-o", "table"]) == 1
    # grid needs a step for doubles: the override is validated like the experiment's own algorithm
    assert "step" in capsys.readouterr().err


def test_algorithm_override_runs_and_is_noted(exp_file, capsys, tmp_path):
    result_path = tmp_path / "run.json"
    assert main(["simulate", exp_file("bayesianoptimization"), "--objective", "seed-1d", "--algorithm", "random",
                 "--result", str(result_path), "-o", "table"]) == 0
    r = RunResult.from_dict(json.loads(result_path.read_text()))
    assert r.algorithm == "random" and "algorithm-override" in [n.code for n in r.notes]


def test_a_bad_objective_on_the_command_line_is_a_usage_error(exp_file, capsys):
    assert main(["simulate", exp_file(), "--objective", "nope"]) == 2
    err = capsys.readouterr().err
    assert "--objective" in err and "unknown objective nope" in err and "seed-1d" in err
    assert main(["simulate", exp_file(), "--objective", "seed-1d", "--objective-option", "foo=1"]) == 2
    assert "unknown option foo" in capsys.readouterr().err


def test_a_bad_backend_on_the_command_line_is_a_usage_error(exp_file, capsys):
    assert main(["run", exp_file(), "--backend", "nope"]) == 2
    assert "unknown backend nope; known backends:" in capsys.readouterr().err
