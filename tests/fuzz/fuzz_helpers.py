"""Shared bits of the fuzz suite: the repository root, the CLI run as a bounded subprocess."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).resolve().parent / "corpus"
EXAMPLES = ROOT / "examples"
ALLOWED_EXIT_CODES = (0, 1, 2)
# Per input: a CLI call on a small mutated file must end within these bounds.
TIME_LIMIT_S = 60.0
MEMORY_LIMIT_BYTES = 2 * 1024**3

TINY_SCENARIO = """
name: tiny
experiment: {experiment}
objective: seed-1d
budget: {{parallelTrialCount: 2, maxTrialCount: {trials}}}
seeds: {{count: {seeds}, master: 7}}
variants:
  - {{name: random, algorithm: random}}
  - {{name: grid, algorithm: random, settings: {{random_state: 3}}}}
"""


def tiny_scenario(dir: Path, *, trials: int = 4, seeds: int = 2) -> Path:
    p = dir / "tiny.yaml"
    p.write_text(TINY_SCENARIO.format(experiment=EXAMPLES / "seed-1d-random.yaml", trials=trials, seeds=seeds))
    return p


@dataclass(frozen=True)
class Outcome:
    code: int | None  # None: killed at the time limit (a hang)
    stdout: str
    stderr: str

    @property
    def hang(self) -> bool:
        return self.code is None


def _limit_memory() -> None:  # pragma: no cover - runs in the child
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))


def run_cli(*args: str, timeout: float = TIME_LIMIT_S, stdin: str | None = None, cwd: Path | None = None) -> Outcome:
    """``katibsim ARGS`` in a fresh interpreter with an address-space limit and a time limit."""
    env = dict(os.environ, KATIBSIM_DEBUG="", PYTHONDONTWRITEBYTECODE="1", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    env.pop("KATIBSIM_DEBUG")
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "katibsim.cli", *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=str(cwd or ROOT),
            env=env,
            preexec_fn=_limit_memory,
        )
    except subprocess.TimeoutExpired as err:
        out = err.stdout.decode(errors="replace") if isinstance(err.stdout, bytes) else (err.stdout or "")
        return Outcome(None, out, "")
    return Outcome(proc.returncode, proc.stdout, proc.stderr)


def assert_clean(outcome: Outcome, what: str) -> None:
    """The fuzz contract: an exit code 0/1/2, never 70, never a traceback, never a hang."""
    assert not outcome.hang, f"{what}: no answer within {TIME_LIMIT_S} s"
    assert outcome.code in ALLOWED_EXIT_CODES, f"{what}: exit {outcome.code}\n{outcome.stderr[-2000:]}"
    assert "Traceback (most recent call last)" not in outcome.stderr, f"{what}: traceback\n{outcome.stderr[-2000:]}"
    assert "internal error" not in outcome.stderr, f"{what}: {outcome.stderr[-2000:]}"


# -- in-process runs with bounds, and the figures the suite reports ---------------------------------
import contextlib  # noqa: E402
import io  # noqa: E402
import signal  # noqa: E402
import time  # noqa: E402
from collections import Counter, defaultdict  # noqa: E402

IN_PROCESS_TIME_LIMIT_S = 30.0
# Peak RSS the test process may reach, over its size when the fuzz suite started (ru_maxrss only grows).
RSS_HEADROOM_KB = 1_000_000

STATS: dict[str, dict] = defaultdict(lambda: {"inputs": 0, "codes": Counter(), "failures": 0, "hangs": 0, "max_s": 0.0})
_BASE_RSS_KB: list[int] = []  # the process's peak when the first fuzz input ran


class Hang(BaseException):
    """Raised by the timer in the middle of a CLI call that took too long (passes `except Exception`)."""


def _alarm(signum, frame):  # noqa: ARG001
    raise Hang()


def run_inprocess(command: str, *args: str, stdin: str | None = None, limit: float = IN_PROCESS_TIME_LIMIT_S) -> Outcome:
    """``katibsim COMMAND ARGS`` through the CLI entry point in this process, timed and counted."""
    from katibsim.cli import main

    if not _BASE_RSS_KB:
        _BASE_RSS_KB.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    out, err = io.StringIO(), io.StringIO()
    stats = STATS[command]
    stats["inputs"] += 1
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, limit)
    t0 = time.perf_counter()
    code: int | None
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main([command, *args])
            except SystemExit as exc:  # argparse usage errors
                code = exc.code if isinstance(exc.code, int) else 2
    except Hang:
        code = None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    elapsed = time.perf_counter() - t0
    stats["max_s"] = max(stats["max_s"], elapsed)
    if code is None:
        stats["hangs"] += 1
    else:
        stats["codes"][code] += 1
    outcome = Outcome(code, out.getvalue(), err.getvalue())
    bad = code not in ALLOWED_EXIT_CODES or "Traceback (most recent call last)" in outcome.stderr or "internal error" in outcome.stderr
    if bad:
        stats["failures"] += 1
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    grown = rss - _BASE_RSS_KB[0]
    assert grown < RSS_HEADROOM_KB, f"{command} {args}: peak memory grew by {grown / 1000:.0f} MB"
    return outcome


def assert_clean_inprocess(outcome: Outcome, what: str) -> None:
    assert not outcome.hang, f"{what}: no answer within {IN_PROCESS_TIME_LIMIT_S} s"
    assert outcome.code in ALLOWED_EXIT_CODES, f"{what}: exit {outcome.code}\n{outcome.stderr[-3000:]}"
    assert "Traceback (most recent call last)" not in outcome.stderr, f"{what}: traceback\n{outcome.stderr[-3000:]}"
    assert "internal error" not in outcome.stderr, f"{what}: {outcome.stderr[-3000:]}"
