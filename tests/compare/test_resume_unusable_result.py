"""--resume re-runs a stored result it cannot use, and says so (issue [hardening] item 5)."""

from __future__ import annotations

import json
from pathlib import Path

from katibsim.cli import main

ROOT = Path(__file__).resolve().parents[2]

SCENARIO = """
name: tiny
experiment: {experiment}
objective: seed-1d
budget: {{parallelTrialCount: 1, maxTrialCount: 3}}
seeds: {{count: 2, master: 5}}
variants:
  - {{name: random, algorithm: random}}
assertions:
  - {{kind: invariant, check: max-parallel}}
"""


def test_a_broken_result_file_is_run_again_and_the_run_says_why(tmp_path, capsys):
    sc = tmp_path / "tiny.yaml"
    sc.write_text(SCENARIO.format(experiment=ROOT / "examples" / "seed-1d-random.yaml"))
    out = tmp_path / "out"
    assert main(["compare", str(sc), "--out", str(out), "--jobs", "1", "--no-png"]) == 0
    files = sorted((out / "tiny" / "runs").glob("*/seed-*.json"))
    assert len(files) == 2
    good = files[1].read_bytes()
    files[0].write_bytes(b'{"key": "\xff broken')  # a stray non-UTF-8 byte, and cut short
    capsys.readouterr()
    assert main(["compare", str(sc), "--out", str(out), "--jobs", "1", "--no-png", "--resume"]) == 0
    err = capsys.readouterr().err
    assert "note: tiny/random/seed-0: the stored result cannot be used" in err and "running it again" in err
    assert "tiny/random/seed-1: the stored result cannot be used" not in err  # the good one is reused
    json.loads(files[0].read_text(encoding="utf-8"))  # rewritten whole
    assert files[1].read_bytes() == good
