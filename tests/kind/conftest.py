"""Fixtures for the kind backend's fast tests: a FakeKubeAPIServer, a kubeconfig pointing at it,
and small Experiments (Job and TFJob trials) shaped like Katib's examples."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fake_apiserver import FakeKubeAPIServer  # noqa: E402

from katibsim.backends.base import RunContext  # noqa: E402
from katibsim.engine.options import SimulationOptions  # noqa: E402
from katibsim.spec.loader import experiment_from_dict  # noqa: E402

JOB_EXPERIMENT: dict[str, Any] = {
    "apiVersion": "kubeflow.org/v1beta1",
    "kind": "Experiment",
    "metadata": {"name": "job-exp", "namespace": "default"},
    "spec": {
        "objective": {"type": "maximize", "goal": 0.99, "objectiveMetricName": "accuracy",
                      "additionalMetricNames": ["loss"]},
        "algorithm": {"algorithmName": "random", "algorithmSettings": [{"name": "random_state", "value": "7"}]},
        "parallelTrialCount": 2,
        "maxTrialCount": 4,
        "maxFailedTrialCount": 3,
        "parameters": [{"name": "lr", "parameterType": "double", "feasibleSpace": {"min": "0.01", "max": "0.1"}}],
        "trialTemplate": {
            "primaryContainerName": "training",
            "trialParameters": [{"name": "learningRate", "reference": "lr"}],
            "trialSpec": {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "spec": {"template": {"spec": {
                    "containers": [{"name": "training", "image": "katibsim-trainer:0.1",
                                    "command": ["python", "/opt/train.py", "--lr=${trialParameters.learningRate}"]}],
                    "restartPolicy": "Never"}}},
            },
        },
    },
}

TFJOB_EXPERIMENT: dict[str, Any] = {
    "apiVersion": "kubeflow.org/v1beta1",
    "kind": "Experiment",
    "metadata": {"name": "tfjob-exp", "namespace": "kubeflow"},
    "spec": {
        "objective": {"type": "maximize", "objectiveMetricName": "accuracy_1"},
        "algorithm": {"algorithmName": "random"},
        "parallelTrialCount": 1,
        "maxTrialCount": 1,
        "metricsCollectorSpec": {"source": {"fileSystemPath": {"path": "/train", "kind": "Directory"}},
                                 "collector": {"kind": "TensorFlowEvent"}},
        "parameters": [{"name": "lr", "parameterType": "double", "feasibleSpace": {"min": "0.01", "max": "0.05"}}],
        "trialTemplate": {
            "primaryContainerName": "tensorflow",
            "trialParameters": [{"name": "learningRate", "reference": "lr"}],
            "trialSpec": {
                "apiVersion": "kubeflow.org/v1",
                "kind": "TFJob",
                "spec": {"tfReplicaSpecs": {"Worker": {"replicas": 1, "restartPolicy": "OnFailure", "template": {
                    "spec": {"containers": [{"name": "tensorflow", "image": "katibsim-trainer:0.1",
                                             "command": ["python", "/opt/mnist_with_summaries.py",
                                                         "--log_dir=/train/metrics",
                                                         "--learning_rate=${trialParameters.learningRate}"]}]}}}}},
            },
        },
    },
}


def experiment(doc: dict, **spec_changes: Any):
    import copy

    d = copy.deepcopy(doc)
    d["spec"].update(spec_changes)
    return experiment_from_dict(d, file="test.yaml")


def context_for(exp, output_dir: str | None = None) -> RunContext:
    obj = exp.spec.objective
    names = (obj.objective_metric_name,) + tuple(m for m in obj.additional_metric_names if m != obj.objective_metric_name)
    return RunContext(experiment=exp, options=SimulationOptions(), metric_names=names,
                      maximize=obj.type == "maximize", noise_rng=np.random.default_rng(0),
                      failure_rng=np.random.default_rng(1), output_dir=output_dir)


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    d = tmp_path / "shared"
    d.mkdir()
    return d


@pytest.fixture
def fake(shared: Path):
    with FakeKubeAPIServer(host_dir=str(shared)) as server:
        yield server


@pytest.fixture
def kubeconfig(fake: FakeKubeAPIServer, tmp_path: Path) -> Path:
    return fake.kubeconfig(tmp_path / "kubeconfig")
