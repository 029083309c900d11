"""Shared helpers of the skopt tests: a space, an objective, and a small Katib-like driver."""

from __future__ import annotations

import math
from typing import Callable

from katibsim.algorithm import ObjectiveInfo, Trial, TrialCondition
from katibsim.spec.model import FeasibleSpace, ParameterSpec
from katibsim.spec.space import SearchSpace

from katibsim_plugins.katib_skopt.plugin import KatibBayesianOptimization

S, F, R, E, M = (TrialCondition.SUCCEEDED, TrialCondition.FAILED, TrialCondition.RUNNING,
                 TrialCondition.EARLY_STOPPED, TrialCondition.METRICS_UNAVAILABLE)


def space_of(*specs: tuple) -> SearchSpace:
    out = []
    for name, ptype, *rest in specs:
        if ptype in ("categorical", "discrete"):
            out.append(ParameterSpec(name, ptype, FeasibleSpace(list=tuple(rest[0]))))
        else:
            lo, hi, *dist = rest
            out.append(ParameterSpec(name, ptype, FeasibleSpace(min=lo, max=hi, distribution=dist[0] if dist else None)))
    return SearchSpace.from_specs(out)


MIXED = space_of(("lr", "double", "0.001", "0.1"), ("layers", "int", "1", "8"),
                 ("opt", "categorical", ["sgd", "adam", "ftrl"]), ("batch", "discrete", ["16", "32", "64"]))


def value_of(a) -> float:
    """A smooth objective over MIXED-like spaces (any assignment of numbers and strings)."""
    v = 0.0
    for k, x in sorted(a.items()):
        v += (math.log10(x) + 2.0) ** 2 if k == "lr" else (float(x) % 7) / 7 if not isinstance(x, str) else len(x) / 5
    return v


def build(space=MIXED, settings=None, seed=7, maximize=False, **kw) -> KatibBayesianOptimization:
    return KatibBayesianOptimization(space, ObjectiveInfo("loss", maximize=maximize), settings or {}, seed, **kw)


def drive(suggest: Callable[[tuple, int], list], rounds: list[tuple[int, list]], value=value_of) -> tuple[list, list]:
    """Ask, create, then finish trials like Katib's controller: returns (answers, final history).

    ``rounds``: (count to ask, conditions for the oldest running trials to end with, in order).
    """
    history: list[Trial] = []
    answers = []
    for count, endings in rounds:
        got = suggest(tuple(history), count) if count else []
        answers.append(got)
        for a in got:
            history.append(Trial(f"trial-{len(history):03d}", a, R))
        running = [i for i, t in enumerate(history) if t.condition == R]
        for i, cond in zip(running, endings):
            t = history[i]
            v = value(t.assignment) if cond in (S, E) else None
            history[i] = Trial(t.name, t.assignment, cond, v, start_time=10.0 * i, completion_time=10.0 * i + 5 + i % 3)
    return answers, history
