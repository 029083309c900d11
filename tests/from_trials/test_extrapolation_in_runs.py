"""Trials suggested outside the trials' region are counted in the run result and named by ``simulate``."""

from __future__ import annotations

import json

import pytest

from katibsim.cli import main
from katibsim.engine.result import RunResult
from katibsim_plugins.from_trials.surrogate import fit_table, write_model
from trial_table_helpers import smooth_table

EXPERIMENT = """\
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {{name: what-if, namespace: kubeflow}}
spec:
  objective: {{type: maximize, objectiveMetricName: accuracy}}
  algorithm: {{algorithmName: random}}
  parallelTrialCount: 2
  maxTrialCount: 12
  parameters:
    - name: lr
      parameterType: double
      feasibleSpace: {{min: "{low}", max: "{high}", distribution: logUniform}}
    - name: batch
      parameterType: int
      feasibleSpace: {{min: "{bmin}", max: "{bmax}"}}
  trialTemplate:
    primaryContainerName: main
    trialParameters:
      - {{name: lr, reference: lr}}
      - {{name: batch, reference: batch}}
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        template:
          spec:
            containers:
              - name: main
                image: busybox
                command: ["echo", "${{trialParameters.lr}}", "${{trialParameters.batch}}"]
            restartPolicy: Never
"""


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    path = tmp_path_factory.mktemp("m") / "smooth.json"
    # The trials' learning rates cover 1e-3..1e-1 of the Experiment's 1e-4..1.
    s = fit_table(smooth_table(lr_span=(-3, -1), declared=True), "forest")
    write_model(s, path)
    return str(path), s


def _run(tmp_path, model_path, low, high, bmin, bmax, *extra):
    exp = tmp_path / "e.yaml"
    exp.write_text(EXPERIMENT.format(low=low, high=high, bmin=bmin, bmax=bmax))
    res = tmp_path / "r.json"
    code = main(["simulate", str(exp), "--objective", "from-trials", "--objective-option", f"file={model_path}",
                 "--seed", "2", "--result", str(res), *extra])
    assert code == 0
    return json.loads(res.read_text())


def test_suggestions_outside_the_region_are_counted(tmp_path, model, capsys):
    path, s = model
    lr, batch = s.encoding.columns
    doc = _run(tmp_path, path, 1e-4, 1.0, 8, 256)  # the declared space: no mismatch, but beyond the trials
    flagged = [t for t in doc["trials"] if t.get("extrapolated")]
    outside = [t for t in doc["trials"] if float(dict((a["name"], a["value"]) for a in t["assignment"])["lr"]) < lr.low]
    assert doc["extrapolated_trials"] == len(flagged) >= len(outside) > 0
    assert all(t["extrapolated"] is True for t in flagged)
    out = capsys.readouterr().out
    assert f"# note [extrapolated]: {len(flagged)} of 12 trials were suggested outside the region the trials cover" in out
    result = RunResult.from_dict(doc)
    assert result.extrapolated_trials == len(flagged) and result.to_dict() == doc


def test_a_range_beyond_the_declared_space_is_a_mismatch(tmp_path, model, capsys):
    path, _ = model
    exp = tmp_path / "e.yaml"
    exp.write_text(EXPERIMENT.format(low=1e-5, high=1.0, bmin=8, bmax=256))
    assert main(["simulate", str(exp), "--objective", "from-trials", "--objective-option", f"file={path}"]) == 2
    err = capsys.readouterr().err
    assert "beyond objective input lr's domain [0.0001, 1]" in err and "from-trials models a real job" in err


def test_nothing_extrapolated_leaves_no_trace(tmp_path, model, capsys):
    path, s = model
    lr, batch = s.encoding.columns
    # A box well inside the region, where no point is far from every trial.
    doc = _run(tmp_path, path, lr.from_unit(0.3), lr.from_unit(0.7), int(batch.from_unit(0.3)) + 1,
               int(batch.from_unit(0.7)), "-o", "table")
    assert "extrapolated_trials" not in doc and not any("extrapolated" in t for t in doc["trials"])
    assert "outside the region" not in capsys.readouterr().out
