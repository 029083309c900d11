"""``katibsim check-metrics`` end to end: explanations, exit codes, never a traceback."""

from __future__ import annotations

import io
import json
import textwrap

import pytest

from katibsim.cli import main

from conftest import write_scalars  # noqa: E402  (tests/collectors/conftest.py)

MISSING = textwrap.dedent(
    """\
    Epoch 1/2
    2024-05-01T10:00:00Z loss=0.52
    accuracy: 0.81
    {'accuracy': 0.83}
    Accuracy=0.85
    val_accuracy=0.86
    """
)


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_objective_missing_explained_exit_1(tmp_path, capsys):
    log = tmp_path / "train.log"
    log.write_text(MISSING)
    code, out, _ = run(["check-metrics", "--collector", "StdOut", "--metric", "accuracy", "--metric", "loss", str(log)], capsys)
    assert code == 1
    assert "line 3: 'accuracy: 0.81' — not taken: 'accuracy: 0.81' uses ':', but the default filter needs name=value" in out
    assert "use metricsFormat to accept 'name: value'" in out
    assert "line 5: 'Accuracy=0.85' — not taken: it says 'Accuracy', but metric names are case-sensitive" in out
    assert "'val_accuracy'" in out
    assert "line 2: '2024-05-01T10:00:00Z loss=0.52' — taken: loss=0.52" in out
    assert "the other metrics it found (loss) are dropped" in out
    assert "verdict: objective 'accuracy' never reported → the trial would be MetricsUnavailable" in out
    assert "line 1:" not in out  # "Epoch 1/2" mentions no metric: hidden without --all
    code, out, _ = run(["check-metrics", "--collector", "StdOut", "--metric", "accuracy", "--all", str(log)], capsys)
    assert "line 1: 'Epoch 1/2' — skipped: mentions none of the metric names" in out


def test_filter_fixes_it_exit_0(tmp_path, capsys):
    log = tmp_path / "train.log"
    log.write_text(MISSING)
    argv = ["check-metrics", "--collector", "StdOut", "--filter", r"([\w|-]+)\s*:\s*([+-]?\d*(\.\d+)?)", "--metric", "accuracy", str(log)]
    code, out, _ = run(argv, capsys)
    assert code == 0
    assert "line 3: 'accuracy: 0.81' — taken: accuracy=0.81" in out
    assert "verdict: objective 'accuracy' collected: min 0.81, max 0.81, latest 0.81" in out


def test_json_output_and_json_numbers(tmp_path, capsys):
    path = tmp_path / "metrics.json"
    path.write_text('{"accuracy": 0.9, "loss": "0.1"}\n')
    code, out, _ = run(
        ["check-metrics", "--collector", "File", "--format", "JSON", "--metric", "accuracy", "--metric", "loss", str(path), "-o", "json"],
        capsys,
    )
    assert code == 1
    data = json.loads(out)
    assert data["exit_code"] == 1 and data["condition_hint"] == "MetricsUnavailable"
    assert data["collector"] == {"kind": "File", "format": "JSON", "filters": None, "default_filter": None}
    assert any("JSON numbers ignored" in w for w in data["warnings"])
    assert data["observation"][0] == {"name": "accuracy", "min": "unavailable", "max": "unavailable", "latest": "unavailable"}


def test_stdin(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"accuracy=0.5\n")))
    code, out, _ = run(["check-metrics", "--collector", "StdOut", "--metric", "accuracy", "-"], capsys)
    assert code == 0 and "taken: accuracy=0.5" in out


def test_experiment_with_event_directory(tmp_path, capsys):
    exp = tmp_path / "exp.yaml"
    exp.write_text(
        textwrap.dedent(
            """\
            apiVersion: kubeflow.org/v1beta1
            kind: Experiment
            metadata: {name: tf, namespace: kubeflow}
            spec:
              objective: {type: maximize, objectiveMetricName: accuracy_1}
              algorithm: {algorithmName: random}
              metricsCollectorSpec:
                source: {fileSystemPath: {path: /train, kind: Directory}}
                collector: {kind: TensorFlowEvent}
              parameters:
                - {name: lr, parameterType: double, feasibleSpace: {min: "0.01", max: "0.05"}}
              trialTemplate:
                primaryContainerName: tensorflow
                trialParameters: [{name: lr, reference: lr}]
                trialSpec:
                  apiVersion: batch/v1
                  kind: Job
                  spec: {template: {spec: {containers: [{name: tensorflow, image: x, command: [python, t.py, "--lr=${trialParameters.lr}"]}]}}}
            """
        )
    )
    write_scalars(tmp_path / "logs", [("accuracy_1", s, 0.5 + s / 10, 1_700_000_000.0 + s) for s in range(3)])
    code, out, _ = run(["check-metrics", "--experiment", str(exp), str(tmp_path / "logs")], capsys)
    assert code == 0, out
    assert "scalars tag 'accuracy_1' (3 events) — taken: accuracy_1=0.5" in out
    write_scalars(tmp_path / "other", [("accuracy", 0, 0.9, 1_700_000_000.0)])
    code, out, _ = run(["check-metrics", "--experiment", str(exp), str(tmp_path / "other")], capsys)
    assert code == 1 and "not taken for 'accuracy_1': the tag 'accuracy' is shorter than 'accuracy_1'" in out


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--collector", "StdOut", "--metric", "a", "{missing}"], "no such file"),
        (["--collector", "StdOut", "{log}"], "--metric NAME is required"),
        (["--collector", "StdOut", "--filter", r"(\w+)=\d+", "--metric", "a", "{log}"], "two top subexpressions"),
        (["--collector", "StdOut", "--filter", r"(?=a)(b)(c)", "--metric", "a", "{log}"], "Perl syntax"),
        (["--collector", "File", "--format", "JSON", "--filter", "(a)(b)", "--metric", "a", "{log}"], "filter must be nil"),
        (["--collector", "StdOut", "--format", "JSON", "--metric", "a", "{log}"], "File collector only"),
        (["--collector", "StdOut", "--metric", "a", "{dir}"], "is a directory"),
        (["--collector", "StdOut", "--metric", "a", "--metric", "a", "{log}"], "must differ"),
        (["--experiment", "{log}", "{log}"], "cannot read the experiment"),
    ],
)
def test_bad_input_exit_2(tmp_path, capsys, argv, message):
    log = tmp_path / "x.log"
    log.write_text("a=1\n")
    paths = {"log": str(log), "missing": str(tmp_path / "nope.log"), "dir": str(tmp_path)}
    code, _, err = run(["check-metrics", *[a.format(**paths) if a.startswith("{") else a for a in argv]], capsys)
    assert code == 2
    assert message in err
