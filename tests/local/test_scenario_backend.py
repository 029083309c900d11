"""``backend: local`` in a scenario: simulated and real runs of one experiment in one comparison."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from katibsim.backends.scenario_backend import BackendRef, parse_backend
from katibsim.cli import main
from katibsim.errors import SpecError
from katibsim.scenario import load_scenarios

from .conftest import FAKE, FAKE_IN_IMAGE, experiment_doc, write_experiment

SCENARIO = """
name: real-and-simulated
experiment: experiment.yaml
objective: seed-1d
seeds: {{count: 1, master: 3}}
variants:
  - {{name: simulated, algorithm: random}}
  - name: real
    algorithm: random
    backend:
      name: local
      map: ["{image_path}={local}"]
      timeout: 60
"""


def _write(tmp_path: Path, text: str) -> Path:
    doc = experiment_doc("fake", parameters=[{"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0.1", "max": "0.9"}}],
                         command=["python", FAKE_IN_IMAGE, "--x=${trialParameters.x}"], objective="objective",
                         max_trials=3, parallel=2)
    # The fake trainer prints accuracy_1; the simulated objective reports "objective": collect accuracy_1 here.
    doc["spec"]["objective"]["objectiveMetricName"] = "accuracy_1"
    write_experiment(tmp_path, doc)
    path = tmp_path / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_scenario_runs_one_variant_for_real_next_to_a_simulated_one(tmp_path, capsys):
    # A map entry relative to the scenario's folder.
    (tmp_path / "bin").mkdir()
    shutil.copy(FAKE, tmp_path / "bin" / "fake_trainer.py")
    path = _write(tmp_path, SCENARIO.format(image_path=FAKE_IN_IMAGE, local="bin/fake_trainer.py"))
    (sc,) = load_scenarios(path)
    real = sc.variant("real")
    assert real.backend == BackendRef("local", (f"{FAKE_IN_IMAGE}=bin/fake_trainer.py",), 60.0, str(tmp_path.resolve()))
    assert sc.variant("simulated").backend is None
    assert sc.run_key(real, 1) != sc.run_key(sc.variant("simulated"), 1)
    out = tmp_path / "out"
    code = main(["compare", str(path), "--out", str(out), "--jobs", "1"])
    assert code == 0, capsys.readouterr().err
    runs = out / "real-and-simulated" / "runs"
    real_run = json.loads(next((runs / "real").glob("seed-*.json")).read_text())["result"]
    sim_run = json.loads(next((runs / "simulated").glob("seed-*.json")).read_text())["result"]
    assert real_run["backend"] == "local" and sim_run["backend"] == "sim"
    assert [t["condition"] for t in real_run["trials"]] == ["Succeeded"] * 3
    for t in real_run["trials"]:  # the fake trainer's last report is x + 0.03; Katib's max strategy keeps it
        x = float(t["assignment"][0]["value"])
        assert t["value"] == pytest.approx(round(x + 0.03, 4), abs=1e-9)
    trials_dir = next(runs.glob("real/seed-*.trials"))
    assert len(list((trials_dir / "trials").glob("*/output.log"))) == 3
    assert (out / "real-and-simulated" / "report.md").is_file()


def test_backend_field_errors_are_reported_at_their_path(tmp_path):
    text = SCENARIO.format(image_path=FAKE_IN_IMAGE, local=FAKE).replace("name: local", "name: cluster").replace(
        "timeout: 60", "timeout: -1")
    path = _write(tmp_path, text)
    with pytest.raises(SpecError) as err:
        load_scenarios(path)
    paths = {e.path for e in err.value.errors}
    assert {"variants[1].backend.name", "variants[1].backend.timeout"} <= paths


def test_parse_backend_forms(tmp_path):
    assert parse_backend(None, "b") == (None, [])
    ref, errors = parse_backend("local", "b", base=tmp_path)
    assert ref == BackendRef("local", (), None, str(tmp_path.resolve())) and errors == []
    ref, errors = parse_backend({"name": "local", "map": {"/a": "b"}}, "b", base=tmp_path)
    assert ref.map == ("/a=b",) and errors == []
    _, errors = parse_backend({"name": "sim", "timeout": 3}, "b")
    assert [e.path for e in errors] == ["b"]
    _, errors = parse_backend({"name": "local", "map": ["nope"], "extra": 1}, "b")
    assert {e.path for e in errors} == {"b.map[0]", "b.extra"}


def test_kind_is_a_scenario_backend_without_a_map(tmp_path):
    ref, errors = parse_backend({"name": "kind", "timeout": 600}, "b", base=tmp_path)
    assert errors == [] and ref.name == "kind" and ref.timeout == 600.0 and not ref.simulated
    _, errors = parse_backend({"name": "kind", "map": ["/a=b"]}, "b", base=tmp_path)
    assert [e.path for e in errors] == ["b.map"]
