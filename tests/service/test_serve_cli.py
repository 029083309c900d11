"""``katibsim serve`` as a process: listens, answers health and calls, stops cleanly on SIGTERM and Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from katibsim.cli import main


def _start(*args: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "katibsim.cli", "serve", "--host", "127.0.0.1", "--port", "0", *args],
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert proc.stderr is not None
    line = proc.stderr.readline()  # the server prints it once the port is bound
    m = re.search(r"listening on (127\.0\.0\.1:\d+)", line)
    assert m, line
    return proc, m.group(1)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_answers_health_and_stops_cleanly(sig, small_experiment, capsys):
    proc, address = _start("--algorithm", "random", "--early-stopping", "medianstop")
    try:
        stub = health_pb2_grpc.HealthStub(grpc.insecure_channel(address))
        assert stub.Check(health_pb2.HealthCheckRequest(), timeout=10).status == health_pb2.HealthCheckResponse.SERVING
        assert main(["simulate", str(small_experiment("random")), "--objective", "branin", "-o", "table",
                     "--suggestion-service", address]) == 0
        capsys.readouterr()
    finally:
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert "katibsim serve: stopped" in err
    # One log line per call: the validation and every GetSuggestions.
    assert err.count("ValidateAlgorithmSettings experiment=small") == 1
    assert re.search(r"GetSuggestions experiment=small algorithm=random trials=0 current=3 total=3 \(built\) -> 3 assignment", err)


def test_serve_refuses_unknown_names(capsys):
    assert main(["serve", "--algorithm", "nope"]) == 2
    assert "unknown algorithm nope" in capsys.readouterr().err
    assert main(["serve", "--early-stopping", "nope"]) == 2


def test_server_process_killed_mid_experiment_and_restarted(small_experiment, capsys):
    """SIGKILL the serve process during a run, start another on the same port: the client waits
    for it (as Katib's controller reconciles until the pod is back), the new process rebuilds katibsim-bo
    from the trials it is sent, and the run is the in-process run."""
    import socket
    import threading

    from katibsim.service import client as client_mod

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    args = ["--port", str(port), "--algorithm", "katibsim-bo"]
    procs = []

    def start() -> None:
        proc = subprocess.Popen([sys.executable, "-m", "katibsim.cli", "serve", "--host", "127.0.0.1", *args],
                                stderr=subprocess.PIPE, text=True)
        procs.append(proc)
        proc.stderr.readline()

    start()
    path = str(small_experiment("katibsim-bo"))
    assert main(["simulate", path, "--objective", "branin", "-o", "json"]) == 0
    local = capsys.readouterr().out
    original = client_mod.RemoteAlgorithm._call
    calls = {"n": 0}
    starter = threading.Thread(target=start)

    def killing_call(self, request):
        calls["n"] += 1
        if calls["n"] == 2:
            procs[0].kill()
            procs[0].wait()
            starter.start()  # the new process needs a few seconds: this call finds nobody there
        return original(self, request)

    client_mod.RemoteAlgorithm._call = killing_call
    try:
        rc = main(["simulate", path, "--objective", "branin", "-o", "json", "--suggestion-service", f"127.0.0.1:{port}"])
        out, err = capsys.readouterr()
    finally:
        client_mod.RemoteAlgorithm._call = original
        starter.join()
        for p in procs:
            p.terminate()
        logs = [p.communicate(timeout=30)[1] for p in procs]
    assert rc == 0, err
    assert out == local
    assert len(procs) == 2 and procs[0].returncode == -signal.SIGKILL
    assert "(built)" in logs[1]  # the second process built its own algorithm from the history
