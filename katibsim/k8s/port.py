"""The port katibsim talks to a Kubernetes API server through, and its value types (no I/O here).

:class:`Kube` is what the kind backend and the Katib mode use: create, get, delete, list, pod
log, wait, on plain wire-format dictionaries. :class:`~katibsim.k8s.client.KubeClient` implements
it over the official client; the tests' fake API server is reached through that same adapter.
:class:`Resource` names a resource type; ``KNOWN`` holds the plurals of the kinds katibsim meets.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Mapping

from katibsim.k8s.errors import Forbidden


@dataclass(frozen=True)
class Resource:
    """A resource type: ``apiVersion``, ``kind``, its ``plural`` (the URL segment), namespaced or not."""

    api_version: str
    kind: str
    plural: str
    namespaced: bool = True

    @property
    def group(self) -> str:
        return self.api_version.split("/", 1)[0] if "/" in self.api_version else ""

    @property
    def version(self) -> str:
        return self.api_version.split("/", 1)[-1]

    def describe(self, name: str | None = None, namespace: str | None = None) -> str:
        what = f"{self.kind} {name}" if name else f"{self.plural}.{self.group or 'core'}"
        return f"{what} in namespace {namespace}" if namespace else what


POD = Resource("v1", "Pod", "pods")
POD_LOG = Resource("v1", "Pod", "pods/log")  # for RBAC messages: reading logs is `get` on pods/log
NAMESPACE = Resource("v1", "Namespace", "namespaces", namespaced=False)
# Plurals of the kinds katibsim meets, so the common ones need no discovery round trip.
KNOWN: dict[tuple[str, str], Resource] = {
    (r.api_version, r.kind): r
    for r in (
        Resource("batch/v1", "Job", "jobs"),
        Resource("kubeflow.org/v1", "TFJob", "tfjobs"),
        Resource("kubeflow.org/v1", "PyTorchJob", "pytorchjobs"),
        Resource("kubeflow.org/v1", "XGBoostJob", "xgboostjobs"),
        Resource("kubeflow.org/v1", "MPIJob", "mpijobs"),
        Resource("kubeflow.org/v1beta1", "Experiment", "experiments"),
        Resource("kubeflow.org/v1beta1", "Trial", "trials"),
        Resource("kubeflow.org/v1beta1", "Suggestion", "suggestions"),
        Resource("trainer.kubeflow.org/v1alpha1", "TrainJob", "trainjobs"),
        POD,
    )
}


@dataclass(frozen=True)
class WatchResult:
    """What a bounded watch saw: ``event`` (something changed), ``timeout`` or ``gone`` (410: list again)."""

    outcome: str
    resource_version: str | None = None


@dataclass
class CallStats:
    """Counts of what happened on the wire (for tests and the run's notes)."""

    requests: int = 0
    retries: int = 0
    conflicts_resolved: int = 0
    watch_gone: int = 0
    by_verb: dict[str, int] = field(default_factory=dict)


class Kube(ABC):
    """The port. Objects are dicts; ``None``/``False`` mean "not found" where noted."""

    server: str = ""
    context: str | None = None

    @abstractmethod
    def resource(self, api_version: str, kind: str) -> Resource:
        """The resource type of ``kind``; raises CrdMissing when the server does not serve it."""

    @abstractmethod
    def create(self, obj: Mapping[str, Any], *, owner: tuple[str, str] | None = None) -> dict:
        """Create ``obj``; on 409, the existing object when it carries label ``owner``, else AlreadyExists."""

    @abstractmethod
    def get(self, res: Resource, name: str, namespace: str | None) -> dict | None:
        """The object, None when it does not exist."""

    @abstractmethod
    def delete(self, res: Resource, name: str, namespace: str | None, *, propagation: str = "Background") -> bool:
        """Delete (dependents go too: ``Background`` or ``Foreground``); False when it was not there."""

    @abstractmethod
    def list(self, res: Resource, namespace: str | None, label_selector: str = "") -> tuple[list[dict], str]:
        """The matching objects and the list's resourceVersion."""

    @abstractmethod
    def pod_log(self, name: str, namespace: str, container: str | None = None, *, previous: bool = False) -> str | None:
        """The container's log as text (undecodable bytes replaced); None when the pod is gone."""

    @abstractmethod
    def wait_changes(self, res: Resource, namespace: str, label_selector: str, resource_version: str | None,
                     timeout: float) -> WatchResult:
        """Block up to ``timeout`` seconds until an object of the selection changes."""

    @abstractmethod
    def server_version(self) -> dict:
        """``GET /version``; raises ApiUnreachable when the server does not answer."""

    def namespace_exists(self, namespace: str) -> bool | None:
        """True/False, or None when the credentials may not read namespaces."""
        try:
            return self.get(NAMESPACE, namespace, None) is not None
        except Forbidden:
            return None

    def close(self) -> None:
        """Release connections."""
