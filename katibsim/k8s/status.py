"""Cluster objects read as trial states: pure functions over Job, TFJob and Pod dictionaries.

- :func:`job_status` — Katib's trial-controller rule (``docs/katib-behaviour.md`` §3.9 step 4): the failure
  condition first, then the success condition, else the job counts as running from creation.
  Interim conditions such as a Job's ``SuccessCriteriaMet`` or ``FailureTarget`` match neither
  default and are ignored, as they must be (``docs/kind.md#jobs``).
- :func:`image_pull_problem` — a pod that cannot pull its image, from its container statuses.
- :func:`primary_pods` — the pods whose log or files Katib's collector reads (``primaryPodLabels``).
- :func:`pod_failure` — why a pod failed, in one line, for the trial's message.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Iterable, Mapping

from katibsim.k8s.conditions import match

IMAGE_PULL_REASONS = frozenset(
    {"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull", "RegistryUnavailable"}
)


class Phase(StrEnum):
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"


@dataclass(frozen=True)
class JobStatus:
    phase: Phase
    reason: str = ""
    message: str = ""


def job_status(obj: Mapping[str, Any], success_condition: str, failure_condition: str) -> JobStatus:
    """The trial's job status by Katib's rule (failure first); RUNNING while neither matches."""
    failed = match(failure_condition, obj)
    if failed is not None:
        return JobStatus(Phase.FAILED, str(failed.get("reason") or ""), str(failed.get("message") or ""))
    done = match(success_condition, obj)
    if done is not None:
        return JobStatus(Phase.SUCCEEDED, str(done.get("reason") or ""), str(done.get("message") or ""))
    return JobStatus(Phase.RUNNING)


@dataclass(frozen=True)
class ImagePullProblem:
    pod: str
    container: str
    image: str
    reason: str
    message: str


def _statuses(pod: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    status = pod.get("status") or {}
    for key in ("initContainerStatuses", "containerStatuses"):
        for cs in status.get(key) or ():
            if isinstance(cs, Mapping):
                yield cs


def image_pull_problem(pod: Mapping[str, Any]) -> ImagePullProblem | None:
    """The first container waiting on an image it cannot pull, None when there is none."""
    name = str((pod.get("metadata") or {}).get("name") or "")
    for cs in _statuses(pod):
        waiting = (cs.get("state") or {}).get("waiting") or {}
        reason = waiting.get("reason")
        if reason in IMAGE_PULL_REASONS:
            return ImagePullProblem(name, str(cs.get("name") or ""), str(cs.get("image") or ""), str(reason),
                                    str(waiting.get("message") or ""))
    return None


def pod_failure(pod: Mapping[str, Any]) -> str:
    """One line on why a pod failed: each terminated container's exit code, reason and message."""
    parts = []
    for cs in _statuses(pod):
        term = (cs.get("state") or {}).get("terminated") or (cs.get("lastState") or {}).get("terminated")
        if term and term.get("exitCode", 0) != 0:
            text = f"container {cs.get('name')} exited with code {term.get('exitCode')}"
            if term.get("reason"):
                text += f" ({term['reason']})"
            if term.get("message"):
                text += f": {str(term['message']).strip()}"
            parts.append(text)
    status = pod.get("status") or {}
    if not parts and status.get("reason"):
        parts.append(f"pod {status.get('reason')}: {status.get('message') or ''}".rstrip(": "))
    return "; ".join(parts)


def labels_match(labels: Mapping[str, str] | None, wanted: Mapping[str, str]) -> bool:
    labels = labels or {}
    return all(labels.get(k) == v for k, v in wanted.items())


def _created(pod: Mapping[str, Any]) -> str:
    return str((pod.get("metadata") or {}).get("creationTimestamp") or "")


def primary_pods(pods: Iterable[Mapping[str, Any]], primary_labels: Mapping[str, str] | None) -> list[Mapping[str, Any]]:
    """The trial's pods that Katib's collector would read, oldest first.

    Katib injects its collector into pods carrying every ``primaryPodLabels`` entry; without
    primaryPodLabels (a Job) every pod of the trial is primary. A Job that retried has several:
    the last one is the run that counts.
    """
    chosen = [p for p in pods if labels_match((p.get("metadata") or {}).get("labels"), primary_labels or {})]
    return sorted(chosen, key=lambda p: (_created(p), str((p.get("metadata") or {}).get("name"))))


def pod_phase(pod: Mapping[str, Any]) -> str:
    return str((pod.get("status") or {}).get("phase") or "Pending")


def pod_started(pod: Mapping[str, Any]) -> bool:
    return pod_phase(pod) in ("Running", "Succeeded", "Failed")


def pod_name(pod: Mapping[str, Any]) -> str:
    return str((pod.get("metadata") or {}).get("name") or "")


__all__ = [
    "IMAGE_PULL_REASONS", "Phase", "JobStatus", "job_status", "ImagePullProblem", "image_pull_problem",
    "pod_failure", "labels_match", "primary_pods", "pod_phase", "pod_started", "pod_name",
]
