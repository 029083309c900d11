"""Katib's own example Experiments (examples/katib/): Katib's verdict from `katibsim validate`, and a
simulation of every one that is not architecture search."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from katibsim import plugins
from katibsim.cli import main
from katibsim.spec.loader import load_experiment

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "katib"
FILES = sorted(EXAMPLES.glob("*.yaml"))
# Katib's own webhook or NAS service rejects these two (see examples/katib/README.md).
INVALID_IN_KATIB = {
    "simple-pbt.yaml": "spec.maxFailedTrialCount",
    "darts-gpu.yaml": "spec.nasConfig.operations[4].parameters",
}
NAS = {"enas", "darts"}
SIMULATE = {
    "hyperband.yaml": ["--objective", "branin", "--objective-option", "fidelity=num-epochs"],
    # Its Validation-accuracy is not the surrogate's accuracy_1 and its lr starts below the surrogate's
    # table: both intended, as the file's header says.
    "simple-pbt-counts-fixed.yaml": ["--objective", "mnist-tfjob", "--objective-option", "batch_size=100",
                                     "--objective-option", "epochs=2", "--allow-objective-mismatch=metric,range"],
}


def algorithm_of(path: Path) -> str:
    return load_experiment(path).spec.algorithm.algorithm_name


def needs_plugin(path: Path) -> None:
    name = algorithm_of(path)
    if name not in plugins.algorithms():
        pytest.skip(f"algorithm {name} is provided by another plugin, not loaded here")


def test_every_copy_names_its_source_and_license():
    assert len(FILES) >= 16
    readme = (EXAMPLES / "README.md").read_text()
    for f in FILES:
        head = f.read_text().splitlines()[:7]
        assert any("github.com/kubeflow/katib" in line for line in head), f.name
        assert any("Apache License, Version 2.0" in line for line in head), f.name
        assert f"`{f.name}`" in readme, f.name


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_validate_gives_katibs_verdict(path, capsys):
    needs_plugin(path)
    code = main(["validate", str(path), "-o", "json"])
    out = json.loads(capsys.readouterr().out)
    if path.name in INVALID_IN_KATIB:
        assert code == 1
        assert INVALID_IN_KATIB[path.name] in json.dumps(out)
    else:
        assert code == 0, json.dumps(out, indent=1)


@pytest.mark.parametrize("path", [f for f in FILES if f.name not in INVALID_IN_KATIB], ids=lambda p: p.name)
def test_simulate_runs_every_hyperparameter_example(path, capsys):
    needs_plugin(path)
    if algorithm_of(path) in NAS:
        pytest.skip("architecture search is refused by simulate (tests/katib_algorithms/test_nas.py)")
    declared = re.search(r"^# Objective: ([\w.-]+)", path.read_text(), re.M).group(1)
    args = SIMULATE.get(path.name, ["--objective", declared])
    code = main(["simulate", str(path), *args, "-o", "json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    exp = load_experiment(path)
    assert out["simulation"]["outcome"] == "Succeeded"
    assert len(out["trials"]) == exp.spec.max_trial_count
