"""A Katib service failure end to end: `simulate` prints it first (every -o), `validate` shows an
algorithm's predicted failures as warnings (exit 0), `compare` puts a banner at the top."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import yaml

from katibsim.algorithm import SettingSpec
from katibsim.cli import main
from katibsim.errors import FieldError

from engine_helpers import FailingService
from test_cli_simulate import EXPERIMENT

ROOT = Path(__file__).resolve().parents[2]


class FailingPlugin(FailingService):
    name = "failing-service-test"
    settings_spec = (SettingSpec("fail_after", "0", "assignments given before the service fails"),)

    def __init__(self, space, objective, settings=None, seed=None, **kw):
        super().__init__(space, objective, settings, seed, **kw)
        self.fail_after = int(self.setting("fail_after"))

    def predicted_failures(self):
        return [FieldError("spec.parameters[0].feasibleSpace", "Katib's service will fail on this space: "
                           "the library refuses it; fix: change the space", severity="warning")]


@pytest.fixture
def failing_algorithm():
    from katibsim import plugins
    from katibsim.hookspecs import hookimpl

    holder = type("FailingPlugin", (), {
        "katibsim_register_algorithms": staticmethod(hookimpl(lambda register: register(FailingPlugin)))})
    plugins.pm.register(holder, name="failing-service-test-plugin")
    yield FailingPlugin.name
    plugins.pm.unregister(name="failing-service-test-plugin")


@pytest.fixture
def exp_path(tmp_path, failing_algorithm):
    p = tmp_path / "failing.yaml"
    p.write_text(EXPERIMENT.format(algorithm=failing_algorithm).replace(
        f"algorithmName: {failing_algorithm}",
        f"algorithmName: {failing_algorithm}\n    algorithmSettings:\n      - {{name: fail_after, value: \"2\"}}"))
    return str(p)


def test_simulate_prints_the_failure_first_in_yaml_and_table(exp_path, capsys):
    message, why, fix = FailingService.FAILURE
    for fmt in ("yaml", "table"):
        assert main(["simulate", exp_path, "--objective", "seed-1d", "-o", fmt]) == 0
        out = capsys.readouterr().out
        head = out.split("\n\n", 1)[0].splitlines()
        assert head[0].startswith("# KATIB SUGGESTION SERVICE FAILURE (1)")
        assert any(message in line and "after 2 trial(s)" in line for line in head)
        assert f"#   why: {why}" in head and f"#   fix: {fix}" in head
    assert main(["simulate", exp_path, "--objective", "seed-1d"]) == 0
    docs = list(yaml.safe_load_all(capsys.readouterr().out))
    assert docs[0]["status"]["conditions"][-1]["reason"] == "ExperimentRunning"  # still valid YAML


def test_simulate_json_has_the_failure_as_its_first_field(exp_path, capsys):
    assert main(["simulate", exp_path, "--objective", "seed-1d", "-o", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert list(data)[0] == "katib_failures"
    (f,) = data["katib_failures"]
    assert (f["message"], f["why"], f["fix"], f["trials"]) == (*FailingService.FAILURE, 2)
    assert data["simulation"]["outcome"] == "Running" and data["simulation"]["reason"] == "SuggestionServiceFailed"


def test_simulate_without_failure_prints_no_block(tmp_path, capsys):
    p = tmp_path / "random.yaml"
    p.write_text(EXPERIMENT.format(algorithm="random"))
    assert main(["simulate", str(p), "--objective", "seed-1d", "-o", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["katib_failures"] == []
    assert main(["simulate", str(p), "--objective", "seed-1d"]) == 0
    assert "KATIB SUGGESTION SERVICE FAILURE" not in capsys.readouterr().out


def test_validate_shows_predicted_failures_as_warnings_and_exits_0(exp_path, capsys):
    assert main(["validate", exp_path]) == 0
    out = capsys.readouterr().out
    assert "valid (Experiment cli-demo, v1beta1, 1 warning)" in out
    assert "warning: spec.parameters[0].feasibleSpace: Katib's service will fail on this space" in out
    assert main(["validate", exp_path, "-o", "json"]) == 0
    (w,) = json.loads(capsys.readouterr().out)["files"][0]["experiments"][0]["warnings"]
    assert w["severity"] == "warning" and w["path"] == "spec.parameters[0].feasibleSpace"


def test_compare_report_has_a_banner_at_the_top(tmp_path, capsys, failing_algorithm):
    sc = tmp_path / "failing.yaml"
    sc.write_text(textwrap.dedent(f"""
        name: failing
        experiment: {ROOT / "examples" / "seed-1d-random.yaml"}
        objective: seed-1d
        budget: {{parallelTrialCount: 2, maxTrialCount: 4}}
        seeds: {{count: 2}}
        variants:
          - {{name: random, algorithm: random}}
          - {{name: broken, algorithm: {failing_algorithm}, settings: {{fail_after: "2"}}}}
        assertions:
          - {{kind: invariant, check: max-parallel}}
        """))
    out = tmp_path / "out"
    assert main(["compare", str(sc), "--out", str(out), "--jobs", "1", "--no-png"]) == 0
    report = (out / "failing" / "report.md").read_text()
    lines = report.splitlines()
    banner = next(i for i, line in enumerate(lines) if "Katib suggestion service failure" in line)
    assert banner <= 2 and "(broken)" in lines[banner]
    message, why, fix = FailingService.FAILURE
    assert f"- variant broken (2 run(s)): {message} — why: {why} — fix: {fix}" in lines
    html = (out / "failing" / "report.html").read_text()
    assert "Katib suggestion service failure" in html and html.index("Katib suggestion service failure") < html.index("Verdict")
