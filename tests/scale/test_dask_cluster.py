"""`katibsim compare --scheduler` against a real Dask cluster (scheduler and workers as processes on loopback)."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from katibsim.cli import main

from .conftest import ROOT, free_port, run_files, write_scenario


def test_run_files_are_byte_identical_to_the_process_pool(tmp_path, two_workers, capsys):
    sc = write_scenario(tmp_path)
    assert main(["compare", str(sc), "--out", str(tmp_path / "local"), "--jobs", "2", "--no-png"]) == 0
    capsys.readouterr()
    assert main(["compare", str(sc), "--out", str(tmp_path / "dask"), "--no-png", "--scheduler", two_workers.address]) == 0
    err = capsys.readouterr().err
    want = run_files(tmp_path / "local")
    assert len(want) == 7
    assert run_files(tmp_path / "dask") == want
    assert "[6/6]" in err and "(2 workers)" in err
    assert f"(Dask scheduler {two_workers.address})" in err


def test_scheduler_from_the_environment_and_resume(tmp_path, two_workers, capsys, monkeypatch):
    sc = write_scenario(tmp_path, seeds=2)
    out = tmp_path / "out"
    monkeypatch.setenv("KATIBSIM_SCHEDULER", two_workers.address)
    assert main(["compare", str(sc), "--out", str(out), "--no-png"]) == 0
    want = run_files(out)
    (out / "tiny" / "runs" / "bo" / "seed-001.json").unlink()
    capsys.readouterr()
    assert main(["compare", str(sc), "--out", str(out), "--no-png", "--resume"]) == 0
    err = capsys.readouterr().err
    assert "1 run in" in err and "3 reused" in err and "Dask scheduler" in err
    assert run_files(out) == want


def test_faulty_workers_are_named_before_the_first_run(tmp_path, cluster_factory, capsys):
    """A worker without a plugin, one without katibsim, one with another katibsim version."""
    hide = tmp_path / "hide_katibsim.py"
    hide.write_text(
        "import sys\n"
        "class Hide:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('katibsim', 'katibsim_plugins'):\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}')\n"
        "sys.meta_path.insert(0, Hide())\n"
    )
    older = tmp_path / "older_katibsim.py"
    older.write_text("import katibsim\nkatibsim.__version__ = '0.0.1'\n")
    c = cluster_factory()
    c.add_worker("nobo", env={"KATIBSIM_DISABLE_PLUGINS": "katibsim-bo"})
    c.add_worker("bare", preload=hide)
    c.add_worker("older", preload=older)
    c.wait_for_workers(3)
    sc = write_scenario(tmp_path)
    out = tmp_path / "out"
    assert main(["compare", str(sc), "--out", str(out), "--no-png", "--scheduler", c.address]) == 2
    err = capsys.readouterr().err
    lines = {name: [ln for ln in err.splitlines() if f"worker {name} " in ln] for name in ("nobo", "bare", "older")}
    assert len(lines["nobo"]) == 1 and "no algorithm plugin 'katibsim-bo' there" in lines["nobo"][0]
    assert len(lines["bare"]) == 1 and "katibsim cannot be imported there" in lines["bare"][0]
    assert len(lines["older"]) == 1 and "katibsim 0.0.1 there, 0.1.0 here" in lines["older"][0]
    assert "nothing was run" in err
    assert not (out / "tiny" / "runs").exists()


def test_a_scheduler_that_is_not_there_is_a_clear_error(tmp_path, capsys, short_connect_timeout):
    sc = write_scenario(tmp_path)
    address = f"tcp://127.0.0.1:{free_port()}"
    t0 = time.monotonic()
    assert main(["compare", str(sc), "--out", str(tmp_path / "out"), "--no-png", "--scheduler", address]) == 2
    err = capsys.readouterr().err
    assert f"cannot reach a Dask scheduler at {address} within 3s" in err
    assert "Traceback" not in err
    assert time.monotonic() - t0 < 60
    assert not (tmp_path / "out" / "tiny" / "runs").exists()


def test_a_real_backend_is_refused_on_a_cluster(tmp_path, capsys):
    sc = write_scenario(tmp_path)
    sc.write_text(sc.read_text().replace("  - {name: random, algorithm: random}", "  - {name: random, algorithm: random, backend: local}"))
    assert main(["compare", str(sc), "--out", str(tmp_path / "out"), "--no-png", "--scheduler", "tcp://127.0.0.1:1"]) == 2
    assert "variant 'random' runs its trials on backend 'local'" in capsys.readouterr().err


def _processing(address: str) -> dict[str, int]:
    """Tasks assigned to each worker (by name) right now."""
    from distributed import Client

    with Client(address, timeout=20, set_as_default=False) as c:
        names = {a: w["name"] for a, w in c.scheduler_info(n_workers=-1)["workers"].items()}
        return {names.get(a, a): len(keys) for a, keys in c.processing().items()}


def _start_compare(sc, out, address) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "katibsim.cli", "compare", str(sc), "--out", str(out), "--no-png", "--scheduler", address],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(ROOT),
    )


def _wait_for_results(out, n: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while len(list(out.glob("*/runs/*/seed-*.json"))) < n:
        assert proc.poll() is None, proc.communicate(timeout=10)
        assert time.monotonic() < deadline, "no results in time"
        time.sleep(0.05)


@pytest.mark.slow
def test_a_worker_killed_mid_run_loses_nothing(tmp_path, cluster_factory):
    cluster = cluster_factory("a", "b")
    sc = write_scenario(tmp_path, name="kill", trials=20, seeds=6, candidates=1000)
    reference = tmp_path / "reference"
    assert main(["compare", str(sc), "--out", str(reference), "--jobs", "2", "--no-png"]) == 0
    out = tmp_path / "out"
    proc = _start_compare(sc, out, cluster.address)
    try:
        _wait_for_results(out, 1, proc)
        deadline = time.monotonic() + 60
        while _processing(cluster.address).get("a", 0) == 0:
            assert time.monotonic() < deadline and proc.poll() is None, "worker a never had a run to lose"
            time.sleep(0.05)
        unfinished = 12 - len(list(out.glob("*/runs/*/seed-*.json")))
        cluster.kill_worker("a")
        stdout, stderr = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    assert proc.returncode == 0, stderr
    assert unfinished > 0
    assert "(1 workers)" in stderr  # progress shows the cluster shrinking
    assert run_files(out) == run_files(reference)


@pytest.mark.slow
def test_a_scheduler_that_goes_away_leaves_a_resumable_comparison(tmp_path, cluster_factory):
    cluster = cluster_factory("a", "b")
    sc = write_scenario(tmp_path, name="lost", trials=20, seeds=6, candidates=1000)
    reference = tmp_path / "reference"
    assert main(["compare", str(sc), "--out", str(reference), "--jobs", "2", "--no-png"]) == 0
    want = run_files(reference)
    out = tmp_path / "out"
    proc = _start_compare(sc, out, cluster.address)
    try:
        _wait_for_results(out, 2, proc)
        cluster.kill_scheduler()
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    assert proc.returncode == 2, stderr
    assert f"lost the Dask scheduler at {cluster.address}" in stderr and "--resume" in stderr
    assert "Traceback" not in stderr
    got = run_files(out)
    assert 2 <= len(got) < len(want)
    assert all(want[k] == v for k, v in got.items())  # everything on disk is a finished run
    assert main(["compare", str(sc), "--out", str(out), "--jobs", "2", "--no-png", "--resume"]) == 0
    assert run_files(out) == want
