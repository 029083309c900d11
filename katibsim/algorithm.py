"""The suggestion contract, mirroring Katib's GetSuggestions / ValidateAlgorithmSettings.

An algorithm plugin subclasses :class:`Algorithm`. It is built from the search space, what it
needs to know of the objective, its settings (strings, as in Katib) and a seed; it validates its
settings in ``__init__`` (raising :class:`SettingsError` with Katib's messages) and answers
``suggest(trials, count)`` with exactly ``count`` assignments inside the space. The host never
trusts an answer: :func:`checked_suggest` verifies it and names the plugin that broke it.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Mapping, Sequence

from katibsim.errors import FieldError, SpecError
from katibsim.spec.space import Distribution, ParameterType, SearchSpace, Value


class TrialCondition(StrEnum):
    """Katib's trial condition types (the last condition of a Trial's status)."""

    CREATED = "Created"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    KILLED = "Killed"
    FAILED = "Failed"
    METRICS_UNAVAILABLE = "MetricsUnavailable"
    EARLY_STOPPED = "EarlyStopped"

    @property
    def is_active(self) -> bool:
        return self in (TrialCondition.CREATED, TrialCondition.RUNNING)

    @property
    def is_completed(self) -> bool:
        return not self.is_active


@dataclass(frozen=True)
class Metric:
    """One observed metric with Katib v1beta1's min / max / latest (None = "unavailable")."""

    name: str
    min: float | None = None
    max: float | None = None
    latest: float | None = None

    def value(self, strategy: str) -> float | None:
        return {"min": self.min, "max": self.max, "latest": self.latest}[strategy]


@dataclass(frozen=True)
class Observation:
    metrics: tuple[Metric, ...] = ()

    def get(self, name: str) -> Metric | None:
        for m in self.metrics:
            if m.name == name:
                return m
        return None


@dataclass(frozen=True)
class Trial:
    """One trial as the algorithm sees it (Katib's ``api.Trial``).

    ``value`` is the objective metric under the experiment's metric strategy (None while running,
    for failed trials and when the metric is unavailable); algorithms should use it rather than
    dig into ``observation``. ``intermediate`` holds (step, value) reports of the objective metric.
    """

    name: str
    assignment: Mapping[str, Value]
    condition: TrialCondition
    value: float | None = None
    observation: Observation | None = None
    intermediate: tuple[tuple[int, float], ...] = ()
    start_time: float | None = None
    completion_time: float | None = None
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def has_value(self) -> bool:
        """True for a trial Katib's services would learn from: Succeeded or EarlyStopped with a finite value."""
        return (
            self.condition in (TrialCondition.SUCCEEDED, TrialCondition.EARLY_STOPPED)
            and self.value is not None
            and math.isfinite(self.value)
        )


@dataclass(frozen=True)
class ObjectiveInfo:
    """What an algorithm knows of the objective: ``spec.objective`` of the experiment."""

    metric_name: str
    maximize: bool
    goal: float | None = None
    additional_metric_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class SettingSpec:
    """One algorithm setting, for validation messages and ``katibsim plugins``."""

    name: str
    default: str | None
    description: str
    katib: bool = True  # a setting Katib's own service accepts (False: katibsim's addition)


@dataclass(frozen=True)
class Capabilities:
    parameter_types: frozenset[ParameterType] = frozenset(ParameterType)
    distributions: frozenset[Distribution] = frozenset(Distribution)
    double_needs_step: bool = False
    batch: bool = True
    multi_fidelity: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "parameter_types": sorted(t.value for t in self.parameter_types),
            "distributions": sorted(d.value for d in self.distributions),
            "double_needs_step": self.double_needs_step,
            "batch": self.batch,
            "multi_fidelity": self.multi_fidelity,
        }


class SettingsError(SpecError):
    """Invalid algorithm settings. ``setting`` names the offending key (None: the whole set).

    The host maps each error to ``spec.algorithm.algorithmSettings[i].value`` (or ``.name``).
    """

    def __init__(self, message: str, *, setting: str | None = None, on_name: bool = False):
        self.setting = setting
        self.on_name = on_name
        self.message = message
        super().__init__([FieldError(path="spec.algorithm.algorithmSettings", message=message)])


class Algorithm(ABC):
    """Base class of every suggestion algorithm.

    Subclasses set ``name``, ``capabilities``, ``settings_spec`` and implement ``suggest``.
    ``__init__`` must validate settings (call ``super().__init__`` first, which rejects unknown
    keys with Katib's message ``unknown setting <k> for algorithm <name>``).
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    capabilities: ClassVar[Capabilities] = Capabilities()
    settings_spec: ClassVar[tuple[SettingSpec, ...]] = ()

    def __init__(
        self,
        space: SearchSpace,
        objective: ObjectiveInfo,
        settings: Mapping[str, str] | None = None,
        seed: int | None = None,
        *,
        max_trial_count: int | None = None,
        parallel_trial_count: int | None = None,
    ) -> None:
        self.space = space
        self.objective = objective
        self.settings: dict[str, str] = dict(settings or {})
        self.seed = seed
        self.max_trial_count = max_trial_count
        self.parallel_trial_count = parallel_trial_count
        known = {s.name for s in self.settings_spec}
        for key in self.settings:
            if key not in known:
                raise SettingsError(f"unknown setting {key} for algorithm {self.name}", setting=key, on_name=True)

    def setting(self, key: str) -> str | None:
        """The user's value for ``key``, else the declared default."""
        if key in self.settings:
            return self.settings[key]
        for s in self.settings_spec:
            if s.name == key:
                return s.default
        raise KeyError(key)

    @abstractmethod
    def suggest(self, trials: Sequence[Trial], count: int) -> list[dict[str, Value]]:
        """Exactly ``count`` new assignments given the whole history ``trials``.

        Raise :class:`katibsim.errors.SearchSpaceExhausted` (with ``.assignments`` holding the
        fewer than ``count`` that remain) when the space has nothing new to give.
        """

    def introspect(self, trials: Sequence[Trial], **options: Any) -> Mapping[str, Any] | None:
        """Optional: model internals for reports (e.g. a GP's posterior over a 1-D grid)."""
        return None
