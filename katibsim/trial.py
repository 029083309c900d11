"""The trial types an algorithm sees: a Trial, its condition, its observation, and the read-only history.

These mirror Katib's ``api.Trial`` as its suggestion services receive it (``ConvertTrials`` in
Katib's ``pkg/controller.v1beta1/suggestion/suggestionclient/suggestionclient.go``). :class:`ReadOnlyHistory` is how the engine hands its history to a plugin: a
``Sequence`` with no mutating method, so a plugin cannot reorder or edit the engine's trials.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Iterator, Mapping, overload

from katibsim.spec.space import Value


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


class ReadOnlyHistory(Sequence):
    """A read-only view of a list of trials, versioned by ``epoch``.

    The engine keeps its history incrementally (one list for the whole run, so a step never copies
    it) and hands plugins this view of it: reading costs what reading a list costs, and there is
    no ``sort``, ``append`` or item assignment, so a plugin cannot corrupt what the engine (and
    every later call) sees. Slicing gives a new list, the plugin's own. The view stays the same
    object for the whole run; ``epoch`` is its owner's version (see
    :class:`katibsim.suggest_check.HistoryKeys`): while it stays the same, trials are only
    appended, or replaced by the same trial (same name and assignment) in a new condition.
    """

    __slots__ = ("_items", "_owner", "__weakref__")

    def __init__(self, items: list, owner: Any = None) -> None:
        self._items = items
        self._owner = owner

    @property
    def epoch(self) -> Any:
        """The owner's version of the history (None when the view has no versioned owner)."""
        return getattr(self._owner, "epoch", None)

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def __getitem__(self, index: int) -> "Trial": ...

    @overload
    def __getitem__(self, index: slice) -> list["Trial"]: ...

    def __getitem__(self, index):
        return self._items[index]

    def __iter__(self) -> Iterator["Trial"]:
        return iter(self._items)

    def __reversed__(self) -> Iterator["Trial"]:
        return reversed(self._items)

    def __repr__(self) -> str:
        return f"ReadOnlyHistory({len(self._items)} trials)"


__all__ = ["Metric", "Observation", "ReadOnlyHistory", "Trial", "TrialCondition"]
