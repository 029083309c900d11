"""What katibsim's models of Katib's Python suggestion services share: seeds, told trials, values.

Katib's services (``pkg/suggestion/v1beta1/internal/trial.py``, ``search_space.py``) see every
trial as strings: the assignment is the string the service returned earlier (Python ``str()``), and
only Succeeded or EarlyStopped trials with an objective metric are learnt from. katibsim's history
holds typed values; this module turns it into what the service sees (:func:`told_trials`), and
turns a value the service returns into the value Katib's trial runs (:func:`katib_value`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from katibsim.algorithm import SettingsError, Trial, TrialCondition, convert_setting
from katibsim.spec.space import Parameter, ParameterType, SearchSpace, Value, format_value

# numpy's RandomState (which both hyperopt 0.2.5 and Optuna 3.3's samplers build from the seed)
# takes seeds in [0, 2**32): a larger random_state makes Katib's service fail on every call.
RANDOM_STATE_LIMIT = 2**32

# The wording of each service's ValidateAlgorithmSettings for a negative random_state.
HYPEROPT_RANDOM_STATE_MESSAGE = "random_state should be great or equal than zero"
OPTUNA_TPE_RANDOM_STATE_MESSAGE = "random_state should be greate or equal than zero"
# Katib's Optuna service answers a negative random_state for grid and random with an empty
# message; katibsim says so rather than print nothing.
OPTUNA_EMPTY_MESSAGE = (
    "Katib's Optuna service rejects a negative random_state with an empty message "
    "(\"ValidateAlgorithmSettings Error: \"): random_state must be an int >= 0"
)


def katib_random_state(raw: str | None, negative_message: str) -> int | None:
    """Katib's check of ``random_state``: ``int(value) >= 0``, else ``negative_message``."""
    if raw is None:
        return None
    value = convert_setting("random_state", raw, int)
    if value < 0:
        raise SettingsError(negative_message, setting="random_state")
    return value


def library_seed(random_state: int | None, run_seed: int | None) -> int:
    """The seed given to the library: ``random_state`` when set, else the run's seed.

    Katib seeds from ``random_state`` and otherwise lets numpy draw fresh entropy, so an
    experiment without it is not reproducible; katibsim uses the run's ``--seed`` instead (folded
    into numpy's seed range), and fresh entropy only when there is no seed at all.
    """
    if random_state is not None:
        return random_state
    if run_seed is None:
        return int(np.random.SeedSequence().entropy % RANDOM_STATE_LIMIT)
    return abs(int(run_seed)) % RANDOM_STATE_LIMIT


@dataclass(frozen=True)
class KatibTrial:
    """A trial as Katib's ``Trial.convert`` gives it to a service: name, strings, objective value."""

    name: str
    assignment: Mapping[str, str]
    value: float


def is_told(t: Trial) -> bool:
    """Katib's ``Trial.convert``: Succeeded or EarlyStopped, with an objective metric entry."""
    return t.condition in (TrialCondition.SUCCEEDED, TrialCondition.EARLY_STOPPED) and t.value is not None


def katib_strings(space: SearchSpace, assignment: Mapping[str, Value]) -> dict[str, str]:
    """The assignment as Katib stores it in the Trial: each value's Katib string."""
    return {p.name: p.format(assignment[p.name]) for p in space}


def told_trials(space: SearchSpace, trials: Sequence[Trial], known: "set[str] | frozenset[str]" = frozenset()
                ) -> list[KatibTrial]:
    """The trials a Katib service learns from, in history order, as the service sees them.

    ``known``: names the service has recorded already. Katib's services skip those, so they are
    left out here (converting the whole history on every call would cost O(n) conversions).
    """
    return [KatibTrial(t.name, katib_strings(space, t.assignment), float(t.value))  # type: ignore[arg-type]
            for t in trials if t.name not in known and is_told(t)]


def katib_value(p: Parameter, returned: object) -> Value:
    """The value Katib's trial runs for what the service returned: ``str()`` of it, parsed back.

    Katib sends the string (``Assignment.generate``: ``str(value)``) and the trial runs with it,
    so a double is exactly ``float(str(x))`` and an int ``int(...)``; list parameters run the list
    entry (a discrete one as its number).
    """
    text = format_value(returned)  # type: ignore[arg-type]
    if p.type == ParameterType.CATEGORICAL:
        return text
    return p.coerce(p.parse(text))


def into_space(p: Parameter, value: Value) -> tuple[Value, bool]:
    """``value`` itself when it is a feasible value of ``p``, else the nearest feasible one.

    Katib runs whatever its service returns, also a value outside [min, max] (hyperopt's
    ``normal`` is not clipped; ``quniform`` rounds to multiples of the step, not to min + k*step).
    The host refuses an infeasible point, so such a value is moved to the nearest feasible one and
    the caller counts it (``True``).
    """
    if p.contains(value):
        return value, False
    return p.coerce(p.snap(float(value))), True  # type: ignore[arg-type]


def to_assignments(space: SearchSpace, answers: Sequence[Mapping[str, object]]) -> tuple[list[dict[str, Value]], int]:
    """The typed assignments Katib's trials run for a service's answers, and how many values had
    to be moved into the space (:func:`into_space`)."""
    out: list[dict[str, Value]] = []
    moved = 0
    for raw in answers:
        a: dict[str, Value] = {}
        for p in space:
            v, m = into_space(p, katib_value(p, raw[p.name]))
            a[p.name] = v
            moved += m
        out.append(a)
    return out, moved


def seed_failure(random_state: int, library: str) -> str | None:
    """numpy's own message when ``random_state`` cannot seed a ``RandomState`` (Katib's service
    builds one from it on the first ``GetSuggestions`` and fails every call), else None."""
    try:
        np.random.RandomState(random_state)
    except ValueError as exc:
        return str(exc)
    return None
