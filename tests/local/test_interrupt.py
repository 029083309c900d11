"""Ctrl-C, kill and kill -9 of ``katibsim run``: no trial process is left, and the run resumes."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from .conftest import FAKE_IN_IMAGE, FAKE_MAP, KATIBSIM, alive, experiment_doc, write_experiment

STARTED = re.compile(r"\] (\S+) started: .*\(pid (\d+)\)")


class Cli:
    """``katibsim run`` in a child process, its stderr read line by line in the background."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path):
        self.proc = subprocess.Popen(KATIBSIM + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=env, cwd=cwd)
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        for line in self.proc.stderr:  # type: ignore[union-attr]
            self.lines.put(line)

    def wait_for(self, pred, timeout: float = 60.0) -> None:
        end = time.monotonic() + timeout
        while not pred(self.seen):
            left = end - time.monotonic()
            if left <= 0 or self.proc.poll() is not None and self.lines.empty():
                raise AssertionError("katibsim did not get there; stderr so far:\n" + "".join(self.seen))
            try:
                self.seen.append(self.lines.get(timeout=min(left, 0.5)))
            except queue.Empty:
                pass

    def started(self) -> dict[str, int]:
        return {m.group(1): int(m.group(2)) for m in map(STARTED.search, self.seen) if m}

    def finish(self, timeout: float = 60.0) -> tuple[int, str, str]:
        out = self.proc.stdout.read()  # type: ignore[union-attr]
        self.proc.wait(timeout=timeout)
        self._thread.join(timeout=timeout)
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return self.proc.returncode, out, "".join(self.seen)


def _experiment(tmp_path: Path, max_trials: int = 4, parallel: int = 2) -> Path:
    doc = experiment_doc(
        "interrupt", parameters=[{"name": "--x", "parameterType": "double", "feasibleSpace": {"min": "0.1", "max": "0.9"}}],
        command=["python", FAKE_IN_IMAGE, "--x=${trialParameters.x}"], max_trials=max_trials, parallel=parallel,
    )
    return write_experiment(tmp_path, doc)


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    count = tmp_path / "count"
    count.mkdir(exist_ok=True)
    env = dict(os.environ)
    env.update({"FAKE_TRAINER_COUNT_DIR": str(count), **extra})
    return env


def _gone(pids, timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while any(alive(p) for p in pids):
        if time.monotonic() > end:
            return False
        time.sleep(0.05)
    return True


def test_ctrl_c_stops_every_trial_process_group_and_the_run_resumes(tmp_path):
    exp = _experiment(tmp_path)
    out = tmp_path / "run"
    args = ["run", str(exp), "--backend", "local", "--map", FAKE_MAP, "--out", str(out), "-o", "json"]
    # The first two trials finish; the next two hang, each with a grandchild in its process group.
    cli = Cli(args, _env(tmp_path, FAKE_TRAINER_HANG="1", FAKE_TRAINER_CHILD="1"), tmp_path)
    cli.wait_for(lambda seen: len(STARTED.findall("".join(seen))) == 4)
    started = cli.started()
    hanging = list(started)[2:]
    grandchild_files = [out / "trials" / name / "grandchild.pid" for name in hanging]
    end = time.monotonic() + 30
    while not all(f.is_file() and f.read_text() for f in grandchild_files):
        assert time.monotonic() < end, "the hanging trials did not start their grandchildren"
        time.sleep(0.05)
    grandchildren = [int(f.read_text()) for f in grandchild_files]
    assert all(alive(p) for p in grandchildren)

    cli.proc.send_signal(signal.SIGINT)
    code, stdout, stderr = cli.finish()
    assert code == 130, stderr
    assert _gone(list(started.values()) + grandchildren), "a trial process survived Ctrl-C"
    assert "interrupted: continue with: katibsim run" in stderr and "--resume" in stderr

    first = json.loads((out / "result.json").read_text())
    conditions = {t["name"]: t["condition"] for t in first["trials"]}
    assert [conditions[n] for n in started] == ["Succeeded", "Succeeded", "Running", "Running"]
    assert first["reason"] == "Interrupted" and first["outcome"] == "Running"
    assert any(n["code"] == "interrupted" for n in first["notes"])
    assert json.loads(stdout)["run"]["reason"] == "Interrupted"
    for name in list(started)[:2]:
        assert (out / "trials" / name / "trial.json").is_file()

    # Resume: the two finished trials are re-used, the two interrupted ones run again (and finish).
    cli = Cli(args + ["--resume"], _env(tmp_path), tmp_path)
    code, stdout, stderr = cli.finish()
    assert code == 0, stderr
    assert sorted(re.findall(r"\] (\S+) re-used", stderr)) == sorted(list(started)[:2])
    assert sorted(m.group(1) for m in map(STARTED.search, stderr.splitlines()) if m) == sorted(hanging)
    second = json.loads((out / "result.json").read_text())
    assert [t["name"] for t in second["trials"]] == [t["name"] for t in first["trials"]]
    assert [t["assignment"] for t in second["trials"]] == [t["assignment"] for t in first["trials"]]
    assert [t["condition"] for t in second["trials"]] == ["Succeeded"] * 4
    assert second["reason"] == "ExperimentMaxTrialsReached"
    assert any(n["code"] == "local-resumed" and "2 finished trial(s) re-used" in n["message"] for n in second["notes"])
    reused = {t["name"]: t for t in second["trials"]}
    for t in first["trials"][:2]:
        assert reused[t["name"]]["metrics"] == t["metrics"]


def test_sigterm_stops_every_trial(tmp_path):
    exp = _experiment(tmp_path, max_trials=2, parallel=2)
    out = tmp_path / "run"
    cli = Cli(["run", str(exp), "--map", FAKE_MAP, "--out", str(out), "-o", "table"],
              _env(tmp_path, FAKE_TRAINER_HANG="1", FAKE_TRAINER_FAST="0"), tmp_path)
    cli.wait_for(lambda seen: "hanging" in "".join(seen) or len(STARTED.findall("".join(seen))) == 2)
    pids = list(cli.started().values())
    assert len(pids) == 2 and all(alive(p) for p in pids)
    cli.proc.send_signal(signal.SIGTERM)
    code, _, stderr = cli.finish()
    assert code == 143, stderr
    assert _gone(pids)
    assert json.loads((out / "result.json").read_text())["reason"] == "Interrupted"


def test_kill_9_of_katibsim_takes_its_trials_and_their_children_down(tmp_path):
    # Each hanging trial starts a grandchild (`sleep`) in its process group; after `kill -9` of
    # katibsim the watchdog (docs/local.md) kills both groups, grandchildren included.
    exp = _experiment(tmp_path, max_trials=2, parallel=2)
    out = tmp_path / "run"
    cli = Cli(["run", str(exp), "--map", FAKE_MAP, "--out", str(out)],
              _env(tmp_path, FAKE_TRAINER_HANG="1", FAKE_TRAINER_FAST="0", FAKE_TRAINER_CHILD="1"), tmp_path)
    cli.wait_for(lambda seen: len(STARTED.findall("".join(seen))) == 2)
    started = cli.started()
    files = [out / "trials" / name / "grandchild.pid" for name in started]
    end = time.monotonic() + 30
    while not all(f.is_file() and f.read_text() for f in files):
        assert time.monotonic() < end, "the trials did not start their grandchildren"
        time.sleep(0.05)
    grandchildren = [int(f.read_text()) for f in files]
    assert all(alive(p) for p in grandchildren)
    cli.proc.kill()
    cli.finish()
    assert _gone(list(started.values()) + grandchildren), "a trial or its child outlived katibsim's SIGKILL"


def test_the_watchdog_kills_registered_groups_when_its_owner_dies(tmp_path):
    # A child Python process registers a process group of two sleeps with its watchdog, then is
    # SIGKILLed: the watchdog sees its pipe close and kills the group.
    script = (
        "import subprocess, sys, time\n"
        "from katibsim.backends.process import WATCHDOG\n"
        "leader = subprocess.Popen(['sh', '-c', 'sleep 300 & echo $! > child.pid; exec sleep 300'], start_new_session=True)\n"
        "WATCHDOG.watch(leader.pid)\n"
        "print(leader.pid, WATCHDOG.pid, flush=True)\n"
        "time.sleep(300)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    leader, watchdog = map(int, proc.stdout.readline().split())
    end = time.monotonic() + 10
    while not ((tmp_path / "child.pid").is_file() and (tmp_path / "child.pid").read_text().strip()):
        assert time.monotonic() < end
        time.sleep(0.02)
    child = int((tmp_path / "child.pid").read_text())
    assert alive(leader) and alive(child) and alive(watchdog)
    proc.kill()
    proc.wait()
    assert _gone([leader, child, watchdog]), "the watchdog did not take the group down (or did not exit)"


def test_a_released_group_is_left_alone_and_close_ends_the_watchdog(tmp_path):
    from katibsim.backends.process import Watchdog

    dog = Watchdog()
    leader = subprocess.Popen(["sleep", "300"], start_new_session=True)
    try:
        dog.watch(leader.pid)
        pid = dog.pid
        dog.release(leader.pid)
        dog.close()
        assert _gone([pid])
        assert leader.poll() is None  # released: not killed
    finally:
        leader.kill()
        leader.wait()


def test_signal_guard_turns_signals_into_flags_and_a_third_into_keyboardinterrupt():
    from katibsim.backends.process import SignalGuard

    guard = SignalGuard(raise_on_second=False)
    assert guard.install()
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        assert guard.received and guard.name() == "SIGTERM" and not guard.forced
        os.kill(os.getpid(), signal.SIGINT)
        assert guard.forced and guard.name() == "SIGTERM"
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
    finally:
        guard.restore()
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
