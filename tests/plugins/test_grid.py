"""`grid`: Katib's combinations, its validation messages, a reproducible order, and a clear end."""

from __future__ import annotations


import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from katibsim import algorithm_factory, plugins
from katibsim.algorithm import ObjectiveInfo, SettingsError, Trial, TrialCondition
from katibsim.suggest_check import checked_suggest
from katibsim.errors import SearchSpaceExhausted, SpecError
from katibsim_plugins.grid import Grid, Permutation
from plugin_helpers import experiment, pspec, space_of

OBJ = ObjectiveInfo("accuracy", maximize=True)


def space6():
    return space_of(
        pspec("lr", "double", min="0.01", max="0.03", step="0.01"),
        pspec("opt", "categorical", list=["sgd", "adam"]),
    )


def run_all(alg, per_call=2, condition=TrialCondition.RUNNING):
    """Drive the grid to its end; return the suggested assignments and the final result."""
    history: list[Trial] = []
    while True:
        res = checked_suggest(alg, history, per_call)
        history += [Trial(f"t{len(history)}", a, condition) for a in res.assignments]
        if res.exhausted:
            return [t.assignment for t in history], res


def test_registered_under_katib_name():
    assert plugins.algorithms()["grid"] is Grid


def test_katib_combinations():
    space = space_of(
        pspec("n", "int", min="1", max="10", step="4"),  # range(1, 11, 4)
        pspec("lr", "double", min="0.01", max="0.05", step="0.02"),  # arange(0.01, 0.07, 0.02), last dropped
        pspec("d", "discrete", list=["16", "0.5"]),
        pspec("c", "categorical", list=["a"]),
    )
    alg = Grid(space, OBJ, {"order": "lexicographic"}, 0)
    assert alg.axes == [[1, 5, 9], np.arange(0.01, 0.07, 0.02).tolist()[:3], [16, 0.5], ["a"]]
    assert alg.combinations == 3 * 3 * 2 * 1
    points, _ = run_all(alg)
    assert points == [dict(a) for a in space.grid()]  # lexicographic: the first parameter slowest


def test_double_artefacts_are_katibs():
    space = space_of(pspec("lr", "double", min="0.005", max="0.015", step="0.005"))
    values = [a["lr"] for a in run_all(Grid(space, OBJ, {"order": "lexicographic"}, 0))[0]]
    assert values == np.arange(0.005, 0.02, 0.005).tolist()[:3]
    assert values[-1] == 0.015  # not 0.015000000000000001 here, but whatever numpy gives


@pytest.mark.parametrize("order", ["shuffled", "lexicographic"])
def test_every_combination_exactly_once_then_exhausted(order):
    space = space6()
    points, res = run_all(Grid(space, OBJ, {"order": order}, 11), per_call=3)
    assert len(points) == 6 and len({space.key(p) for p in points}) == 6
    assert res.exhausted and res.assignments == ()
    assert res.message == "grid exhausted: all 6 search combinations have been suggested (0 left of the 3 requested)"


def test_exhaustion_returns_what_is_left():
    alg = Grid(space6(), OBJ, {}, 0)
    history = [Trial(f"t{i}", a, TrialCondition.SUCCEEDED, 0.5) for i, a in enumerate(alg.suggest([], 5))]
    with pytest.raises(SearchSpaceExhausted) as info:
        alg.suggest(history, 3)
    assert len(info.value.assignments) == 1
    assert "(1 left of the 3 requested)" in str(info.value)


def test_shuffled_order_is_seeded_by_random_state_else_seed():
    space = space_of(pspec("n", "int", min="0", max="99"))
    order = lambda settings, seed: [a["n"] for a in Grid(space, OBJ, settings, seed).suggest([], 100)]
    a = order({}, 1)
    assert sorted(a) == list(range(100))
    assert a == order({}, 1) and a != order({}, 2)
    assert order({"random_state": "5"}, 1) == order({"random_state": "5"}, 2) != a
    assert order({"order": "lexicographic"}, 1) == list(range(100))


def test_skips_history_points_running_included():
    space = space6()
    alg = Grid(space, OBJ, {"order": "lexicographic"}, 0)
    all_points = [dict(a) for a in space.grid()]
    history = [
        Trial("a", all_points[0], TrialCondition.RUNNING),
        Trial("b", all_points[2], TrialCondition.FAILED),
        Trial("c", all_points[3], TrialCondition.EARLY_STOPPED, 0.2),
    ]
    assert alg.suggest(history, 3) == [all_points[1], all_points[4], all_points[5]]


def test_rebuilt_grid_continues_where_the_old_one_was():
    space = space6()
    running = Grid(space, OBJ, {}, 9)
    history = [Trial(f"t{i}", a, TrialCondition.SUCCEEDED, 0.1) for i, a in enumerate(running.suggest([], 2))]
    history += [Trial(f"t{i + 2}", a, TrialCondition.RUNNING) for i, a in enumerate(running.suggest(history, 2))]
    assert Grid(space, OBJ, {}, 9).suggest(history, 2) == running.suggest(history, 2)


def test_unrelated_history_resets_the_cursor():
    space = space6()
    alg = Grid(space, OBJ, {"order": "lexicographic"}, 0)
    pts = [dict(a) for a in space.grid()]
    long = [Trial(f"t{i}", a, TrialCondition.SUCCEEDED, 0.1) for i, a in enumerate(pts[:5])]
    assert alg.suggest(long, 1) == [pts[5]]
    assert alg.suggest([], 1) == [pts[0]]


def test_max_trial_count_beyond_combinations_katib_message():
    space = space6()
    with pytest.raises(SettingsError) as info:
        Grid(space, OBJ, {}, 0, max_trial_count=7)
    assert info.value.message == "Max Trial Count: 7 > all possible search combinations: 6"
    assert info.value.path == "spec.maxTrialCount"
    Grid(space, OBJ, {}, 0, max_trial_count=6)
    Grid(space, OBJ, {}, 0, max_trial_count=None)


def test_double_without_step_katib_message():
    space = space_of(pspec("n", "int", min="1", max="2"), pspec("lr", "double", min="0.1", max="0.2"))
    with pytest.raises(SettingsError) as info:
        Grid(space, OBJ, {}, 0)
    assert info.value.message == "Param lr step is nil; For discrete search space, all parameters must include step"
    assert info.value.path == "spec.parameters[1].feasibleSpace.step"


@pytest.mark.parametrize(
    "settings, message, setting",
    [
        ({"random_state": "-3"}, "random_state should be great or equal than zero", "random_state"),
        ({"random_state": "x"}, "failed to validate random_state(x): invalid literal for int() with base 10: 'x'", "random_state"),
        ({"order": "random"}, "order should be one of shuffled, lexicographic, got random", "order"),
        ({"seed": "1"}, "unknown setting seed for algorithm grid", "seed"),
    ],
)
def test_settings_messages(settings, message, setting):
    with pytest.raises(SettingsError) as info:
        Grid(space6(), OBJ, settings, 0)
    assert info.value.message == message and info.value.setting == setting


def test_build_algorithm_maps_max_trial_count_to_its_field():
    exp = experiment(
        pspec("lr", "double", min="0.01", max="0.03", step="0.01"), algorithm="grid", max_trial_count=4
    )
    with pytest.raises(SpecError) as info:
        algorithm_factory.build_algorithm(exp)
    (err,) = info.value.errors
    assert (err.path, err.message, err.file) == (
        "spec.maxTrialCount",
        "Max Trial Count: 4 > all possible search combinations: 3",
        "exp.yaml",
    )


def test_huge_grid_is_walked_lazily():
    space = space_of(*(pspec(f"p{i}", "int", min="0", max="999") for i in range(5)))  # 10^15 points
    alg = Grid(space, OBJ, {}, 0)
    batch = alg.suggest([], 50)  # an eager walk of 10^15 points would never return
    assert alg.combinations == 10**15 and len({space.key(a) for a in batch}) == 50


def test_too_fine_a_step_is_refused():
    space = space_of(pspec("lr", "double", min="0", max="1", step="1e-9"))
    with pytest.raises(SettingsError, match="more than 10000000 grid values"):
        Grid(space, OBJ, {}, 0)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 3000), seed=st.integers(0, 2**40))
def test_permutation_is_a_bijection(n, seed):
    perm = Permutation(n, seed)
    assert sorted(perm(i) for i in range(n)) == list(range(n))
