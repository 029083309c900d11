"""The suggestion contract, mirroring Katib's GetSuggestions / ValidateAlgorithmSettings.

An algorithm plugin subclasses :class:`Algorithm`. It is built from the search space, what it
needs to know of the objective, its settings (strings, as in Katib) and a seed; it validates its
settings in ``__init__`` (raising :class:`SettingsError` with Katib's messages) and answers
``suggest(trials, count)`` with exactly ``count`` assignments inside the space, treating
``trials`` as read-only. The host never trusts an answer: :func:`katibsim.suggest_check.checked_suggest`
verifies it and names the plugin that broke it.

This module is the plugin author's import: the contract plus the names a plugin needs
(the trial types of :mod:`katibsim.trial`, :class:`~katibsim.history_keys.HistoryKeys`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, Mapping, Sequence, TypeVar

from katibsim.errors import FieldError, SpecError
from katibsim.history_keys import HistoryKeys
from katibsim.spec.space import Distribution, ParameterType, SearchSpace, Value
from katibsim.trial import Metric, Observation, ReadOnlyHistory, Trial, TrialCondition

T = TypeVar("T")


def setting_value(settings: Mapping[str, str], spec: Sequence["SettingSpec"], key: str) -> str | None:
    """The user's value for ``key``, else the default declared in ``spec``; KeyError when undeclared.

    The one rule behind :meth:`Algorithm.setting` and the early-stopping contract's ``setting``.
    """
    if key in settings:
        return settings[key]
    for s in spec:
        if s.name == key:
            return s.default
    raise KeyError(key)


@dataclass(frozen=True)
class ObjectiveInfo:
    """What an algorithm knows of the objective: ``spec.objective`` of the experiment."""

    metric_name: str
    maximize: bool
    goal: float | None = None
    additional_metric_names: tuple[str, ...] = ()


def objective_info(experiment: Any) -> ObjectiveInfo:
    """The :class:`ObjectiveInfo` of an experiment (its ``spec.objective``), for algorithms and
    early-stopping services alike."""
    spec = experiment.spec.objective
    return ObjectiveInfo(
        metric_name=(spec.objective_metric_name if spec else None) or "",
        maximize=bool(spec and spec.type == "maximize"),
        goal=spec.goal if spec else None,
        additional_metric_names=tuple(spec.additional_metric_names or ()) if spec else (),
    )


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

    The host maps each error to ``spec.algorithm.algorithmSettings[i].value`` (or ``.name`` when
    ``on_name``, e.g. an unknown key). ``path`` points elsewhere when the problem is not a
    setting but a field the algorithm cannot accept, e.g. grid's ``spec.maxTrialCount``.
    """

    def __init__(
        self, message: str, *, setting: str | None = None, on_name: bool = False, path: str | None = None
    ):
        self.setting = setting
        self.on_name = on_name
        self.message = message
        self.path = path
        super().__init__([FieldError(path=path or "spec.algorithm.algorithmSettings", message=message)])


def convert_setting(key: str, raw: str, convert: Callable[[str], T]) -> T:
    """Convert a setting string the way Katib's services do (``int(value)``, ``float(value)``).

    A failure raises :class:`SettingsError` with Katib's wording
    ``failed to validate <key>(<value>): <exception>`` (``docs/katib-behaviour.md`` §5.3).
    """
    try:
        return convert(raw)
    except (TypeError, ValueError, ArithmeticError) as exc:
        raise SettingsError(f"failed to validate {key}({raw}): {exc}", setting=key) from None


def random_state_setting(raw: str | None) -> int | None:
    """Katib's ``random_state``: an int >= 0 (hyperopt's message when negative, §5.3)."""
    if raw is None:
        return None
    value = convert_setting("random_state", raw, int)
    if value < 0:
        raise SettingsError("random_state should be great or equal than zero", setting="random_state")
    return value


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
    #: False for Katib's algorithms (reproduce Katib's service, defects included); the host sets
    #: it True on the instance, before the first ``suggest``, under ``--corrected``, where a
    #: Katib-named plugin then runs the fixed behaviour (and says what it fixed).
    corrected: bool = False

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
        return setting_value(self.settings, self.settings_spec, key)

    @classmethod
    def missing_step_message(cls, parameter: str) -> str:
        """The error for a double parameter without ``feasibleSpace.step`` when the capabilities
        say ``double_needs_step``. A Katib-named algorithm returns its Katib service's text."""
        return f"parameter {parameter} has no step; algorithm {cls.name} needs feasibleSpace.step for double parameters"

    @abstractmethod
    def suggest(self, trials: Sequence[Trial], count: int) -> list[dict[str, Value]]:
        """Exactly ``count`` new assignments given the whole history ``trials``.

        ``trials`` is read-only (the engine passes a :class:`~katibsim.trial.ReadOnlyHistory`;
        copy it with ``list(trials)`` before reordering). Raise
        :class:`katibsim.errors.SearchSpaceExhausted` (with ``.assignments`` holding the fewer
        than ``count`` that remain) when the space has nothing new to give, and
        :class:`katibsim.errors.SuggestionServiceFailure` where Katib's own service for a
        Katib-named algorithm would fail.
        """

    def predicted_failures(self) -> list[FieldError]:
        """Warnings ``katibsim validate`` shows before any run: where Katib's service for this
        algorithm will fail, hang or repeat itself on this experiment (severity "warning", with
        the field path, what Katib will do, why, and the fix). Default: none."""
        return []

    def introspect(self, trials: Sequence[Trial], **options: Any) -> Mapping[str, Any] | None:
        """Optional: model internals for reports (e.g. a GP's posterior over a 1-D grid)."""
        return None


__all__ = [
    "Algorithm", "Capabilities", "HistoryKeys", "Metric", "ObjectiveInfo", "Observation", "ReadOnlyHistory",
    "SettingSpec", "SettingsError", "Trial", "TrialCondition", "convert_setting", "objective_info",
    "random_state_setting", "setting_value",
]
