"""``hyperband``: Katib's bracket arithmetic, its state in algorithmSettings, and its failures."""

from __future__ import annotations

import pytest

from katibsim.algorithm import ObjectiveInfo, SettingsError, Trial, TrialCondition
from katibsim.suggest_check import checked_suggest
from katibsim.errors import SearchSpaceExhausted, SuggestionServiceFailure
from katibsim.spec.model import FeasibleSpace, ParameterSpec
from katibsim.spec.space import SearchSpace
from katibsim.testing import parametrize_with_checks
from katibsim_plugins.katib_hyperband import HyperbandParam, Hyperband, brackets, katib_schedule, min_parallel, s_max_of

LOSS = ObjectiveInfo("loss", maximize=False)
SPACE = SearchSpace.from_specs([
    ParameterSpec("lr", "double", FeasibleSpace(min="0.01", max="0.05")),
    ParameterSpec("momentum", "double", FeasibleSpace(min="0.5", max="0.9")),
    ParameterSpec("num-epochs", "int", FeasibleSpace(min="1", max="81")),
])
ETA3 = {"resource_name": "num-epochs", "eta": "3", "r_l": "9"}


def build(settings=ETA3, parallel=9, max_trials=None, seed=0, space=SPACE):
    return Hyperband(space, LOSS, settings, seed, parallel_trial_count=parallel, max_trial_count=max_trials)


def finish(history, value=lambda a: a["lr"]):
    return [t if t.condition != TrialCondition.RUNNING else
            Trial(t.name, t.assignment, TrialCondition.SUCCEEDED, value(t.assignment), start_time=t.start_time)
            for t in history]


def ask(alg, history, count):
    out = checked_suggest(alg, history, count).assignments
    return history + [Trial(f"t{len(history) + i}", a, TrialCondition.RUNNING, start_time=float(len(history)))
                      for i, a in enumerate(out)], out


def test_bracket_arithmetic_for_eta_3_and_r_l_9():
    # s_max = int(log 9 / log 3) = 2; bracket s: n = ceil(3 * 3^s / (s + 1)), r = 9 * 3^-s;
    # each rung keeps ceil(n_i / 3) trials and gives them 3 times the resource.
    assert s_max_of(9, 3) == 2
    assert min_parallel(9, 3) == 9
    assert brackets(9, 3) == [[(9, 1), (3, 3), (1, 9)], [(5, 3), (2, 9)], [(3, 9)]]
    p = HyperbandParam.convert(list(ETA3.items()))
    assert (p.s_max, p.b_l, p.current_s, p.current_i, p.n, p.r) == (2, 27.0, 2, 0, 9, 1.0)


def test_katib_example_first_rung_and_its_state():
    # hyperband.yaml: eta 2, r_l 2 -> s_max 1; parallelTrialCount 2 = 2^1; 2 trials with num-epochs 1.
    sp = SearchSpace.from_specs([ParameterSpec("lr", "double", FeasibleSpace(min="0.01", max="0.05")),
                                 ParameterSpec("momentum", "double", FeasibleSpace(min="0.5", max="0.9")),
                                 ParameterSpec("num-epochs", "int", FeasibleSpace(min="1", max="1"))])
    alg = Hyperband(sp, LOSS, {"resource_name": "num-epochs", "eta": "2", "r_l": "2"}, 0,
                    parallel_trial_count=2, max_trial_count=2)
    _, out = ask(alg, [], 2)
    assert [a["num-epochs"] for a in out] == [1, 1]
    assert dict(alg.status_algorithm_settings) == {
        "eta": "2.0", "s_max": "1", "r_l": "2.0", "b_l": "4.0", "r": "1.0", "n": "2", "current_s": "1",
        "current_i": "0", "resource_name": "num-epochs", "evaluating_trials": "2"}
    assert alg.predicted_failures() == []  # maxTrialCount 2 ends it after the first rung


def test_a_whole_bracket_when_requests_match_the_rungs():
    # Katib overwrites n with the request: a request of 1 after the first rung promotes the best one.
    alg = build()
    h, out = ask(alg, [], 9)
    assert [a["num-epochs"] for a in out] == [1] * 9
    h = finish(h)
    best = min(h, key=lambda t: t.value)
    h, out = ask(alg, h, 1)
    assert list(out) == [{**best.assignment, "num-epochs": 3}]
    h, out = ask(alg, finish(h), 1)
    assert out[0]["num-epochs"] == 9 and out[0]["lr"] == best.assignment["lr"]
    state = dict(alg.status_algorithm_settings)
    assert (state["current_s"], state["current_i"], state["n"], state["r"], state["evaluating_trials"]) == \
        ("1", "0", "5", "3.0", "0")  # the next bracket: 5 trials with 3 epochs


def test_state_round_trips_through_algorithm_settings():
    alg = build(seed=4)
    h, _ = ask(alg, [], 9)
    h = finish(h)
    h1, _ = ask(alg, h, 1)
    h1 = finish(h1)
    # A service restarted with what the Suggestion carries continues exactly like the running one.
    rebuilt = build(settings=dict(alg.request_settings()), seed=4)
    assert rebuilt.suggest(h1, 1) == alg.suggest(h1, 1)
    assert rebuilt.status_algorithm_settings == alg.status_algorithm_settings


def test_a_rung_smaller_than_the_request_is_dropped_and_the_state_kept():
    alg = build()
    h, _ = ask(alg, [], 9)
    before = alg.status_algorithm_settings
    with pytest.raises(SuggestionServiceFailure) as err:
        alg.suggest(finish(h), 9)  # the controller asks for 9 again; the rung has ceil(9/3) = 3
    assert err.value.message == "The response contains unexpected trials"
    assert alg.status_algorithm_settings == before


def test_a_running_trial_in_the_rung_fails_the_call():
    alg = build()
    h, _ = ask(alg, [], 9)
    h = finish(h[:-1]) + h[-1:]
    with pytest.raises(SuggestionServiceFailure, match="not completed yet"):
        alg.suggest(h, 1)


def test_after_the_last_bracket_katib_hangs_and_corrected_ends():
    alg = build(settings={"resource_name": "num-epochs", "eta": "3", "r_l": "3"}, parallel=3)
    h, _ = ask(alg, [], 3)   # s = 1: 3 trials, r = 1
    h, _ = ask(alg, finish(h), 1)  # the best, r = 3; bracket s = 0 next
    h, _ = ask(alg, finish(h), 2)  # s = 0: n = 2 trials with r = 3; then current_s = -1
    assert dict(alg.status_algorithm_settings)["current_s"] == "-1"
    with pytest.raises(SuggestionServiceFailure, match="unexpected trials"):
        alg.suggest(finish(h), 3)
    alg.corrected = True
    with pytest.raises(SearchSpaceExhausted):
        alg.suggest(finish(h), 3)


@pytest.mark.parametrize("settings,parallel,message", [
    ({"resource_name": "num-epochs"}, 9, "r_l and resource_name must be set."),
    ({"r_l": "9"}, 9, "r_l and resource_name must be set."),
    ({"resource_name": "num-epochs", "r_l": "nine"}, 9, "r_l must be a positive float number."),
    ({"resource_name": "num-epochs", "r_l": "-1"}, 9, "r_l must be a positive float number."),
    ({"resource_name": "num-epochs", "r_l": "9", "eta": "3"}, 8, "parallelTrialCount must be not less than 9."),
    ({"resource_name": "epochs", "r_l": "9"}, 9, "value of resource_name setting must be in parameters."),
])
def test_validation_messages(settings, parallel, message):
    with pytest.raises(SettingsError) as err:
        build(settings=settings, parallel=parallel)
    assert err.value.message == message


def test_eta_zero_or_negative_means_three():
    assert build(settings={**ETA3, "eta": "0"}).suggest([], 9)
    with pytest.raises(SettingsError, match="parallelTrialCount must be not less than 9"):
        build(settings={**ETA3, "eta": "-2"}, parallel=3)


def test_predicted_hang_without_a_fitting_max_trial_count():
    assert katib_schedule(9, None, 9, 3)[:1] == (9,)
    assert katib_schedule(9, 10, 9, 3) == (10, "max", [1, 3])
    warnings = build(max_trials=None).predicted_failures()
    assert any(w.path == "spec.maxTrialCount" and "hang after 9 trial(s)" in w.message for w in warnings)
    assert not any(w.path == "spec.maxTrialCount" for w in build(max_trials=10).predicted_failures())


def test_resource_outside_the_parameter_is_predicted():
    sp = SearchSpace.from_specs([ParameterSpec("lr", "double", FeasibleSpace(min="0.01", max="0.05")),
                                 ParameterSpec("num-epochs", "int", FeasibleSpace(min="1", max="3"))])
    warnings = build(space=sp, max_trials=10).predicted_failures()  # 9 trials with 1 epoch, the best with 3
    assert not any("lie outside" in w.message for w in warnings)
    sp = SearchSpace.from_specs([ParameterSpec("lr", "double", FeasibleSpace(min="0.01", max="0.05")),
                                 ParameterSpec("num-epochs", "int", FeasibleSpace(min="1", max="2"))])
    warnings = build(space=sp, max_trials=10).predicted_failures()
    assert any("[3] lie outside" in w.message for w in warnings)


def test_discrete_values_that_are_not_ints_crash_the_master_rung():
    sp = SearchSpace.from_specs([ParameterSpec("d", "discrete", FeasibleSpace(list=("0.1", "0.2"))),
                                 ParameterSpec("num-epochs", "int", FeasibleSpace(min="1", max="9"))])
    with pytest.raises(SuggestionServiceFailure, match="invalid literal for int"):
        build(space=sp).suggest([], 9)


def test_unknown_settings_are_ignored():
    alg = build(settings={**ETA3, "foo": "1"})
    assert len(alg.suggest([], 9)) == 9
    assert any("ignores the setting foo" in w.message for w in alg.predicted_failures())


class KitHyperband(Hyperband):
    """The kit's spaces have no resource parameter: the first one plays it (r_l 1: one rung a bracket).
    Corrected, so discrete lists of any numbers work (Katib's parses them with int())."""

    corrected = True

    def __init__(self, space, objective, settings=None, seed=None, **kw):
        super().__init__(space, objective, {"resource_name": space.names[0], "r_l": "1", **(settings or {})}, seed, **kw)


@parametrize_with_checks(KitHyperband, skip={
    **dict.fromkeys(("check_rebuild_same_answer", "check_history_with_failed_nan_running_earlystopped",
                     "check_pickles", "check_batch"),
                    "r_l 1 is one bracket of one rung: the second request meets Katib's 'unexpected trials'"),
    "check_rejects_junk_settings": "Katib's hyperband ignores unknown names"})
def test_conformance_kit(check):
    check()
