"""Katib's known behaviour, reproduced: distributions, repeats, failures, restarts, validation messages."""

from __future__ import annotations

import math
import re
from collections import Counter

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from katibsim.algorithm import SettingsError, Trial, TrialCondition
from katibsim.suggest_check import checked_suggest
from katibsim.errors import SearchSpaceExhausted, SuggestionServiceFailure
from katibsim.testing import strategies as kst
from katibsim_plugins.katib_common import katib_value
from katibsim_plugins.katib_hyperopt.plugin import KatibRandom, KatibTpe
from katibsim_plugins.katib_hyperopt.service import HyperoptService
from katibsim_plugins.katib_optuna.plugin import KatibGrid, KatibMultivariateTpe
from helpers import MINIMIZE, MIXED, Katib, space, value_of

# -- random's distributions ------------------------------------------------------------------------


def test_random_int_end_values_get_half_weight():
    # Katib's ints are hyperopt quniform(min, max, 1): round(U(1, 3)) gives 1 on [1, 1.5), 2 on
    # [1.5, 2.5), 3 on [2.5, 3]: 0.25 / 0.50 / 0.25, not a third each.
    alg = KatibRandom(space(("n", "int", {"min": "1", "max": "3"})), MINIMIZE, {"random_state": "1"})
    n = 5000  # hyperopt draws slowly (~0.5 ms a point); the standard error of each share is < 0.008
    draws = Counter(a["n"] for a in alg.suggest((), n))
    assert abs(draws[1] / n - 0.25) < 0.03 and abs(draws[3] / n - 0.25) < 0.03
    assert abs(draws[2] / n - 0.50) < 0.03


@hsettings(max_examples=8, deadline=None)
@given(lo=st.integers(-50, 50), width=st.integers(2, 4), seed=st.integers(0, 2**31))
def test_random_int_ends_are_rarer_than_the_middle(lo, width, seed):
    """Property: for any int range, each end value is drawn about half as often as an inner one."""
    alg = KatibRandom(space(("n", "int", {"min": str(lo), "max": str(lo + width)})), MINIMIZE,
                      {"random_state": str(seed % 2**32)})
    n = 2000  # the ratio's standard error is below 0.04
    c = Counter(a["n"] for a in alg.suggest((), n))
    inner = sum(c[v] for v in range(lo + 1, lo + width)) / (width - 1)
    assert set(c) <= set(range(lo, lo + width + 1))
    for end in (lo, lo + width):
        assert 0.3 < c[end] / inner < 0.75


def test_random_normal_is_not_clipped_by_katib():
    # The service's own values (what Katib runs): mu = 0.5, sigma = 1/6, so ~0.27% outside [0, 1].
    sp = space(("x", "double", {"min": "0", "max": "1", "distribution": "normal"}))
    service = HyperoptService("random", sp, maximize=False, seed=3)
    xs = [katib_value(sp["x"], a["x"]) for a in service.get_suggestions([], 12000)]
    outside = sum(not 0 <= x <= 1 for x in xs) / len(xs)
    assert 0.0012 < outside < 0.0045
    # katibsim's runs cannot hold an infeasible point: the plugin moves exactly those values.
    alg = KatibRandom(sp, MINIMIZE, {"random_state": "3"})
    ours = [a["x"] for a in alg.suggest((), 12000)]
    assert alg.moved == sum(not 0 <= x <= 1 for x in xs)
    assert [o for o, x in zip(ours, xs) if 0 <= x <= 1] == [x for x in xs if 0 <= x <= 1]
    assert all(0 <= o <= 1 for o in ours)
    (warning,) = [f for f in alg.predicted_failures() if "distribution" in f.path]
    assert warning.severity == "warning" and "not clipped" in warning.message


@hsettings(max_examples=20, deadline=None)
@given(data=st.data())
def test_every_value_is_katibs_own_whenever_it_is_feasible(data):
    """Property: on any space, each answer value is float/int(str(the service's value)) unless
    that value is infeasible (then it is moved), for random and tpe."""
    sp = data.draw(kst.search_spaces(KatibRandom.capabilities))
    seed = data.draw(st.integers(0, 2**32 - 1))
    cls = data.draw(st.sampled_from([KatibRandom, KatibTpe]))
    alg = cls(sp, MINIMIZE, {"random_state": str(seed)})
    try:
        service = HyperoptService(cls.name, sp, maximize=False, seed=seed)
    except ValueError as exc:  # hyperopt refuses e.g. min == max: so does Katib's pod, on every call
        with pytest.raises(SuggestionServiceFailure, match=re.escape(str(exc))):
            alg.suggest((), 4)
        return
    raw = service.get_suggestions([], 4)
    ours = checked_suggest(alg, (), 4).assignments
    for r, a in zip(raw, ours):
        for p in sp:
            katib = katib_value(p, r[p.name])
            if p.contains(katib):
                assert a[p.name] == katib


# -- tpe: a batch is one point repeated (#1329) ----------------------------------------------------------


def _two_rounds(alg):
    katib = Katib()
    katib.add(alg.suggest((), 3))
    return alg.suggest(tuple(katib.history), 4)


def test_tpe_repeats_itself_within_a_batch_after_the_first_call():
    alg = KatibTpe(MIXED, MINIMIZE, {"random_state": "2"}, parallel_trial_count=4)
    first = alg.suggest((), 4)
    assert len({tuple(sorted(a.items())) for a in first}) == 4  # the first batch is random startup
    batch = _two_rounds(KatibTpe(MIXED, MINIMIZE, {"random_state": "2"}))
    assert all(a == batch[0] for a in batch)
    (w,) = [f for f in alg.predicted_failures() if f.path == "spec.parallelTrialCount"]
    assert "#1329" in w.message and w.severity == "warning"
    assert not [f for f in KatibTpe(MIXED, MINIMIZE, {}, parallel_trial_count=1).predicted_failures()]


def test_tpe_corrected_gives_distinct_points():
    alg = KatibTpe(MIXED, MINIMIZE, {"random_state": "2"})
    alg.corrected = True
    batch = _two_rounds(alg)
    assert len({tuple(sorted(a.items())) for a in batch}) == 4


def test_tpe_restarted_pod_fails_once_on_a_batch():
    katib = Katib()
    live = KatibTpe(MIXED, MINIMIZE, {"random_state": "2"})
    for c in (3, 3, 3):
        katib.add(live.suggest(tuple(katib.history), c))
    restarted = KatibTpe(MIXED, MINIMIZE, {"random_state": "2"})
    with pytest.raises(SuggestionServiceFailure) as info:
        restarted.suggest(tuple(katib.history), 3)
    assert info.value.message == "The response contains unexpected trials"
    assert len(restarted.suggest(tuple(katib.history), 3)) == 3  # no longer its first run
    fixed = KatibTpe(MIXED, MINIMIZE, {"random_state": "2"})
    fixed.corrected = True
    assert len(fixed.suggest(tuple(katib.history), 3)) == 3


def test_random_state_beyond_numpy_fails_every_call():
    for cls in (KatibRandom, KatibTpe, KatibMultivariateTpe, KatibGrid):
        sp = space(("n", "int", {"min": "1", "max": "3"}))
        alg = cls(sp, MINIMIZE, {"random_state": str(2**32)})
        for _ in range(2):
            with pytest.raises(SuggestionServiceFailure, match="2\\*\\*32|2 \\*\\* 32|between 0 and"):
                alg.suggest((), 1)
        assert any("algorithmSettings[0]" in f.path for f in alg.predicted_failures())


# -- grid ------------------------------------------------------------------------------------------------

SMALL = space(("n", "int", {"min": "1", "max": "2"}), ("o", "categorical", {"list": ["a", "b"]}))  # 4 points


def _succeed_all(history):
    return [Trial(t.name, t.assignment, TrialCondition.SUCCEEDED, value_of(t.assignment)) for t in history]


def test_grid_with_a_normal_parameter_fails_every_call_with_katibs_text():
    sp = space(("x", "double", {"min": "0", "max": "1", "step": "0.5", "distribution": "normal"}))
    alg = KatibGrid(sp, MINIMIZE, {}, max_trial_count=3)
    for _ in range(3):
        with pytest.raises(SuggestionServiceFailure) as info:
            alg.suggest((), 1)
        assert info.value.message == (
            "Unsupported distribution NORMAL for parameter x. The Optuna suggestion service supports only "
            "UNIFORM and LOG_UNIFORM for double parameters.")
        assert info.value.why and info.value.fix
    (w,) = alg.predicted_failures()
    assert w.path == "spec.parameters[0].feasibleSpace.distribution" and w.severity == "warning"
    sp = space(("n", "int", {"min": "1", "max": "9", "distribution": "logNormal"}))
    with pytest.raises(SuggestionServiceFailure, match="Unsupported distribution LOG_NORMAL for parameter n.*int"):
        KatibMultivariateTpe(sp, MINIMIZE, {}).suggest((), 1)


def test_grid_all_asked_re_offers_running_points_then_fails_when_the_last_is_told():
    alg = KatibGrid(SMALL, MINIMIZE, {"random_state": "1"})
    first = alg.suggest((), 4)
    assert len({tuple(a.items()) for a in first}) == 4  # every point once
    running = [Trial(f"t{i}", a, TrialCondition.RUNNING) for i, a in enumerate(first)]
    again = alg.suggest(tuple(running), 2)  # nothing finished: Katib re-offers running points
    assert all(a in first for a in again)
    history = running + [Trial(f"t{4 + i}", a, TrialCondition.RUNNING) for i, a in enumerate(again)]
    done = _succeed_all(history[:4]) + history[4:]
    with pytest.raises(SuggestionServiceFailure) as info:
        alg.suggest(tuple(done), 1)
    assert "Study.stop" in info.value.message and "maxTrialCount" in info.value.fix
    # The tell is stored: the next call asks again (a finished point, re-picked at random).
    (a,) = alg.suggest(tuple(done), 1)
    assert a in first
    done = done + [Trial("t6", a, TrialCondition.SUCCEEDED, 1.0)]
    with pytest.raises(SuggestionServiceFailure):  # after exhaustion every tell fails the call
        alg.suggest(tuple(done), 1)


def test_grid_without_max_trial_count_is_predicted_to_never_end():
    (w,) = KatibGrid(SMALL, MINIMIZE, {}).predicted_failures()
    assert w.path == "spec.maxTrialCount" and "maxTrialCount: 4" in w.message
    assert KatibGrid(SMALL, MINIMIZE, {}, max_trial_count=4).predicted_failures() == []


def test_grid_corrected_ends_with_exhaustion():
    alg = KatibGrid(SMALL, MINIMIZE, {"random_state": "1"})
    alg.corrected = True
    first = alg.suggest((), 3)
    history = _succeed_all([Trial(f"t{i}", a, TrialCondition.RUNNING) for i, a in enumerate(first)])
    with pytest.raises(SearchSpaceExhausted) as info:
        alg.suggest(tuple(history), 2)
    (last,) = info.value.assignments
    assert last not in first


def test_grid_max_trial_count_and_steps_are_validated_like_katib():
    with pytest.raises(SettingsError) as info:
        KatibGrid(SMALL, MINIMIZE, {}, max_trial_count=5)
    assert info.value.message == "Max Trial Count: 5 > all possible search combinations: 4"
    assert info.value.path == "spec.maxTrialCount"
    with pytest.raises(SettingsError, match=r"failed to validate parameters\(\[HyperParameter\(name: x.*Param x step is nil"):
        KatibGrid(space(("x", "double", {"min": "0", "max": "1"})), MINIMIZE, {})


def test_optuna_restarted_pod_fails_once_per_trial_it_did_not_ask():
    katib = Katib()
    live = KatibMultivariateTpe(MIXED, MINIMIZE, {"random_state": "1"})
    for c in (3, 3):
        katib.add(live.suggest(tuple(katib.history), c))
    n_told = len(katib.told())
    restarted = KatibMultivariateTpe(MIXED, MINIMIZE, {"random_state": "1"})
    for _ in range(n_told):
        with pytest.raises(SuggestionServiceFailure) as info:
            restarted.suggest(tuple(katib.history), 1)
        assert info.value.message == "ValueError: An unknown trial has been passed in the GetSuggestion request."
    assert len(restarted.suggest(tuple(katib.history), 1)) == 1  # every unknown trial recorded: it goes on
    fixed = KatibMultivariateTpe(MIXED, MINIMIZE, {"random_state": "1"})
    fixed.corrected = True
    assert len(fixed.suggest(tuple(katib.history), 2)) == 2


# -- settings, with Katib's messages ----------------------------------------------------------------------


@pytest.mark.parametrize("cls, settings, message", [
    (KatibTpe, {"gamma": "1"}, "gamma should be in the range of (0, 1)"),
    (KatibTpe, {"gamma": "x"}, "failed to validate gamma(x): could not convert string to float: 'x'"),
    (KatibTpe, {"prior_weight": "0"}, "prior_weight should be great than zero"),
    (KatibTpe, {"n_EI_candidates": "0"}, "n_EI_candidates should be great than zero"),
    (KatibTpe, {"n_EI_candidates": "2.5"},
     "failed to validate n_EI_candidates(2.5): invalid literal for int() with base 10: '2.5'"),
    (KatibTpe, {"random_state": "-1"}, "random_state should be great or equal than zero"),
    (KatibTpe, {"n_startup_jobs": "3"}, "unknown setting n_startup_jobs for algorithm tpe"),
    (KatibTpe, {"gamma": "2", "bogus": "1"}, "gamma should be in the range of (0, 1)"),  # Katib's order
    (KatibRandom, {"random_state": "-1"}, "random_state should be great or equal than zero"),
    (KatibRandom, {"gamma": "0.5"}, "unknown setting gamma for algorithm random"),
    (KatibMultivariateTpe, {"n_startup_trials": "-1"}, "n_startup_trials should be greate or equal than zero"),
    (KatibMultivariateTpe, {"n_ei_candidates": "-2"}, "n_ei_candidates should be greate or equal than zero"),
    (KatibMultivariateTpe, {"random_state": "-2"}, "random_state should be greate or equal than zero"),
    (KatibMultivariateTpe, {"seed": "2"}, "unknown setting seed for algorithm multivariate-tpe"),
    (KatibMultivariateTpe, {"n_startup_trials": "a"},
     "failed to validate n_startup_trials(a): invalid literal for int() with base 10: 'a'"),
    (KatibGrid, {"random_state": "-1"}, "Katib's Optuna service rejects a negative random_state with an empty "
                                        "message (\"ValidateAlgorithmSettings Error: \"): random_state must be an int >= 0"),
    (KatibGrid, {"order": "shuffled"}, "unknown setting order for algorithm grid"),
])
def test_settings_messages_are_katibs(cls, settings, message):
    sp = SMALL
    with pytest.raises(SettingsError) as info:
        cls(sp, MINIMIZE, settings)
    assert info.value.message == message


def test_every_setting_katib_accepts_is_accepted():
    KatibTpe(MIXED, MINIMIZE, {"gamma": "0.3", "prior_weight": "2", "n_EI_candidates": "12", "random_state": "0"})
    KatibRandom(MIXED, MINIMIZE, {"random_state": "0"})
    KatibMultivariateTpe(MIXED, MINIMIZE, {"n_startup_trials": "0", "n_ei_candidates": "0", "random_state": "0"})
    KatibGrid(SMALL, MINIMIZE, {"random_state": "0"})


def test_multivariate_tpe_with_zero_ei_candidates_fails_after_start_up():
    alg = KatibMultivariateTpe(MIXED, MINIMIZE, {"n_ei_candidates": "0", "n_startup_trials": "2", "random_state": "1"})
    katib = Katib()
    katib.add(alg.suggest((), 2))
    katib.add(alg.suggest(tuple(katib.history), 2))  # one trial told so far: still start-up
    with pytest.raises(SuggestionServiceFailure, match="should be more than 0"):
        alg.suggest(tuple(katib.history), 2)
    (w,) = alg.predicted_failures()
    assert w.path == "spec.algorithm.algorithmSettings[0].value" and w.severity == "warning"
