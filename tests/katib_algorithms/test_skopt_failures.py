"""Katib's skopt service failures, reproduced: no trial, retried forever, repeated points; and --corrected."""

from __future__ import annotations

import pytest

from katibsim.algorithm import Trial
from katibsim.errors import SuggestionServiceFailure

from katibsim_plugins.katib_skopt.failures import random_trials
from skopt_helpers import MIXED, F, M, R, S, build, space_of, value_of

ACROSS_ZERO = space_of(("x", "double", "-2", "10"))


def test_a_double_range_containing_zero_fails_on_every_call_with_skopts_message():
    alg = build(ACROSS_ZERO)
    for _ in range(3):  # SyncAssignments retries: the service is rebuilt and fails each time
        with pytest.raises(SuggestionServiceFailure) as info:
            alg.suggest((), 3)
        assert info.value.message == "search space should not contain 0 when using log-uniform prior"
        assert "log-uniform" in info.value.why and "x [-2, 10]" in info.value.why
        assert "min > 0" in info.value.fix
    assert alg.service.optimizer is None  # is_first_run never cleared


def test_uniform_distribution_does_not_help_katib_but_corrected_honours_it():
    space = space_of(("x", "double", "0", "1", "uniform"))
    with pytest.raises(SuggestionServiceFailure):
        build(space).suggest((), 1)
    alg = build(space)
    alg.corrected = True
    assert 0.0 <= alg.suggest((), 2)[0]["x"] <= 1.0


@pytest.mark.parametrize("settings,space,message", [
    ({"n_initial_points": "0"}, MIXED, "Random evaluations exhausted and no model has been fit."),
    ({"base_estimator": "RF", "acq_optimizer": "lbfgs"}, MIXED, "should run with acq_optimizer='sampling'"),
    ({"random_state": str(2**32)}, MIXED, "Seed must be between 0 and 2**32 - 1"),
    ({}, space_of(("n", "int", "3", "3")), "the lower bound 3 has to be less than the upper bound 3"),
])
def test_settings_and_spaces_katib_accepts_but_skopt_refuses(settings, space, message):
    alg = build(space, settings=settings)
    with pytest.raises(SuggestionServiceFailure) as info:
        alg.suggest((), 2)
    assert message in info.value.message
    assert info.value.why and info.value.fix
    assert any(message.split("(")[0][:30] in w.message or "refuses" in w.message or "no trial" in w.message
               for w in alg.predicted_failures())


def test_both_negative_bounds_give_nan_which_katib_would_run():
    with pytest.raises(SuggestionServiceFailure) as info:
        build(space_of(("x", "double", "-10", "-1"))).suggest((), 1)
    assert "nan" in info.value.message


def test_after_a_failed_trial_katib_hands_out_the_same_point_again():
    alg = build(settings={"random_state": "3"})
    first = alg.suggest((), 1)[0]
    history = (Trial("t0", first, F),)
    again = alg.suggest(history, 1)[0]  # no new told trial: skopt's cached ask(1)
    assert MIXED.key(again) == MIXED.key(first)
    history += (Trial("t1", again, M),)
    assert MIXED.key(alg.suggest(history, 1)[0]) == MIXED.key(first)
    assert alg.service.repeated_answers == 2
    # A new told trial clears the cache.
    history += (Trial("t2", first, S, 1.0),)
    assert MIXED.key(alg.suggest(history, 1)[0]) != MIXED.key(first)


def test_corrected_never_repeats_a_failed_or_running_point():
    alg = build(settings={"random_state": "3", "n_initial_points": "2"})
    alg.corrected = True
    history: tuple = ()
    keys = set()
    for i, cond in enumerate([F, M, S, F, S, R, F]):
        a = alg.suggest(history, 1)[0]
        assert MIXED.key(a) not in keys
        keys.add(MIXED.key(a))
        history += (Trial(f"t{i}", a, cond, value_of(a) if cond == S else None),)


def test_a_restarted_pod_answers_differently_from_the_live_one():
    live = build(settings={"n_initial_points": "4"})
    history = []
    for i in range(4):
        a = live.suggest(tuple(history), 1)[0]
        history.append(Trial(f"t{i}", a, S, value_of(a)))
    restarted = build(settings={"n_initial_points": "4"})
    got_live = [MIXED.key(a) for a in live.suggest(tuple(history), 1)]
    got_restarted = [MIXED.key(a) for a in restarted.suggest(tuple(history), 1)]
    assert got_live != got_restarted  # the live pod's RandomState has moved on
    live.restart()
    assert [MIXED.key(a) for a in live.suggest(tuple(history), 1)] == got_restarted


def test_eips_tell_fails_once_per_new_trial_then_the_service_never_learns():
    alg = build(settings={"acq_func": "EIps", "random_state": "1"})
    batch = alg.suggest((), 2)
    history = (Trial("t0", batch[0], S, 1.0), Trial("t1", batch[1], R))
    with pytest.raises(SuggestionServiceFailure) as info:
        alg.suggest(history, 1)
    assert info.value.message == "expected y to be a list of (func_val, t)"
    retry = alg.suggest(history, 1)  # Katib's retry: nothing new to tell, so it asks
    assert alg.suggest(history + (Trial("t2", retry[0], F),), 1) == retry  # cached: the same point
    assert alg.service.optimizer.Xi == []


@pytest.mark.parametrize("m,p,n,want", [(12, 3, 10, 12), (12, 3, 3, 5), (12, 1, 10, 10), (12, 3, 1, 1),
                                        (30, 3, 10, 12), (5, 6, 10, 5), (12, 3, 0, 0)])
def test_random_trial_count(m, p, n, want):
    assert random_trials(m, p, n) == want


def test_predicted_failures_for_a_double_across_zero_point_at_its_min():
    warnings = build(ACROSS_ZERO).predicted_failures()
    assert [w.path for w in warnings] == ["spec.parameters[0].feasibleSpace.min"]
    assert warnings[0].severity == "warning" and "will create no trial" in warnings[0].message
