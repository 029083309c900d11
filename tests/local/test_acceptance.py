"""Issue 7's acceptance run: the local example trains a dozen real models, 3 at a time (slow: ~30 s)."""

from __future__ import annotations

import json
import subprocess

import pytest

from .conftest import KATIBSIM, ROOT


@pytest.mark.slow
def test_the_local_example_trains_a_dozen_models_three_at_a_time(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.run(KATIBSIM + ["run", str(ROOT / "examples" / "tfjob-bayesian-local.yaml"), "--backend", "local",
                                      "--out", str(out), "-o", "table"],
                          capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    result = json.loads((out / "result.json").read_text())
    assert len(result["trials"]) == 12
    assert [t["condition"] for t in result["trials"]] == ["Succeeded"] * 12
    assert result["max_concurrent"] == 3
    assert result["reason"] == "ExperimentMaxTrialsReached"
    best = result["status"]["current_optimal_trial"]["name"]
    assert f"Optimal trial: {best}: " in proc.stdout and "wall time " in proc.stdout
    values = [t["value"] for t in result["trials"]]
    assert max(values) > 0.9  # real models learned something
