"""The state one live Katib skopt pod keeps, and its GetSuggestions, call for call.

Katib's ``SkoptService`` / ``BaseSkoptService`` (``pkg/suggestion/v1beta1/skopt/``):

1. First call (``is_first_run``): convert the space (:mod:`.space`) and build
   ``skopt.Optimizer(dims, base_estimator, n_initial_points, acq_func, acq_optimizer,
   random_state)``. If that raises, ``is_first_run`` stays true and every later call fails the
   same way: Katib creates no trial and the Experiment stays Running.
2. Every call: keep the trials that are Succeeded or EarlyStopped with an objective value.
   *Only when their number grew* (or none is told yet), remember the new count, and tell the
   trials whose name it has not recorded, in one batch (``tell(xs, ys)``, the value negated for
   maximize). Names and count are recorded *before* ``tell``: a tell that raises is never retried.
3. ``ask(n_points=current_request_number)`` with skopt's default ``cl_min`` constant liar. skopt
   caches that answer per ``n_points`` until the next tell: a second request of the same size
   with no new told trial in between (a trial Failed, or MetricsUnavailable, and is replaced)
   gets the very same points again.

The random start counts *told* points: skopt's ``n_initial_points`` is decremented by each tell
(and, inside one ``ask(n)``, by each lie), not by each trial created.

A restarted pod is a new object: a new Optimizer seeded with the same ``random_state`` is told
every trial at once, so it answers differently from the pod that lived through the calls.
"""

from __future__ import annotations

import math
import sys
from typing import Any, Sequence

import numpy as np

from katibsim.algorithm import Trial, TrialCondition
from katibsim.spec.space import SearchSpace

from . import compat
from .settings import SkoptConfig
from .space import dimensions, to_skopt

TOLD = (TrialCondition.SUCCEEDED, TrialCondition.EARLY_STOPPED)


def is_told(trial: Trial) -> bool:
    """Katib's ``Trial.convert``: Succeeded or EarlyStopped with an objective value.

    Katib's collector only parses digits, so its values are finite; a non-finite value (possible
    from a custom objective here) is not told.
    """
    return trial.condition in TOLD and trial.value is not None and math.isfinite(trial.value)


def build_optimizer(space: SearchSpace, config: SkoptConfig, *, corrected: bool = False) -> Any:
    """``skopt.Optimizer`` as Katib's ``create_optimizer`` builds it (skopt's exceptions propagate)."""
    compat.install()
    import skopt

    acq_optimizer = config.acq_optimizer
    if corrected and config.base_estimator != "GP" and acq_optimizer == "lbfgs":
        acq_optimizer = "sampling"  # the trees have no gradients; skopt refuses lbfgs for them
    return skopt.Optimizer(
        dimensions(space, corrected),
        base_estimator=config.base_estimator,
        n_initial_points=config.n_initial_points,
        acq_func=config.acq_func,
        acq_optimizer=acq_optimizer,
        random_state=config.random_state,
    )


class SkoptService:
    """One pod of Katib's skopt suggestion service (``corrected``: the fixed service)."""

    def __init__(self, space: SearchSpace, maximize: bool, config: SkoptConfig, *, corrected: bool = False):
        self.space = space
        self.maximize = maximize
        self.config = config
        self.corrected = corrected
        self.optimizer: Any = None  # None until a first call builds it (Katib's is_first_run)
        self.succeeded_trials = 0
        self.recorded: set[str] = set()  # Katib's recorded_trials_names
        self.calls = 0
        self.tells = 0
        # What the answers were made of (tests and reports): skopt's random start, its model,
        # or a cached answer handed out again.
        self.random_points = 0
        self.model_points = 0
        self.repeated_answers = 0

    @property
    def per_second(self) -> bool:
        return "ps" in self.config.acq_func

    def _loss(self, trial: Trial) -> Any:
        value = float(trial.value)
        loss = -value if self.maximize else value
        if self.corrected and self.per_second:
            return (loss, _duration(trial))  # tell() takes the log itself
        return loss

    def get_suggestions(self, trials: Sequence[Trial], n: int) -> list[list[Any]]:
        """Katib's ``GetSuggestions`` with ``current_request_number = n``: skopt's points."""
        self.calls += 1
        if self.optimizer is None:
            self.optimizer = build_optimizer(self.space, self.config, corrected=self.corrected)
        told = [t for t in trials if is_told(t)]
        if len(told) > self.succeeded_trials or self.succeeded_trials == 0:
            self.succeeded_trials = len(told)
            xs, ys = [], []
            for t in told:
                if t.name not in self.recorded:
                    self.recorded.add(t.name)
                    xs.append(to_skopt(self.space, t.assignment, self.corrected))
                    ys.append(self._loss(t))
            if xs:
                self.tells += 1
                self.optimizer.tell(xs, ys)
        if self.corrected:
            return self._ask_corrected(trials, n)
        if (n, "cl_min") in self.optimizer.cache_:
            self.repeated_answers += 1
        else:
            self._count(self.optimizer._n_initial_points, n)
        return self.optimizer.ask(n_points=n)

    def _count(self, initial_left: int, n: int) -> None:
        """Inside ``ask(n)`` each lie counts as a told point: the first ``initial_left`` are random."""
        random = min(n, max(0, initial_left))
        self.random_points += random
        self.model_points += n - random

    def _ask_corrected(self, trials: Sequence[Trial], n: int) -> list[list[Any]]:
        """The fix: no cached answer, and every trial not told (running, failed, ...) is a lie.

        A throw-away copy of the optimizer is told each such trial at skopt's own ``cl_min`` lie
        (the best loss so far), then asked ``n`` points, so a point handed out before is never
        handed out again, whether its trial is still running or ended without a value.
        """
        opt = self.optimizer
        copy = opt.copy(random_state=opt.rng.randint(0, np.iinfo(np.int32).max))
        pending = [to_skopt(self.space, t.assignment, True) for t in trials
                   if t.name not in self.recorded and _in_space(copy.space, self.space, t)]
        if pending:
            lie = float(np.min([y[0] if self.per_second else y for y in copy.yi])) if copy.yi else 0.0
            if self.per_second:
                t_lie = float(np.min([y[1] for y in copy.yi])) if copy.yi else math.log(sys.float_info.max)
                copy._tell(pending, [(lie, t_lie)] * len(pending))
            else:
                copy._tell(pending, [lie] * len(pending))
        self._count(copy._n_initial_points, n)
        return copy.ask(n_points=n)


def _in_space(skopt_space: Any, space: SearchSpace, trial: Trial) -> bool:
    try:
        return to_skopt(space, trial.assignment, True) in skopt_space
    except (KeyError, TypeError, ValueError):
        return False


def _duration(trial: Trial) -> float:
    if trial.start_time is not None and trial.completion_time is not None and trial.completion_time > trial.start_time:
        return float(trial.completion_time - trial.start_time)
    return 1.0
