"""Shared by the Katib-algorithm tests: a fixed space, a history that grows like Katib's, typed/raw values."""

from __future__ import annotations

import math
from typing import Callable, Mapping

from katibsim.algorithm import ObjectiveInfo, Trial, TrialCondition
from katibsim.spec.model import FeasibleSpace, ParameterSpec
from katibsim.spec.space import SearchSpace


def space(*specs: tuple) -> SearchSpace:
    out = []
    for name, ptype, fs in specs:
        if "list" in fs:
            fs = {**fs, "list": tuple(fs["list"])}
        out.append(ParameterSpec(name, ptype, FeasibleSpace(**fs)))
    return SearchSpace.from_specs(out)


MIXED = space(
    ("lr", "double", {"min": "0.01", "max": "0.1"}),
    ("decay", "double", {"min": "0.0001", "max": "0.1", "distribution": "logUniform"}),
    ("layers", "int", {"min": "1", "max": "5"}),
    ("batch", "discrete", {"list": ["16", "32", "64"]}),
    ("optimizer", "categorical", {"list": ["sgd", "adam", "ftrl"]}),
)
MINIMIZE = ObjectiveInfo("loss", maximize=False)
MAXIMIZE = ObjectiveInfo("accuracy", maximize=True)


def value_of(a: Mapping[str, object]) -> float:
    """A deterministic objective of an assignment (any parameter kinds)."""
    total = 0.0
    for k, v in sorted(a.items()):
        x = float(len(v)) if isinstance(v, str) else float(v)
        total += math.sin(x * 7.0 + len(k))
    return total


class Katib:
    """A history that grows like Katib's: per round ask, then settle the trials.

    Every 4th trial fails, every 4th + 1 stays running one extra round, the rest succeed (every
    7th as EarlyStopped); ``ask(count)`` is given the whole history, running trials included.
    """

    def __init__(self) -> None:
        self.history: list[Trial] = []
        self._late: list[int] = []

    def add(self, assignments: list[dict]) -> None:
        for idx in self._late:  # the trials that ran one round longer succeed now
            t = self.history[idx]
            self.history[idx] = Trial(t.name, t.assignment, TrialCondition.SUCCEEDED, value_of(t.assignment))
        self._late = []
        for a in assignments:
            i = len(self.history)
            name = f"trial-{i}"
            if i % 4 == 0:
                self.history.append(Trial(name, a, TrialCondition.FAILED))
            elif i % 4 == 1:
                self.history.append(Trial(name, a, TrialCondition.RUNNING))
                self._late.append(i)
            elif i % 7 == 0:
                self.history.append(Trial(name, a, TrialCondition.EARLY_STOPPED, value_of(a)))
            else:
                self.history.append(Trial(name, a, TrialCondition.SUCCEEDED, value_of(a)))

    def told(self) -> list[tuple[str, dict, float]]:
        """What Katib's Trial.convert keeps: Succeeded / EarlyStopped with a value, in order."""
        return [(t.name, dict(t.assignment), t.value) for t in self.history
                if t.condition in (TrialCondition.SUCCEEDED, TrialCondition.EARLY_STOPPED) and t.value is not None]


def drive(ask: Callable[[tuple, int], list[dict]], counts: list[int], katib: Katib) -> list[list[dict]]:
    """Run ``ask`` over rounds of ``counts``, growing ``katib``'s history; the answers per round."""
    out = []
    for c in counts:
        answer = ask(tuple(katib.history), c)
        out.append(answer)
        katib.add(answer)
    return out
