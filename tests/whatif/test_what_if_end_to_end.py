"""The what-if report exists for the shipped example: `compare --what-if` and the scenario form, end to end.

Small on purpose (one or two seeds, few algorithms, no figures for the CLI run); the shipped
scenario `scenarios/what-if-mnist.yaml` runs the whole comparison (docs/your-workload.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from katibsim import plugins
from katibsim.cli import main

ROOT = Path(__file__).resolve().parents[2]
WORKLOAD = ROOT / "examples" / "workload"

pytestmark = pytest.mark.skipif(
    "from-trials" not in plugins.objectives(),
    reason="the from-trials objective (plugins/from_trials, branch wl-surrogate) is not installed",
)


def test_compare_what_if_on_the_shipped_trials(tmp_path, capsys):
    out = tmp_path / "reports"
    code = main(["compare", "--what-if", str(WORKLOAD / "trials.yaml"), "--experiment", str(WORKLOAD / "experiment.yaml"),
                 "--algorithms", "sobol,hyperband", "--seeds", "1", "--no-png", "--jobs", "1", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "not compared: hyperband" in captured.err
    scenario = out / "what-if-mnist-random.yaml"
    doc = yaml.safe_load(scenario.read_text())
    assert [v["name"] for v in doc["variants"]] == ["as-run", "sobol", "as-run-parallel-1", "as-run-parallel-6",
                                                    "as-run-max-40", "as-run-max-160"]
    report = (out / "what-if-mnist-random" / "report.md").read_text()
    assert "## The real run" in report
    assert "| real run | 80 | 0.98 | 36 | 85 s |" in report  # the shipped run: best 0.98 at its 36th result, 85 s
    assert "as-run: " in report and "% of trials rest on extrapolation" in report
    summary = json.loads((out / "what-if-mnist-random" / "summary.json").read_text())
    assert len(summary["real_run"]["values"]) == 80
    assert set(summary["extrapolation"]) == set(summary["variants"])
    assert 0.95 < summary["target"] < 0.98  # the default target: the level of the real run's best tenth
    # the simulated clock runs at the real one's pace: random at parallel 3 ends near the real 85 s
    ends = summary["metrics"]["as-run"]["end-time"]
    assert 60 <= ends[0] <= 120
    # the written scenario runs again as it is
    assert main(["compare", str(scenario), "--seeds", "1", "--no-png", "--jobs", "1", "--out", str(out), "--resume", "-q"]) == 0


@pytest.mark.slow
def test_the_scenario_form_with_a_budget_draws_the_real_run(tmp_path):
    sc = tmp_path / "wi.yaml"
    sc.write_text(yaml.safe_dump({
        "name": "wi-small",
        "what_if": {"trials": str(WORKLOAD / "trials.csv"), "experiment": str(WORKLOAD / "experiment.yaml"),
                    "algorithms": ["tpe"]},
        "budget": {"maxTrialCount": 12},
        "seeds": {"count": 2},
        "assertions": [{"kind": "invariant", "check": "max-parallel"}],
    }))
    out = tmp_path / "out"
    assert main(["compare", str(sc), "--out", str(out), "--jobs", "1", "-q"]) == 0
    folder = out / "wi-small"
    assert {"curves.png", "history.png", "report.html"} <= {p.name for p in folder.iterdir()}
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["variants"] == ["as-run", "tpe", "as-run-parallel-1", "as-run-parallel-6", "as-run-max-6", "as-run-max-24"]
    assert summary["real_run"]["label"] == "real run" and summary["real_run"]["trials"] == 80
    assert "The real run" in (folder / "report.html").read_text()


def test_the_shipped_what_if_scenario_loads_and_passes_the_preflight():
    from katibsim.scenario import check_scenario, load_scenarios

    (sc,) = load_scenarios(ROOT / "scenarios" / "what-if-mnist.yaml")
    check_scenario(sc)
    assert sc.objective.name == "from-trials"
    assert len(sc.variants) == 10 and sc.what_if is not None
