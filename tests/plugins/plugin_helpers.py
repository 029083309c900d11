"""Helpers for the plugin tests: spaces and experiments built from Katib-shaped specs (imported by name)."""

from __future__ import annotations

from typing import Any

from katibsim.spec.model import (
    AlgorithmSetting,
    AlgorithmSpec,
    Experiment,
    ExperimentSpec,
    FeasibleSpace,
    ObjectiveSpec,
    ParameterSpec,
)
from katibsim.spec.space import SearchSpace


def pspec(name: str, ptype: str, **fs: Any) -> ParameterSpec:
    if "list" in fs:
        fs["list"] = tuple(fs["list"])
    return ParameterSpec(name, ptype, FeasibleSpace(**fs))


def space_of(*specs: ParameterSpec) -> SearchSpace:
    return SearchSpace.from_specs(list(specs))


def experiment(
    *specs: ParameterSpec,
    algorithm: str = "random",
    settings: dict[str, str] | None = None,
    max_trial_count: int | None = 12,
    early_stopping: str | None = None,
    early_settings: dict[str, str] | None = None,
) -> Experiment:
    params = specs or (pspec("lr", "double", min="0.01", max="0.1"),)
    es = None
    if early_stopping is not None:
        es = AlgorithmSpec(early_stopping, tuple(AlgorithmSetting(k, v) for k, v in (early_settings or {}).items()))
    return Experiment(
        name="exp",
        namespace="kubeflow",
        spec=ExperimentSpec(
            parameters=tuple(params),
            objective=ObjectiveSpec(type="maximize", objective_metric_name="accuracy"),
            algorithm=AlgorithmSpec(algorithm, tuple(AlgorithmSetting(k, v) for k, v in (settings or {}).items())),
            early_stopping=es,
            parallel_trial_count=3,
            max_trial_count=max_trial_count,
        ),
        source_file="exp.yaml",
    )
