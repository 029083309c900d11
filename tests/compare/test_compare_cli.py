"""`katibsim compare` end to end on tiny scenarios: exit codes, files, and resume after a kill (byte-identical)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from katibsim.cli import main

ROOT = Path(__file__).resolve().parents[2]

TINY = """
name: tiny
experiment: {experiment}
objective: seed-1d
budget: {{parallelTrialCount: 2, maxTrialCount: {trials}}}
seeds: {{count: {seeds}, master: 7}}
target: {{value: 1.0}}
variants:
  - {{name: random, algorithm: random}}
  - name: bo
    algorithm: katibsim-bo
    settings: {{n_initial_points: 2, acq_func: LCB, kappa: 2, n_candidates: 64, n_restarts: 1}}
assertions:
  - {{kind: invariant, check: no-duplicates}}
  - {{kind: invariant, check: max-parallel}}
  - {{kind: target, variant: {target_variant}, seeds: {{atLeast: 1}}}}
"""


def write_tiny(tmp_path: Path, *, trials=6, seeds=3, target_variant="bo", name="tiny.yaml") -> Path:
    p = tmp_path / name
    p.write_text(TINY.format(experiment=ROOT / "examples" / "seed-1d-random.yaml", trials=trials, seeds=seeds, target_variant=target_variant))
    return p


def files(out: Path) -> dict[str, bytes]:
    """Every result file and the summary, by path relative to ``out``."""
    found = {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.glob("*/runs/*/*.json"))}
    found.update({str(p.relative_to(out)): p.read_bytes() for p in sorted(out.glob("*/summary.json"))})
    return found


def test_compare_writes_every_report_and_exits_0(tmp_path, capsys):
    sc = write_tiny(tmp_path)
    out = tmp_path / "out"
    assert main(["compare", str(sc), "--out", str(out), "--jobs", "2"]) == 0
    d = out / "tiny"
    for name in ("report.md", "report.html", "junit.xml", "summary.json", "curves.png", "final-best.png"):
        assert (d / name).is_file(), name
    assert len(list((d / "runs").glob("*/seed-*.json"))) == 6
    for name in ("index.md", "index.html", "junit.xml"):
        assert (out / name).is_file()
    summary = json.loads((d / "summary.json").read_text())
    assert summary["passed"] is True and summary["variants"] == ["random", "bo"]
    assert len(summary["metrics"]["bo"]["final-best"]) == 3
    captured = capsys.readouterr()
    assert "PASS tiny: 3/3 assertions hold" in captured.out
    assert "[6/6]" in captured.err  # plain progress lines when stderr is not a terminal


def test_failing_assertion_exits_1_and_is_in_junit(tmp_path, capsys):
    sc = tmp_path / "fail.yaml"
    sc.write_text(write_tiny(tmp_path).read_text() + "  - {kind: threshold, variant: random, metric: final-regret, aggregate: median, max: 0}\n")
    out = tmp_path / "out"
    assert main(["compare", str(sc), "--out", str(out), "--jobs", "1", "--no-png"]) == 1
    assert "FAIL tiny: 3/4" in capsys.readouterr().out
    junit = (out / "junit.xml").read_text()
    assert junit.count("<testcase") == 4 and junit.count("<failure") == 1


@pytest.mark.parametrize(
    "edit, path",
    [
        (("kappa: 2", "kappa: -2"), "variants[1].settings.kappa"),
        (("variant: bo,", "variant: boo,"), "assertions[2].variant"),
        (("objective: seed-1d", "objective: seed-2d"), "objective.name"),
        (("maxTrialCount: 6", "maxTrialCount: 1"), "budget.parallelTrialCount"),
    ],
)
def test_bad_scenario_exits_2_with_the_field_path(tmp_path, capsys, edit, path):
    sc = write_tiny(tmp_path)
    sc.write_text(sc.read_text().replace(*edit))
    assert main(["compare", str(sc), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f"{sc}: {path}:" in err, err
    assert not (tmp_path / "out").exists()  # nothing ran


def test_missing_scenario_file_exits_2(tmp_path, capsys):
    assert main(["compare", str(tmp_path / "nope.yaml")]) == 2
    assert "cannot read scenario" in capsys.readouterr().err


def test_resume_after_a_kill_gives_byte_identical_results(tmp_path):
    sc = write_tiny(tmp_path, trials=8, seeds=6)
    reference = tmp_path / "reference"
    assert main(["compare", str(sc), "--out", str(reference), "--jobs", "2", "--no-png"]) == 0
    want = files(reference)
    assert len(want) == 13

    # A comparison killed (SIGKILL, no chance to clean up) after its first results are written.
    out = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-m", "katibsim.cli", "compare", str(sc), "--out", str(out), "--jobs", "1", "--no-png"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=str(ROOT),
    )
    runs = out / "tiny" / "runs"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(runs.glob("*/seed-*.json"))) < 2:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_before = {p.name for p in runs.glob("*/seed-*.json")}
    assert 2 <= len(done_before) < 12, "the kill should land in the middle of the comparison"
    assert not (out / "tiny" / "summary.json").exists()
    # a half-written temporary file, as a kill during a write would leave
    (runs / "bo").mkdir(parents=True, exist_ok=True)
    (runs / "bo" / ".seed-005.json.123.tmp").write_text('{"katibsim_run": 1, "trunc')
    before = {p: p.stat().st_mtime_ns for p in runs.glob("*/seed-*.json")}

    assert main(["compare", str(sc), "--out", str(out), "--jobs", "2", "--no-png", "--resume"]) == 0
    assert files(out) == want
    assert not list(runs.glob("*/.*.tmp"))
    # finished runs were reused, not redone
    assert all(p.stat().st_mtime_ns == t for p, t in before.items())


def test_resume_reruns_only_changed_or_missing_runs(tmp_path, capsys):
    sc = write_tiny(tmp_path, seeds=2)
    out = tmp_path / "out"
    assert main(["compare", str(sc), "--out", str(out), "--jobs", "1", "--no-png"]) == 0
    want = files(out)
    (out / "tiny" / "runs" / "random" / "seed-001.json").unlink()
    bo = out / "tiny" / "runs" / "bo" / "seed-000.json"
    bo.write_text(bo.read_text().replace('"key":"', '"key":"stale'))
    capsys.readouterr()
    assert main(["compare", str(sc), "--out", str(out), "--jobs", "1", "--no-png", "--resume"]) == 0
    err = capsys.readouterr().err
    assert "2 runs in" in err and "2 reused" in err
    assert files(out) == want


def test_seeds_option_and_percent_thresholds(tmp_path, capsys):
    sc = write_tiny(tmp_path, seeds=3)
    assert main(["compare", str(sc), "--out", str(tmp_path / "a"), "--jobs", "1", "--no-png", "--seeds", "1"]) in (0, 1)
    assert len(list((tmp_path / "a" / "tiny" / "runs").glob("*/seed-*.json"))) == 2
    capsys.readouterr()
    bad = tmp_path / "k.yaml"
    bad.write_text(sc.read_text().replace("atLeast: 1", "atLeast: 3"))
    assert main(["compare", str(bad), "--out", str(tmp_path / "b"), "--seeds", "2"]) == 2
    assert "assertions[2].seeds.atLeast" in capsys.readouterr().err


@pytest.fixture
def stuck_algorithm():
    """A defective algorithm registered for one test: the middle of the space every time (Katib #1039's symptom)."""
    from katibsim import plugins
    from katibsim.algorithm import Algorithm
    from katibsim.hookspecs import hookimpl

    class Stuck(Algorithm):
        name = "stuck-test"

        def suggest(self, trials, count):
            return [{p.name: p.from_unit(0.5) for p in self.space} for _ in range(count)]

    holder = type("StuckPlugin", (), {"katibsim_register_algorithms": staticmethod(hookimpl(lambda register: register(Stuck)))})
    plugins.pm.register(holder, name="stuck-test-plugin")
    yield "stuck-test"
    plugins.pm.unregister(name="stuck-test-plugin")


def test_no_duplicates_guard_catches_a_repeating_algorithm(tmp_path, capsys, stuck_algorithm):
    sc = tmp_path / "guard.yaml"
    sc.write_text(
        textwrap.dedent(
            f"""
            name: guard
            experiment: {ROOT / "examples" / "seed-1d-random.yaml"}
            objective: seed-1d
            budget: {{parallelTrialCount: 2, maxTrialCount: 4}}
            seeds: {{count: 2}}
            variants:
              - {{name: random, algorithm: random}}
              - {{name: stuck, algorithm: {stuck_algorithm}}}
            assertions:
              - {{kind: invariant, check: no-duplicates}}
            """
        )
    )
    out = tmp_path / "out"
    assert main(["compare", str(sc), "--out", str(out), "--jobs", "1", "--no-png"]) == 1
    text = capsys.readouterr().out
    assert "FAIL invariant no-duplicates: violated in 2 of 4 runs: stuck seed #0: 3 duplicate suggestions" in text
    report = (out / "guard" / "report.md").read_text()
    assert "| stuck | 6 | 3, 3 |" in report
    assert "repeats" in report


def test_progress_is_a_bar_on_a_terminal_and_lines_otherwise():
    import io

    from katibsim.commands.compare import _Progress
    from katibsim.runner import Event

    class Tty(io.StringIO):
        def isatty(self):
            return True

    class Task:
        label = "s/v/seed-0"

    for stream, want in ((Tty(), "\r[###############...............] 1/2"), (io.StringIO(), "[1/2] s/v/seed-0 done in 0.50s\n")):
        p = _Progress(stream)
        p(Event("start", None, 0, 2))
        p(Event("done", Task(), 1, 2, 0.5))
        p(Event("skip", Task(), 2, 2))
        text = stream.getvalue()
        assert want in text
        assert text.endswith("\n")
        assert (p.ran, p.reused) == (1, 1)
