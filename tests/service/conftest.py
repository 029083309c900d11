"""Real gRPC on loopback: a ``katibsim serve`` server in this process on a free 127.0.0.1 port."""

from __future__ import annotations

import textwrap
import threading
from concurrent import futures
from pathlib import Path

import pytest

pytest.importorskip("grpc", reason="the grpc extra is not installed (make venv installs it)")

from katibsim.service.server import build_server  # noqa: E402


class Served:
    """A started server, its address and its suggestion servicer; ``restart()`` starts a fresh
    one (no state kept) on the same port, as a restarted pod would."""

    def __init__(self, **kwargs) -> None:
        self.kwargs = kwargs
        self.server, self.port, self.suggestion = build_server(host="127.0.0.1", port=0, **kwargs)
        self.server.start()
        self.address = f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.stop(grace=None).wait()

    def restart(self, after: float = 0.0) -> None:
        """Stop now; start a fresh server on the same port ``after`` seconds later (in a thread)."""
        self.stop()

        def start() -> None:
            self.server, _, self.suggestion = build_server(host="127.0.0.1", port=self.port, **self.kwargs)
            self.server.start()

        if after <= 0:
            start()
        else:
            self._starter = threading.Timer(after, start)
            self._starter.start()

    def join(self) -> None:
        starter = getattr(self, "_starter", None)
        if starter is not None:
            starter.join()


@pytest.fixture
def fake():
    """A Suggestion service of the test's own (any ``SuggestionServicer``) on a free loopback
    port: ``fake(servicer)`` starts it and returns its address."""
    import grpc

    from katibsim.service.proto import api_pb2_grpc as api_grpc

    servers = []

    def start(servicer) -> str:
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        api_grpc.add_SuggestionServicer_to_server(servicer, server)
        port = server.add_insecure_port("127.0.0.1:0")
        server.start()
        servers.append(server)
        return f"127.0.0.1:{port}"

    yield start
    for s in servers:
        s.stop(None)


@pytest.fixture
def served():
    made: list[Served] = []

    def start(**kwargs) -> Served:
        s = Served(**kwargs)
        made.append(s)
        return s

    yield start
    for s in made:
        s.join()
        s.stop()


SMALL = """\
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: {name}
  namespace: kubeflow
spec:
  objective:
    type: minimize
    objectiveMetricName: branin
  algorithm:
    algorithmName: {algorithm}
  parallelTrialCount: 3
  maxTrialCount: 9
  maxFailedTrialCount: 3
  parameters:
    - name: x
      parameterType: double
      feasibleSpace: {{min: "-5", max: "10", step: "2.5"}}
    - name: y
      parameterType: double
      feasibleSpace: {{min: "0", max: "15", step: "2.5"}}
  trialTemplate:
    primaryContainerName: training
    trialParameters:
      - {{name: x, reference: x}}
      - {{name: y, reference: y}}
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        template:
          spec:
            restartPolicy: Never
            containers:
              - name: training
                image: busybox
                command: ["sh", "-c", "echo branin=1 ${{trialParameters.x}} ${{trialParameters.y}}"]
"""


@pytest.fixture
def small_experiment(tmp_path: Path):
    def write(algorithm: str, name: str = "small", extra: str = "") -> Path:
        path = tmp_path / f"{name}-{algorithm}.yaml"
        text = SMALL.format(name=name, algorithm=algorithm)
        if extra:
            text = text.replace("  parameters:\n", textwrap.indent(extra, "  ") + "  parameters:\n", 1)
        path.write_text(text, encoding="utf-8")
        return path

    return write
