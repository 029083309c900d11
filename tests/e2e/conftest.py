"""The kind e2e suite's set-up: is there a cluster, and why not; the port, recorded for snapshots.

The tests here need the kind cluster of context ``kind-katibsim`` (``katibsim kind up``, or the
``e2e-kind`` workflow). Where it is missing they skip with the precise reason, found once per
session: no such context, the API server unreachable, or a CRD not installed. Every object the
tests read through the port is written to ``artifacts/snapshots/<test>.json`` at the end, so real
object shapes can become fixtures of the fast tests (``docs/kind.md#fakes``).
"""

from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

CONTEXT = os.environ.get("KATIBSIM_KUBE_CONTEXT") or "kind-katibsim"
ARTIFACTS = Path(os.environ.get("KATIBSIM_ARTIFACTS", "artifacts"))
IMAGE = os.environ.get("KATIBSIM_E2E_IMAGE", "katibsim-trainer:0.1")
NAMESPACE = os.environ.get("KATIBSIM_E2E_NAMESPACE", "default")


@lru_cache(maxsize=None)
def cluster_problem(need: str = "") -> str | None:
    """Why the e2e tests cannot run here (None when they can). ``need``: "", "tfjob" or "katib"."""
    try:
        from katibsim.k8s.client import KubeClient, RetryPolicy
        from katibsim.k8s.errors import ApiUnreachable, CrdMissing, KubeConfigError, KubeError
    except ImportError as exc:  # pragma: no cover
        return f"katibsim.k8s cannot be imported: {exc}"
    try:
        kube = KubeClient.from_kubeconfig(context=CONTEXT, retry=RetryPolicy(attempts=2, deadline=10,
                                                                             request_timeout=(3.0, 10.0)))
    except KubeConfigError as exc:
        return f"kubeconfig context {CONTEXT!r} not found ({exc})"
    try:
        kube.server_version()
        if need == "tfjob":
            kube.resource("kubeflow.org/v1", "TFJob")
        if need == "katib":
            kube.resource("kubeflow.org/v1beta1", "Experiment")
    except ApiUnreachable as exc:
        return f"API server at {kube.server} unreachable: {exc.why}"
    except CrdMissing:
        return ("CRD tfjobs.kubeflow.org not installed (TFJob tests)" if need == "tfjob"
                else "Katib CRDs not installed (Katib-mode tests)")
    except KubeError as exc:
        return f"cluster {CONTEXT} not usable: {exc}"
    finally:
        kube.close()
    return None


def require_cluster(need: str = "") -> None:
    problem = cluster_problem(need)
    if problem:
        pytest.skip(problem)


class RecordingKube:
    """The real port, with every object it returned kept for the snapshot."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.seen: dict[str, dict] = {}

    def _keep(self, obj: Any) -> None:
        if isinstance(obj, dict) and obj.get("metadata"):
            m = obj["metadata"]
            self.seen[f"{obj.get('kind', '?')}/{m.get('namespace', '')}/{m.get('name')}"] = obj

    def get(self, *a: Any, **k: Any) -> Any:
        obj = self.inner.get(*a, **k)
        self._keep(obj)
        return obj

    def list(self, *a: Any, **k: Any) -> Any:
        items, rv = self.inner.list(*a, **k)
        for o in items:
            self._keep(o)
        return items, rv

    def create(self, *a: Any, **k: Any) -> Any:
        obj = self.inner.create(*a, **k)
        self._keep(obj)
        return obj

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.fixture
def kube(request):
    from katibsim.k8s.client import KubeClient

    require_cluster()  # skip (with the reason) before anything touches the cluster
    real = KubeClient.from_kubeconfig(context=CONTEXT)
    rec = RecordingKube(real)
    yield rec
    out = ARTIFACTS / "snapshots"
    out.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^\w.-]+", "_", request.node.name)
    (out / f"{name}.json").write_text(json.dumps(rec.seen, indent=1, sort_keys=True, default=str))
    real.close()


@pytest.fixture
def shared_dir() -> str:
    return os.environ.get("KATIBSIM_SHARED_DIR") or "/tmp/katibsim-shared"
