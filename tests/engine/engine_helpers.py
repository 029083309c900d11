"""Shared helpers for the engine tests (imported as engine_helpers): experiments built from dicts, small objectives, a scripted algorithm."""

from __future__ import annotations

import copy
from typing import Any, Mapping, Sequence

from katibsim.algorithm import Algorithm, ObjectiveInfo, Trial
from katibsim.errors import SearchSpaceExhausted
from katibsim.objective import Evaluation, Objective, ObjectiveInput
from katibsim.spec.loader import experiment_from_dict
from katibsim.spec.space import SearchSpace, Value

BASE: dict[str, Any] = {
    "apiVersion": "kubeflow.org/v1beta1",
    "kind": "Experiment",
    "metadata": {"name": "exp", "namespace": "kubeflow"},
    "spec": {
        "objective": {"type": "maximize", "objectiveMetricName": "score"},
        "algorithm": {"algorithmName": "random"},
        "parallelTrialCount": 3,
        "maxTrialCount": 12,
        "maxFailedTrialCount": 3,
        "parameters": [
            {"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "10"}},
        ],
        "trialTemplate": {
            "primaryContainerName": "main",
            "trialParameters": [{"name": "x", "reference": "x"}],
            "trialSpec": {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "spec": {"template": {"spec": {
                    "containers": [{"name": "main", "image": "busybox", "command": ["echo", "${trialParameters.x}"]}],
                    "restartPolicy": "Never",
                }}},
            },
        },
    },
}


def make_experiment(spec: Mapping[str, Any] | None = None, *, name: str = "exp", parameters: Sequence[Mapping] | None = None,
                    retain: bool | None = None):
    """The BASE experiment with ``spec`` keys replaced (``None`` values delete the key)."""
    doc = copy.deepcopy(BASE)
    doc["metadata"]["name"] = name
    for k, v in (spec or {}).items():
        if v is None:
            doc["spec"].pop(k, None)
        else:
            doc["spec"][k] = copy.deepcopy(v)
    if parameters is not None:
        doc["spec"]["parameters"] = [dict(p) for p in parameters]
        names = [p["name"] for p in parameters]
        tt = doc["spec"]["trialTemplate"]
        tt["trialParameters"] = [{"name": n.lstrip("-").replace("-", "_"), "reference": n} for n in names]
        tt["trialSpec"]["spec"]["template"]["spec"]["containers"][0]["command"] = (
            ["echo"] + ["${trialParameters.%s}" % n.lstrip("-").replace("-", "_") for n in names])
    if retain is not None:
        doc["spec"]["trialTemplate"]["retain"] = retain
    return experiment_from_dict(doc)


class Line(Objective):
    """score = x (maximize) with a learning curve rising to it; duration = 10 + x seconds."""

    name = "line"
    metric_name = "score"
    direction = "maximize"
    inputs = (ObjectiveInput("x", 0.0, 10.0),)
    optimum = 10.0

    def __init__(self, steps: int = 5, duration: float | None = None, curve: str = "rise"):
        self.steps = steps
        self.duration = duration
        self.curve_kind = curve

    def evaluate(self, x, rng):
        v = float(x["x"])
        if self.curve_kind == "flat":
            curve = tuple((k, v) for k in range(1, self.steps + 1))
        else:
            curve = tuple((k, v * k / self.steps) for k in range(1, self.steps + 1))
        return Evaluation(value=v, curve=curve, duration=self.duration if self.duration is not None else 10.0 + v)


class Noisy(Objective):
    """score = -(x-3)^2 + noise, one report, random duration (to exercise noise and ordering)."""

    name = "noisy"
    metric_name = "score"
    direction = "maximize"
    inputs = (ObjectiveInput("x", 0.0, 10.0),)

    def evaluate(self, x, rng):
        v = -(float(x["x"]) - 3.0) ** 2 + rng.normal(0.0, 0.1)
        return Evaluation(value=v, duration=float(rng.uniform(5.0, 50.0)))


class Scripted(Algorithm):
    """Suggests the given x values in order; raises SearchSpaceExhausted when they run out."""

    name = "scripted"

    def __init__(self, space: SearchSpace, xs: Sequence[float], *, objective: ObjectiveInfo | None = None):
        super().__init__(space, objective or ObjectiveInfo("score", True))
        self.xs = list(xs)
        self.calls: list[tuple[int, int]] = []  # (len(history), count) per call
        self._used = 0

    def suggest(self, trials: Sequence[Trial], count: int) -> list[dict[str, Value]]:
        self.calls.append((len(trials), count))
        start = self._used
        out = [{"x": float(x)} for x in self.xs[start:start + count]]
        self._used = start + len(out)
        if len(out) < count:
            raise SearchSpaceExhausted(f"scripted: {len(self.xs)} points only", assignments=out)
        return out


def scripted(exp, xs):
    return Scripted(exp.search_space(), xs, objective=ObjectiveInfo("score", exp.maximize))


class FailingService(Algorithm):
    """Stands for a Katib-named plugin whose Katib service fails: suggests ``x = 1, 2, ...`` and
    raises SuggestionServiceFailure once ``fail_after`` assignments were given (0: always), or, with
    ``recover_at``, only while fewer trials than that have completed."""

    name = "failing-service"
    FAILURE = ("ValueError: the library refuses this space", "the library's rule", "change the space")

    def __init__(self, space: SearchSpace, objective: ObjectiveInfo | None = None, settings=None, seed=None, *,
                 fail_after: int = 0, recover_at: int | None = None, **kw):
        super().__init__(space, objective or ObjectiveInfo("score", True), settings, seed, **kw)
        self.fail_after = fail_after
        self.recover_at = recover_at
        self.given = 0
        self.calls = 0

    def suggest(self, trials: Sequence[Trial], count: int) -> list[dict[str, Value]]:
        from katibsim.errors import SuggestionServiceFailure

        self.calls += 1
        done = sum(1 for t in trials if t.condition.is_completed)
        if self.given + count > self.fail_after and (self.recover_at is None or done < self.recover_at):
            message, why, fix = self.FAILURE
            raise SuggestionServiceFailure(message, why=why, fix=fix)
        out = [{"x": float(1 + (self.given + i) % 9)} for i in range(count)]
        self.given += count
        return out
