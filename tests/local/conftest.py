"""Helpers for the local backend's tests: small Experiments around the tiny trainer and a fake one."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from katibsim.spec.loader import load_experiment

ROOT = Path(__file__).resolve().parents[2]
TRAINER = ROOT / "examples" / "trainers" / "mnist_with_summaries.py"
FAKE = Path(__file__).resolve().with_name("fake_trainer.py")
KATIBSIM = [str(Path(sys.executable).with_name("katibsim"))]

# The image paths the test experiments use; the tests map them to the local scripts.
TRAINER_IN_IMAGE = "/opt/trainer/mnist_with_summaries.py"
FAKE_IN_IMAGE = "/opt/fake/fake_trainer.py"
TRAINER_MAP = f"{TRAINER_IN_IMAGE}={TRAINER}"
FAKE_MAP = f"{FAKE_IN_IMAGE}={FAKE}"


def experiment_doc(
    name: str,
    *,
    parameters: list[dict[str, Any]],
    command: list[str],
    objective: str = "accuracy_1",
    collector: dict[str, Any] | None = None,
    algorithm: dict[str, Any] | None = None,
    parallel: int = 3,
    max_trials: int = 3,
    max_failed: int | None = None,
    early_stopping: dict[str, Any] | None = None,
    retain: bool = False,
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A v1beta1 Experiment whose trial is a batch/v1 Job running ``command`` (``${trialParameters.<p>}``
    placeholders for every parameter ``p``, named after the parameter without dashes)."""
    trial_parameters = [{"name": p["name"].lstrip("-").replace("-", "_"), "reference": p["name"]} for p in parameters]
    spec: dict[str, Any] = {
        "parallelTrialCount": parallel,
        "maxTrialCount": max_trials,
        "objective": {"type": "maximize", "objectiveMetricName": objective},
        "algorithm": algorithm or {"algorithmName": "random"},
        "parameters": parameters,
        "trialTemplate": {
            "primaryContainerName": "training",
            "retain": retain,
            "trialParameters": trial_parameters,
            "trialSpec": {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [
                    {"name": "training", "image": "example.com/trainer:1", "command": command},
                ]}}},
            },
        },
    }
    if max_failed is not None:
        spec["maxFailedTrialCount"] = max_failed
    if collector is not None:
        spec["metricsCollectorSpec"] = collector
    if early_stopping is not None:
        spec["earlyStopping"] = early_stopping
    meta: dict[str, Any] = {"name": name, "namespace": "kubeflow"}
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "kubeflow.org/v1beta1", "kind": "Experiment", "metadata": meta, "spec": spec}


def write_experiment(tmp_path: Path, doc: dict[str, Any], filename: str = "experiment.yaml") -> Path:
    path = tmp_path / filename
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def load(tmp_path: Path, doc: dict[str, Any]):
    return load_experiment(write_experiment(tmp_path, doc))


def run_local(exp, out: Path, *, mapping=(), timeout=None, seed=0, resume=False, progress=None):
    from katibsim.backends.execute import execute
    from katibsim.backends.local import LocalBackend

    backend = LocalBackend(out_dir=out, mapping=list(mapping), timeout=timeout, resume=resume, progress=progress,
                           handle_signals=False, kill_grace=1.0)
    return execute(exp, backend, seed=seed)


def alive(pid: int) -> bool:
    """Whether ``pid`` is a live process: ``os.kill(pid, 0)`` succeeds and it is not a zombie
    waiting for a parent that does not reap (this machine's init may not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.fixture
def trainer_env(monkeypatch):
    """The tiny trainer on one thread (several run at once on a small machine)."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(var, "1")
