"""`kill -9` of a comparison: no pool worker survives it, and nothing is written after it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fuzz_helpers import EXAMPLES, ROOT

LINUX = sys.platform.startswith("linux")

SLOW_SCENARIO = """
name: slow
experiment: {experiment}
objective: seed-1d
budget: {{parallelTrialCount: 2, maxTrialCount: 14}}
seeds: {{count: 8, master: 3}}
variants:
  - name: bo
    algorithm: katibsim-bo
    settings: {{n_initial_points: 2, n_candidates: 256, n_restarts: 2}}
"""


def children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.update(int(x) for x in text)
    return found


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not LINUX, reason="reads /proc to find the pool's workers")
def test_kill_9_of_compare_leaves_no_worker_and_no_later_write(tmp_path):
    sc = tmp_path / "slow.yaml"
    sc.write_text(SLOW_SCENARIO.format(experiment=EXAMPLES / "seed-1d-random.yaml"))
    out = tmp_path / "out"
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-m", "katibsim.cli", "compare", str(sc), "--out", str(out), "--jobs", "2",
                             "--no-png"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=str(ROOT), env=env)
    runs = out / "slow" / "runs"
    workers: set[int] = set()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not list(runs.glob("*/seed-*.json")):
        if proc.poll() is None:
            workers |= children(proc.pid)
        time.sleep(0.02)
    workers |= children(proc.pid)
    assert len(workers) >= 2, "the pool's workers were not seen"
    proc.send_signal(signal.SIGKILL)
    killed_at = time.time()
    proc.wait()
    end = time.monotonic() + 10
    while any(alive(w) for w in workers) and time.monotonic() < end:
        time.sleep(0.05)
    assert not [w for w in workers if alive(w)], "a pool worker outlived its comparison"
    written = sorted(runs.glob("*/seed-*.json"))
    assert len(written) < 8, "the kill should land in the middle of the comparison"
    time.sleep(1.0)
    late = [p.name for p in runs.glob("*/*") if p.stat().st_mtime > killed_at + 0.2]
    assert late == [], f"written after the comparison was killed: {late}"


def test_a_worker_whose_parent_is_gone_writes_nothing(tmp_path):
    # The portable guard: a worker that sees another parent than the one that started it exits
    # before running anything (here the "parent" is a pid that is not ours). Workers never write
    # result files (the submitting process does), so exiting before the run is the whole rule.
    target = tmp_path / "r.json"
    script = (
        "import katibsim.runner as r\n"
        "r._PARENT_PID = 1 if __import__('os').getppid() != 1 else 2\n"
        "r.compute(None)\n"
        f"open({str(target)!r}, 'w').write('x')\n"
        "print('wrote')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=str(ROOT))
    assert done.returncode == 1 and "wrote" not in done.stdout
    assert not target.exists() and not list(tmp_path.iterdir())
