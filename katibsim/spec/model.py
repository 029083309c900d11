"""The internal Experiment model: Katib v1beta1's ExperimentSpec as frozen dataclasses.

v1alpha3 documents are converted into this model on load (``katibsim.spec.loader``); the
original apiVersion is kept in ``Experiment.source_api_version``. Values that Katib keeps as
strings (feasibleSpace numbers, setting values) stay strings here; ``Experiment.search_space()``
parses them into typed parameters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

V1BETA1 = "kubeflow.org/v1beta1"
V1ALPHA3 = "kubeflow.org/v1alpha3"


def default_metric_strategy(objective_type: str | None) -> str:
    """The strategy Katib's defaulter gives a metric with no entry: min, max, else latest (§1.2).

    The one copy of the rule: :mod:`katibsim.spec.defaults` applies it, and
    :meth:`ObjectiveSpec.strategy_for` answers with it for a metric that has no entry."""
    if objective_type == "minimize":
        return "min"
    if objective_type == "maximize":
        return "max"
    return "latest"


@dataclass(frozen=True)
class FeasibleSpace:
    min: str | None = None
    max: str | None = None
    list: tuple[str, ...] | None = None
    step: str | None = None
    distribution: str | None = None


@dataclass(frozen=True)
class ParameterSpec:
    name: str
    parameter_type: str
    feasible_space: FeasibleSpace = field(default_factory=FeasibleSpace)


@dataclass(frozen=True)
class MetricStrategy:
    name: str
    value: str  # "min" | "max" | "latest"


@dataclass(frozen=True)
class ObjectiveSpec:
    type: str | None = None  # "minimize" | "maximize"
    goal: float | None = None
    objective_metric_name: str | None = None
    additional_metric_names: tuple[str, ...] = ()
    metric_strategies: tuple[MetricStrategy, ...] = ()

    def strategy_for(self, metric: str) -> str:
        """The metric strategy (min/max/latest) Katib uses for ``metric``: its entry, else the default."""
        for s in self.metric_strategies:
            if s.name == metric:
                return s.value
        # Imported here because the defaults module builds on this one; it owns the rule.

        return default_metric_strategy(self.type)


@dataclass(frozen=True)
class AlgorithmSetting:
    name: str
    value: str


@dataclass(frozen=True)
class AlgorithmSpec:
    """``spec.algorithm`` and ``spec.earlyStopping`` share this shape."""

    algorithm_name: str | None = None
    algorithm_settings: tuple[AlgorithmSetting, ...] = ()

    def settings(self) -> dict[str, str]:
        return {s.name: s.value for s in self.algorithm_settings}


@dataclass(frozen=True)
class TrialParameterSpec:
    name: str
    reference: str
    description: str = ""


@dataclass(frozen=True)
class TrialTemplate:
    """``spec.trialTemplate``. ``trial_spec`` is the raw manifest (a plain dict, not to be mutated).

    For a converted v1alpha3 experiment ``go_template`` holds ``goTemplate.rawTemplate`` and
    ``trial_spec`` is None; rendering then goes through the Go-template renderer.
    """

    retain: bool = False
    trial_spec: Mapping[str, Any] | None = None
    config_map: Mapping[str, Any] | None = None
    trial_parameters: tuple[TrialParameterSpec, ...] | None = None
    primary_pod_labels: Mapping[str, str] | None = None
    primary_container_name: str | None = None
    success_condition: str | None = None
    failure_condition: str | None = None
    go_template: str | None = None
    go_template_spec: Mapping[str, Any] | None = None  # v1alpha3 templateSpec (ConfigMap)

    @property
    def kind(self) -> str | None:
        if self.trial_spec is not None:
            kind = self.trial_spec.get("kind")
            return kind if isinstance(kind, str) else None
        return None


@dataclass(frozen=True)
class FileSystemPath:
    path: str | None = None
    kind: str | None = None  # "File" | "Directory"
    format: str | None = None  # "TEXT" | "JSON"


@dataclass(frozen=True)
class MetricsCollectorSpec:
    kind: str = "StdOut"  # StdOut | File | TensorFlowEvent | PrometheusMetric | Custom | Push (| None in v1alpha3)
    file_system_path: FileSystemPath | None = None
    metrics_format: tuple[str, ...] | None = None  # source.filter.metricsFormat
    http_get: Mapping[str, Any] | None = None
    custom_collector: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ExperimentSpec:
    parameters: tuple[ParameterSpec, ...] = ()
    objective: ObjectiveSpec | None = None
    algorithm: AlgorithmSpec | None = None
    early_stopping: AlgorithmSpec | None = None
    trial_template: TrialTemplate | None = None
    parallel_trial_count: int | None = None
    max_trial_count: int | None = None
    max_failed_trial_count: int | None = None
    metrics_collector_spec: MetricsCollectorSpec | None = None
    resume_policy: str | None = None
    nas_config: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Experiment:
    """One Katib Experiment, defaulted, in the internal v1beta1 model."""

    name: str
    namespace: str
    spec: ExperimentSpec
    api_version: str = V1BETA1
    source_api_version: str = V1BETA1
    source_file: str | None = None
    document_index: int = 0
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def search_space(self):  # -> katibsim.spec.space.SearchSpace
        """The typed search space of ``spec.parameters`` (raises SpecError on unparsable numbers)."""
        from katibsim.spec.space import SearchSpace

        return SearchSpace.from_specs(self.spec.parameters, file=self.source_file)

    @property
    def objective_metric(self) -> str:
        assert self.spec.objective is not None and self.spec.objective.objective_metric_name
        return self.spec.objective.objective_metric_name

    @property
    def maximize(self) -> bool:
        return self.spec.objective is not None and self.spec.objective.type == "maximize"
