"""Where Katib's skopt service fails, hangs or repeats itself: explained at run time, predicted up front.

Each explanation says what Katib does, why (the library and its rule) and how to change the
Experiment so that it works. Sources: Katib's ``pkg/suggestion/v1beta1/skopt/base_service.py``
and scikit-optimize 0.10.2 (``skopt/space/space.py: Real``, ``skopt/optimizer/optimizer.py``).
"""

from __future__ import annotations

import math

from katibsim.errors import FieldError, SuggestionServiceFailure
from katibsim.spec.space import Distribution, ParameterType, SearchSpace

from .settings import SkoptConfig
from .space import degenerate

LOG_RANGE = "search space should not contain 0 when using log-uniform prior"
NO_MODEL = "Random evaluations exhausted and no model has been fit."
PS_TELL = "expected y to be a list of (func_val, t)"
SERVICE = "Katib's skopt service (pkg/suggestion/v1beta1/skopt/base_service.py)"
RETRY = "SyncAssignments retries on every reconcile, no trial is created and the Experiment stays Running"
OTHER_ALGORITHMS = "or use random or tpe (Katib's hyperopt), or katibsim-bo in a simulation"


def _doubles_across_zero(space: SearchSpace) -> list[tuple[int, object]]:
    return [(i, p) for i, p in enumerate(space)
            if p.type == ParameterType.DOUBLE and float(p.min) * float(p.max) <= 0 and not degenerate(p)]


def _doubles_negative(space: SearchSpace) -> list[tuple[int, object]]:
    return [(i, p) for i, p in enumerate(space) if p.type == ParameterType.DOUBLE and float(p.max) < 0]


def explain(exc: BaseException, space: SearchSpace, config: SkoptConfig, *, corrected: bool = False) -> SuggestionServiceFailure:
    """The SuggestionServiceFailure for an exception raised inside the reproduced service."""
    message = str(exc) or type(exc).__name__
    if isinstance(exc, SuggestionServiceFailure):
        return exc
    if LOG_RANGE in message:
        names = ", ".join(f"{p.name} [{p.min}, {p.max}]" for _, p in _doubles_across_zero(space)) or "a parameter"
        rule = ("the corrected service keeps a logUniform / logNormal double log-uniform" if corrected else
                'it makes every double Real(min, max, "log-uniform") whatever its distribution')
        return SuggestionServiceFailure(
            message,
            why=f"{SERVICE} builds the skopt Optimizer on the first GetSuggestions call; {rule}, and "
                f"scikit-optimize refuses a log-uniform range with min * max <= 0 ({names}). The build is retried on "
                f"every call and fails the same way: {RETRY}.",
            fix=f"give {names} a range with min > 0 (e.g. search a shifted or rescaled value and undo it in the trial's "
                f"command), {OTHER_ALGORITHMS}.",
        )
    if NO_MODEL in message:
        return SuggestionServiceFailure(
            message,
            why="with n_initial_points 0, skopt's Optimizer has neither a random point left nor a model on the first "
                f"ask (a model needs a told trial, and no trial exists yet): every GetSuggestions fails, {RETRY}.",
            fix="set n_initial_points to 1 or more (skopt's default, and Katib's, is 10).",
        )
    if PS_TELL in message:
        return SuggestionServiceFailure(
            message,
            why=f"acq_func {config.acq_func} needs (value, duration) pairs, and {SERVICE} tells plain values: the "
                "tell after each new Succeeded trial raises. Katib retries; the retry finds no new trial to tell and "
                "asks again, so the service never learns anything, and a request of the same size gets skopt's "
                "cached answer: the same points again.",
            fix="use acq_func EI or PI (or gp_hedge, the default): Katib cannot pass trial durations to skopt.",
        )
    if "should run with acq_optimizer='sampling'" in message:
        return SuggestionServiceFailure(
            message,
            why=f"base_estimator {config.base_estimator} has no gradients and scikit-optimize refuses acq_optimizer "
                f"lbfgs for it when the service builds the Optimizer on the first call: {RETRY}.",
            fix="set acq_optimizer to auto or sampling, or base_estimator to GP.",
        )
    if "has to be less than the upper bound" in message:
        names = ", ".join(f"{p.name} [{p.min}, {p.max}]" for p in space if degenerate(p)) or "a parameter"
        return SuggestionServiceFailure(
            message,
            why=f"Katib's webhook accepts min == max, but scikit-optimize's Integer and Real need min < max ({names}): "
                f"building the Optimizer fails on every call, {RETRY}.",
            fix=f"widen {names} to min < max, or drop the parameter and put its value in the trial template.",
        )
    if "Seed must be between 0 and 2**32 - 1" in message:
        return SuggestionServiceFailure(
            message,
            why=f"Katib's validation accepts any random_state >= 0, but numpy's RandomState (used by scikit-optimize) "
                f"takes seeds below 2**32 only: building the Optimizer fails on every call, {RETRY}.",
            fix="use a random_state below 4294967296.",
        )
    return SuggestionServiceFailure(
        f"{type(exc).__name__}: {message}",
        why=f"scikit-optimize raised inside {SERVICE}; Katib's GetSuggestions fails and {RETRY} (until a later call "
            "happens to succeed).",
        fix="change the settings or the search space that scikit-optimize rejects (the message above names it).",
    )


def nan_failure(space: SearchSpace) -> SuggestionServiceFailure:
    names = ", ".join(f"{p.name} [{p.min}, {p.max}]" for _, p in _doubles_negative(space))
    return SuggestionServiceFailure(
        f"skopt suggested nan for {names}",
        why='Katib makes every double Real(min, max, "log-uniform"); with min and max both negative scikit-optimize '
            "accepts the range (min * max > 0) but samples log10 of negative numbers: every value is nan. Katib "
            "would create trials with the value \"nan\"; katibsim cannot run an infeasible trial and stops here.",
        fix=f"search the absolute value of {names} (min > 0) and negate it in the trial's command, {OTHER_ALGORITHMS}.",
    )


def random_trials(max_trials: int, parallel: int, n_initial_points: int) -> int:
    """How many trials Katib's skopt service draws at random, when every trial succeeds one at a time.

    The first request asks ``min(parallel, max)`` points with nothing told: skopt's first
    ``n_initial_points`` are random. Each later trial is asked alone, when ``k - parallel + 1``
    trials have been told, and is random while that is below ``n_initial_points``.
    """
    if n_initial_points <= 0 or max_trials <= 0:
        return 0
    parallel = max(1, parallel)
    first = min(parallel, max_trials)
    later = max(0, min(max_trials, n_initial_points + parallel - 1) - first)
    return min(first, n_initial_points) + later


def _share_below_mid(lo: float, hi: float) -> float:
    """The share of log-uniform draws on [lo, hi] that fall in its lower half [lo, (lo+hi)/2)."""
    return math.log((lo + hi) / 2 / lo) / math.log(hi / lo)


def predicted(space: SearchSpace, config: SkoptConfig, *, max_trials: int | None, parallel: int | None,
              file: str | None = None) -> list[FieldError]:
    """Every problem of Katib's service visible in the Experiment itself, as warnings at their field paths."""
    out: list[FieldError] = []

    def warn(path: str, message: str, value=None) -> None:
        out.append(FieldError(path, message, file, value, severity="warning"))

    for i, p in enumerate(space):
        fs = f"spec.parameters[{i}].feasibleSpace"
        if degenerate(p):
            warn(f"{fs}.max", f"Katib's bayesianoptimization will create no trial: {p.name} has min == max, which "
                              "scikit-optimize refuses (\"the lower bound ... has to be less than the upper bound\") "
                              f"when the service is built; {RETRY}. Fix: min < max, or drop the parameter.", p.max)
            continue
        if p.type == ParameterType.DOUBLE:
            lo, hi = float(p.min), float(p.max)
            if lo * hi <= 0:
                warn(f"{fs}.min", f"Katib's bayesianoptimization will create no trial: scikit-optimize raises "
                                  f'"{LOG_RANGE}" when the service is built, because Katib makes every double '
                                  f'log-uniform whatever its distribution; {RETRY}. Fix: a range with min > 0 for '
                                  f"{p.name}, {OTHER_ALGORITHMS}.", p.min)
            elif hi < 0:
                warn(f"{fs}.max", f"Katib's bayesianoptimization makes every double log-uniform; with min and max both "
                                  f"negative scikit-optimize samples nan for {p.name}. Fix: search its absolute value.", p.max)
            elif p.distribution != Distribution.LOG_UNIFORM:
                share = _share_below_mid(lo, hi)
                warn(f"{fs}.distribution", f"Katib's bayesianoptimization ignores distribution {p.distribution.value} "
                                           f"and searches {p.name} log-uniformly (Real(min, max, \"log-uniform\")): "
                                           f"{share:.0%} of its random points fall in the lower half "
                                           f"[{p.min}, {(lo + hi) / 2:g}) instead of 50%. Run with --corrected to see "
                                           "the distribution honoured.", p.distribution.value)
        elif p.type == ParameterType.INT and p.distribution != Distribution.UNIFORM:
            warn(f"{fs}.distribution", f"Katib's bayesianoptimization ignores distribution {p.distribution.value} for "
                                       f"int {p.name}: Integer(min, max) is uniform.", p.distribution.value)
        if p.type in (ParameterType.DOUBLE, ParameterType.INT) and p.step is not None and not (
                p.type == ParameterType.INT and float(p.step) == 1):
            warn(f"{fs}.step", f"Katib's bayesianoptimization ignores the step of {p.name} and creates trials off its "
                               "grid; katibsim snaps them onto the grid so the trials stay feasible.", p.step)
    settings = "spec.algorithm.algorithmSettings"
    if config.n_initial_points == 0:
        warn(settings, f"n_initial_points 0: skopt raises \"{NO_MODEL}\" on the first ask, so Katib's "
                       f"bayesianoptimization will create no trial ({RETRY}). Fix: n_initial_points >= 1.")
    if "ps" in config.acq_func:
        warn(settings, f"acq_func {config.acq_func}: Katib's service tells skopt plain values where it needs "
                       f"(value, duration), so every tell raises \"{PS_TELL}\": the model never learns and "
                       "requests of the same size get the same points again. Fix: acq_func EI or PI.")
    if config.acq_optimizer == "lbfgs" and config.base_estimator != "GP":
        warn(settings, f"acq_optimizer lbfgs with base_estimator {config.base_estimator}: skopt refuses it when the "
                       f"service is built ({RETRY}). Fix: acq_optimizer auto or sampling.")
    if config.random_state is not None and config.random_state >= 2**32:
        warn(settings, "random_state >= 2**32: numpy's RandomState refuses it when Katib's service builds the "
                       f"Optimizer ({RETRY}). Fix: a random_state below 4294967296.")
    if max_trials and config.n_initial_points > 0:
        n = random_trials(max_trials, parallel or 1, config.n_initial_points)
        if n >= max_trials:
            warn("spec.maxTrialCount", f"every one of the {max_trials} trials of Katib's bayesianoptimization will be "
                                       f"random: skopt counts n_initial_points ({config.n_initial_points}) in told "
                                       f"trials, and with parallelTrialCount {parallel or 1} the last trial is asked "
                                       f"when only {max(0, max_trials - (parallel or 1))} have been told. Fix: "
                                       f"n_initial_points <= {max(1, max_trials - (parallel or 1) - 1)} for at least "
                                       "two model-based trials, or a larger maxTrialCount.", max_trials)
    return out
