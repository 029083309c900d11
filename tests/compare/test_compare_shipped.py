"""The shipped scenarios: every file loads and passes the pre-flight checks; the smallest one runs with 2 seeds."""

from __future__ import annotations

from pathlib import Path

import pytest

from katibsim.cli import main
from katibsim.scenario import check_scenario, load_scenarios

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))


def test_the_issue_s_scenarios_are_shipped():
    names = {s.name for p in SHIPPED for s in load_scenarios(p)}
    assert {"seed-exploration", "seed-tfjob-bayesian", "parallelism", "no-duplicates"} <= names
    assert sum(n.startswith("bo-vs-random-") for n in names) >= 3


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_scenario_is_valid(path):
    scenarios = load_scenarios(path)
    for sc in scenarios:
        check_scenario(sc)
        assert sc.assertions, f"{sc.name} asserts nothing"


def test_smallest_shipped_scenario_runs_with_two_seeds(tmp_path, capsys):
    code = main(["compare", str(ROOT / "scenarios" / "no-duplicates.yaml"), "--seeds", "2", "--jobs", "2", "--no-png", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "PASS no-duplicates" in out
