"""A rendered trial manifest made ready for a cluster: labels, namespace, the shared metrics folder.

Pure functions, dict in and dict out (``docs/kind.md#layers``, ``docs/katib-behaviour.md`` §7.1
and its appendix). :func:`prepare_trial`:

- sets ``metadata.namespace`` and labels the object *and every pod template* with Katib's
  experiment and trial labels (``katib.kubeflow.org/experiment``, ``katib.kubeflow.org/trial``)
  plus katibsim's owner labels (``app.kubernetes.io/managed-by: katibsim``, ``katibsim/run``),
  so a single label selector finds everything a run created and cleanup leaves nothing behind;
- for the File and TensorFlowEvent collectors, mounts a folder shared with the kind node
  (``kind-config.yaml`` maps ``/tmp/katibsim-shared`` on this machine to ``/katibsim-shared`` in
  the node) at the collector's path in the primary container, one sub-folder per pod
  (``subPathExpr: $(KATIBSIM_POD_NAME)``), so katibsim reads the primary pod's files from this
  machine once the trial ends — where Katib's collector sidecar reads them inside the pod (§6.1);
- says what may go wrong (an image tagged ``:latest`` after ``kind load``, a TTL or pod
  cleanup policy that deletes the logs before they are read) without changing the user's spec.
"""

from __future__ import annotations

import copy
import posixpath
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from katibsim.errors import InputError
from katibsim.spec.model import MetricsCollectorSpec

EXPERIMENT_LABEL = "katib.kubeflow.org/experiment"
TRIAL_LABEL = "katib.kubeflow.org/trial"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "katibsim"
RUN_LABEL = "katibsim/run"
POD_NAME_ENV = "KATIBSIM_POD_NAME"
METRICS_VOLUME = "katibsim-metrics"

DEFAULT_HOST_SHARED = "/tmp/katibsim-shared"
DEFAULT_NODE_SHARED = "/katibsim-shared"


@dataclass(frozen=True)
class SharedFolder:
    """A folder on this machine that the kind node mounts (``extraMounts`` in kind-config.yaml)."""

    host_dir: str = DEFAULT_HOST_SHARED
    node_dir: str = DEFAULT_NODE_SHARED

    def node_path(self, run_id: str, trial: str) -> str:
        return posixpath.join(self.node_dir, run_id, trial)

    def host_path(self, run_id: str, trial: str, pod: str | None = None) -> str:
        parts = [self.host_dir, run_id, trial] + ([pod] if pod else [])
        return posixpath.join(*parts)


@dataclass(frozen=True)
class PreparedTrial:
    """A manifest ready to create, and where its metrics will be.

    ``collector_dir`` is the folder (in the container) mounted from the shared folder, None for
    StdOut; ``collector_path`` the file or directory the collector reads, as the Experiment names
    it; ``host_dir`` the trial's folder on this machine (one sub-folder per pod below it).
    """

    manifest: dict
    name: str
    namespace: str
    selector: Mapping[str, str]
    primary_container: str
    collector_kind: str
    collector_dir: str | None = None
    collector_path: str | None = None
    host_dir: str | None = None
    warnings: tuple[str, ...] = ()

    def host_file(self, pod: str) -> str | None:
        """Where this machine reads pod ``pod``'s metrics file or event directory."""
        if self.host_dir is None or self.collector_path is None or self.collector_dir is None:
            return None
        rel = posixpath.relpath(self.collector_path, self.collector_dir)
        base = posixpath.join(self.host_dir, pod)
        return base if rel == "." else posixpath.join(base, rel)


def owner_labels(experiment: str, trial: str | None, run_id: str) -> dict[str, str]:
    labels = {EXPERIMENT_LABEL: experiment, MANAGED_BY_LABEL: MANAGED_BY, RUN_LABEL: run_id}
    if trial is not None:
        labels[TRIAL_LABEL] = trial
    return labels


def run_selector(run_id: str) -> str:
    """The label selector of everything one run created."""
    return f"{RUN_LABEL}={run_id}"


def selector_string(labels: Mapping[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def pod_templates(manifest: Mapping[str, Any]) -> Iterator[dict]:
    """Every pod template (a ``template`` holding ``spec.containers``) in the manifest's spec."""

    def walk(obj: Any) -> Iterator[dict]:
        if isinstance(obj, dict):
            for k, v in obj.items():
                if (k == "template" and isinstance(v, dict) and isinstance(v.get("spec"), dict)
                        and isinstance(v["spec"].get("containers"), list)):
                    yield v
                yield from walk(v)
        elif isinstance(obj, list):
            for v in obj:
                yield from walk(v)

    yield from walk(manifest.get("spec"))


def _labels_of(obj: dict) -> dict:
    meta = obj.setdefault("metadata", {})
    if not isinstance(meta, dict):
        raise InputError("the trial manifest's metadata is not an object")
    labels = meta.get("labels")
    if not isinstance(labels, dict):
        labels = {}
        meta["labels"] = labels
    return labels


def collector_mount(spec: MetricsCollectorSpec) -> tuple[str | None, str | None]:
    """(folder to mount, path the collector reads) inside the container; (None, None) for StdOut.

    Katib mounts the same folders for its sidecar (§6.1): the metrics file's directory for File,
    the directory itself for TensorFlowEvent.
    """
    if spec.kind == "StdOut":
        return None, None
    if spec.kind not in ("File", "TensorFlowEvent"):
        raise InputError(
            f"spec.metricsCollectorSpec.collector.kind: {spec.kind} cannot be collected by the kind backend; "
            "it reads StdOut, File and TensorFlowEvent"
        )
    fs = spec.file_system_path
    path = fs.path if fs is not None and fs.path else None
    if not path:
        raise InputError(f"spec.metricsCollectorSpec.source.fileSystemPath.path: the {spec.kind} collector needs a path")
    path = posixpath.normpath(path)
    kind = fs.kind if fs is not None and fs.kind else ("Directory" if spec.kind == "TensorFlowEvent" else "File")
    folder = path if kind == "Directory" else posixpath.dirname(path)
    if folder in ("", "/"):
        raise InputError(
            f"spec.metricsCollectorSpec.source.fileSystemPath.path: {path!r} would mount the shared folder over the "
            "container's root; put the metrics in a folder of their own"
        )
    return folder, path


def _image_warning(container: Mapping[str, Any]) -> str | None:
    image = str(container.get("image") or "")
    if not image:
        return None
    last = image.rsplit("/", 1)[-1]
    tag = last.split("@", 1)[0].partition(":")[2]
    policy = container.get("imagePullPolicy")
    if "@" not in last and tag in ("", "latest") and policy not in ("IfNotPresent", "Never"):
        return (f"container {container.get('name')}: image {image!r} is tagged :latest (or not tagged), so the kubelet "
                "always pulls it and an image loaded with `kind load docker-image` is not used; give it another tag "
                "or set imagePullPolicy: IfNotPresent")
    return None


def prepare_trial(
    manifest: Mapping[str, Any],
    *,
    experiment: str,
    trial: str,
    namespace: str,
    run_id: str,
    collector: MetricsCollectorSpec,
    primary_container: str,
    shared: SharedFolder | None,
) -> PreparedTrial:
    """The manifest to create for trial ``trial`` (see the module docstring); the input is not changed."""
    obj = copy.deepcopy(dict(manifest))
    meta = obj.setdefault("metadata", {})
    if not isinstance(meta, dict):
        raise InputError("the trial manifest's metadata is not an object")
    meta["name"] = trial
    meta["namespace"] = namespace
    labels = owner_labels(experiment, trial, run_id)
    _labels_of(obj).update(labels)
    templates = list(pod_templates(obj))
    if not templates:
        raise InputError(f"the {obj.get('kind')} trial has no pod template (a `template` with `spec.containers`)")

    folder, path = collector_mount(collector)
    host_dir = None
    if folder is not None and shared is None:
        raise InputError(
            f"the {collector.kind} collector reads files the trial writes inside its pod; the kind backend needs the "
            "folder shared with the kind node (kind-config.yaml mounts /tmp/katibsim-shared at /katibsim-shared)"
        )
    warnings: list[str] = []
    mounted = 0
    for tmpl in templates:
        _labels_of(tmpl).update(labels)
        pod = tmpl["spec"]
        for c in pod["containers"]:
            if not isinstance(c, dict):
                continue
            w = _image_warning(c)
            if w and w not in warnings:
                warnings.append(w)
            if folder is None or c.get("name") != primary_container:
                continue
            env = c.setdefault("env", [])
            if not any(isinstance(e, dict) and e.get("name") == POD_NAME_ENV for e in env):
                env.append({"name": POD_NAME_ENV, "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}})
            mounts = c.setdefault("volumeMounts", [])
            clash = [m for m in mounts if isinstance(m, dict) and posixpath.normpath(str(m.get("mountPath", ""))) == folder]
            for m in clash:
                warnings.append(f"container {primary_container}: its volume {m.get('name')!r} at {folder} is replaced "
                                "by the shared metrics folder so katibsim can read the collector's files")
                mounts.remove(m)
            mounts.append({"name": METRICS_VOLUME, "mountPath": folder, "subPathExpr": f"$({POD_NAME_ENV})"})
            mounted += 1
        if folder is not None and any(isinstance(c, dict) and c.get("name") == primary_container for c in pod["containers"]):
            volumes = pod.setdefault("volumes", [])
            volumes[:] = [v for v in volumes if not (isinstance(v, dict) and v.get("name") == METRICS_VOLUME)]
            assert shared is not None
            volumes.append({"name": METRICS_VOLUME,
                            "hostPath": {"path": shared.node_path(run_id, trial), "type": "DirectoryOrCreate"}})
    if folder is not None:
        assert shared is not None
        if not mounted:
            raise InputError(f"no container named {primary_container!r} in the trial's pod templates to mount the "
                             f"{collector.kind} collector's folder {folder} into")
        host_dir = shared.host_path(run_id, trial)

    spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else {}
    if obj.get("kind") == "Job" and spec.get("ttlSecondsAfterFinished") is not None:
        warnings.append("the Job sets ttlSecondsAfterFinished: if it is shorter than katibsim's poll interval, the Job "
                        "and its pods are gone before the metrics are read")
    run_policy = spec.get("runPolicy") if isinstance(spec.get("runPolicy"), dict) else {}
    if run_policy.get("cleanPodPolicy") in ("All", "Running") and collector.kind == "StdOut":
        warnings.append(f"runPolicy.cleanPodPolicy is {run_policy['cleanPodPolicy']}: the operator may delete the "
                        "pods, and their logs, before katibsim reads the metrics; None (the TFJob default) keeps them")
    return PreparedTrial(
        manifest=obj, name=trial, namespace=namespace, selector={TRIAL_LABEL: trial, RUN_LABEL: run_id},
        primary_container=primary_container, collector_kind=collector.kind, collector_dir=folder,
        collector_path=path, host_dir=host_dir, warnings=tuple(warnings),
    )


__all__ = [
    "EXPERIMENT_LABEL", "TRIAL_LABEL", "MANAGED_BY_LABEL", "MANAGED_BY", "RUN_LABEL", "POD_NAME_ENV",
    "METRICS_VOLUME", "SharedFolder", "PreparedTrial", "owner_labels", "run_selector", "selector_string",
    "pod_templates", "collector_mount", "prepare_trial",
]
