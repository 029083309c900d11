"""Shared pieces of the workload tests: the shipped real trials and a Katib Trial object builder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "examples" / "workload"


def trial_object(name: str, params: dict[str, str], *, metrics: list[dict[str, str]] | None = None,
                 condition: str = "Succeeded", objective: dict[str, Any] | None = None,
                 created: str = "2026-01-01T00:00:00Z", ended: str | None = "2026-01-01T00:01:00Z",
                 experiment: str = "exp") -> dict[str, Any]:
    """A v1beta1 Trial as Katib writes it (only the fields the readers look at, plus a few more)."""
    conditions = [
        {"type": "Created", "status": "True", "reason": "TrialCreated", "message": "Trial is created",
         "lastTransitionTime": created, "lastUpdateTime": created},
        {"type": "Running", "status": "True" if condition in ("Running", "EarlyStopped") else "False",
         "reason": "TrialRunning", "message": "Trial is running", "lastTransitionTime": created,
         "lastUpdateTime": created},
    ]
    if condition != "Running":
        conditions.append({"type": condition, "status": "True", "reason": f"Trial{condition}", "message": "",
                           "lastTransitionTime": ended, "lastUpdateTime": ended})
    status: dict[str, Any] = {"conditions": conditions, "startTime": created,
                              "completionTime": ended if condition not in ("Running", "EarlyStopped") else None}
    if metrics is not None:
        status["observation"] = {"metrics": metrics}
    return {
        "apiVersion": "kubeflow.org/v1beta1", "kind": "Trial",
        "metadata": {"name": name, "namespace": "kubeflow", "creationTimestamp": created,
                     "labels": {"katib.kubeflow.org/experiment": experiment}},
        "spec": {"objective": objective or {"type": "maximize", "objectiveMetricName": "acc"},
                 "parameterAssignments": [{"name": k, "value": v} for k, v in params.items()]},
        "status": status,
    }


def metric(name: str, lo: float, hi: float, latest: float) -> dict[str, str]:
    return {"name": name, "min": str(lo), "max": str(hi), "latest": str(latest)}


def write_list(path: Path, items: list[dict[str, Any]]) -> Path:
    path.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": items,
                                    "metadata": {"resourceVersion": ""}}, sort_keys=False), encoding="utf-8")
    return path


def experiment_object(parameters: list[dict[str, Any]], *, name: str = "exp", objective: dict[str, Any] | None = None,
                      algorithm: str = "random") -> dict[str, Any]:
    return {
        "apiVersion": "kubeflow.org/v1beta1", "kind": "Experiment",
        "metadata": {"name": name, "namespace": "kubeflow"},
        "spec": {
            "objective": objective or {"type": "maximize", "objectiveMetricName": "acc"},
            "algorithm": {"algorithmName": algorithm},
            "parallelTrialCount": 2, "maxTrialCount": 10,
            "parameters": parameters,
            "trialTemplate": {"primaryContainerName": "main", "trialParameters": [],
                              "trialSpec": {"apiVersion": "batch/v1", "kind": "Job", "spec": {"template": {"spec": {
                                  "containers": [{"name": "main", "image": "busybox", "command": ["true"]}]}}}}},
        },
    }
