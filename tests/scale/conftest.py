"""A real Dask cluster for the tests: a scheduler and workers as separate processes on loopback.

Every process is started with the ``dask scheduler`` / ``dask worker`` commands of this
interpreter, bound to 127.0.0.1, and stopped (terminate, then kill) when the test ends; every
wait is bounded.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator, Mapping

import pytest

pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 90.0  # seconds for the scheduler and workers to come up on a loaded 2-core machine

TINY = """
name: {name}
experiment: {experiment}
objective: seed-1d
budget: {{parallelTrialCount: 2, maxTrialCount: {trials}}}
seeds: {{count: {seeds}, master: 7}}
variants:
  - {{name: random, algorithm: random}}
  - name: bo
    algorithm: katibsim-bo
    settings: {{n_initial_points: 2, acq_func: LCB, kappa: 2, n_candidates: {candidates}, n_restarts: 1}}
assertions:
  - {{kind: invariant, check: no-duplicates}}
"""


def write_scenario(directory: Path, *, name="tiny", trials=6, seeds=3, candidates=64) -> Path:
    p = directory / f"{name}.yaml"
    p.write_text(TINY.format(name=name, experiment=ROOT / "examples" / "seed-1d-random.yaml", trials=trials, seeds=seeds, candidates=candidates))
    return p


def run_files(out: Path) -> dict[str, bytes]:
    """Every result file and summary under ``out``, by relative path."""
    found = {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.glob("*/runs/*/*.json"))}
    found.update({str(p.relative_to(out)): p.read_bytes() for p in sorted(out.glob("*/summary.json"))})
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


class Cluster:
    """A scheduler and named workers, each its own process; ``stop`` ends them all."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.workers: dict[str, subprocess.Popen] = {}
        file = directory / "scheduler.json"
        self.scheduler = subprocess.Popen(
            [sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port", "0",
             "--no-dashboard", "--scheduler-file", str(file)],
            stdout=subprocess.DEVNULL, stderr=open(directory / "scheduler.log", "w"), cwd=directory,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.scheduler.poll() is not None:
                raise RuntimeError(f"the scheduler exited: {(directory / 'scheduler.log').read_text()[-2000:]}")
            try:
                self.address = json.loads(file.read_text())["address"]
                break
            except (OSError, ValueError, KeyError):
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("the scheduler did not start in time") from None
                time.sleep(0.1)

    def add_worker(self, name: str, *, env: Mapping[str, str] | None = None, preload: Path | None = None) -> None:
        cmd = [sys.executable, "-m", "dask", "worker", self.address, "--name", name, "--nthreads", "1",
               "--no-nanny", "--no-dashboard", "--host", "127.0.0.1", "--death-timeout", "60"]
        if preload is not None:
            cmd += ["--preload", str(preload)]
        full_env = {**os.environ, **(env or {})}
        self.workers[name] = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=open(self.directory / f"worker-{name}.log", "w"),
            env=full_env, cwd=self.directory,
        )

    def wait_for_workers(self, n: int) -> None:
        from distributed import Client

        with Client(self.address, timeout=30, set_as_default=False) as c:
            c.wait_for_workers(n, timeout=START_TIMEOUT)

    def kill_worker(self, name: str) -> None:
        proc = self.workers[name]
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

    def kill_scheduler(self) -> None:
        self.scheduler.send_signal(signal.SIGKILL)
        self.scheduler.wait(timeout=10)

    def stop(self) -> None:
        """End every process (SIGKILL: the test is over and a graceful close takes seconds)."""
        procs = [*self.workers.values(), self.scheduler]
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
        for proc in procs:
            try:
                _stop(proc)
            except Exception:  # noqa: BLE001 - keep stopping the others
                pass


def _factory(directory: Path) -> Iterator:
    made: list[Cluster] = []

    def make(*workers: str) -> Cluster:
        d = directory / f"cluster-{len(made)}"
        d.mkdir()
        c = Cluster(d)
        made.append(c)
        for name in workers:
            c.add_worker(name)
        if workers:
            c.wait_for_workers(len(workers))
        return c

    try:
        yield make
    finally:
        for c in made:
            c.stop()


@pytest.fixture
def cluster_factory(tmp_path) -> Iterator:
    """``make(*worker names)``: a new cluster for this test alone (stopped at its end)."""
    yield from _factory(tmp_path)


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory) -> Iterator[Cluster]:
    """A healthy cluster of two one-thread workers, shared by a module's tests (who leave it healthy)."""
    for make in _factory(tmp_path_factory.mktemp("dask")):
        yield make("a", "b")


@pytest.fixture
def short_connect_timeout():
    """Dask's connect timeout, short, for the tests that expect a connection to fail."""
    import dask.config
    import distributed  # noqa: F401 - loads distributed's config defaults

    with dask.config.set({"distributed.comm.timeouts.connect": "3s"}):
        yield 3.0
