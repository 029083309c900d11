"""Synthetic TrialTables for the from-trials tests (imported as ``trial_table_helpers``; ``tests/`` is on sys.path).

``smooth_table``: a known smooth function of a log-scaled learning rate and an int batch size,
with Gaussian noise of a known size, per-step curves that rise to the final value, and durations
that grow with the batch size. ``categorical_table``: a double plus a categorical with an offset
per category.
"""

from __future__ import annotations

import math

import numpy as np

from katibsim.spec.space import Distribution, Parameter, ParameterType, SearchSpace
from katibsim.workload.table import ObservedTrial, TrialTable

SPACE = SearchSpace((
    Parameter("lr", ParameterType.DOUBLE, 1e-4, 1.0, distribution=Distribution.LOG_UNIFORM),
    Parameter("batch", ParameterType.INT, 8, 256),
))


def smooth_mean(lr: float, batch: float) -> float:
    """Accuracy-like: best near lr = 0.01, a little worse for big batches."""
    return 0.9 - 0.05 * (math.log10(lr) + 2.0) ** 2 - 0.0004 * (batch - 8)


def smooth_table(n: int = 40, noise: float = 0.01, seed: int = 0, steps: int = 5, times: bool = True,
                 extra: tuple[ObservedTrial, ...] = (), lr_span: tuple[float, float] = (-4, 0),
                 declared: bool = False, loss: bool = False) -> TrialTable:
    """``lr_span``: log10 range the trials' learning rates are drawn from; ``declared``: the space
    comes from an Experiment (lr 1e-4..1, batch 8..256); ``loss``: the trials also report a loss
    that falls as the accuracy rises."""
    rng = np.random.default_rng(seed)
    trials = []
    for k in range(n):
        lr = 10 ** rng.uniform(*lr_span)
        batch = int(rng.integers(8, 257))
        value = smooth_mean(lr, batch) + noise * rng.standard_normal()
        curve = tuple((s, value - 0.2 * (steps - s) / steps + 0.002 * rng.standard_normal())
                      for s in range(1, steps + 1)) if steps else ()
        if curve:  # the metric strategy is max: the value is the curve's best point
            value = max(v for _, v in curve)
        start = 10.0 * k
        metrics = {"loss": 1.0 - value + 0.01 * rng.standard_normal()} if loss else {}
        trials.append(ObservedTrial(f"t{k}", {"lr": repr(lr), "batch": str(batch)}, "Succeeded", value, curve,
                                    created=start if times else None, started=start if times else None,
                                    ended=start + 5.0 + 0.2 * batch if times else None, metrics=metrics))
    return TrialTable("smooth.csv", "accuracy", "maximize", SPACE, tuple(trials) + extra,
                      declared=frozenset({"lr", "batch"}) if declared else frozenset())


def categorical_table(n: int = 30, seed: int = 1) -> TrialTable:
    rng = np.random.default_rng(seed)
    space = SearchSpace((Parameter("x", ParameterType.DOUBLE, 0.0, 1.0),
                         Parameter("opt", ParameterType.CATEGORICAL, values=("sgd", "adam", "rmsprop"))))
    offset = {"sgd": 1.0, "adam": 0.0}
    trials = []
    for k in range(n):
        x = float(rng.uniform(0.1, 0.9))
        opt = ("sgd", "adam")[k % 2]  # rmsprop is never tried
        trials.append(ObservedTrial(f"c{k}", {"x": repr(x), "opt": opt}, "Succeeded",
                                    (x - 0.5) ** 2 + offset[opt] + 0.01 * rng.standard_normal()))
    return TrialTable("cat.json", "loss", "minimize", space, tuple(trials))
