"""`random`: Katib's settings and messages, every distribution, determinism, no repeats on finite spaces."""

from __future__ import annotations

import math

import numpy as np
import pytest

from katibsim import plugins
from katibsim.algorithm import ObjectiveInfo, SettingsError, Trial, TrialCondition
from katibsim.suggest_check import checked_suggest
from katibsim_plugins.random_search import RandomSearch
from plugin_helpers import pspec, space_of

OBJ = ObjectiveInfo("accuracy", maximize=True)


def draws(*specs, n=3000, seed=0):
    """n draws of a space made infinite by a continuous companion, so no repeat-avoidance applies."""
    space = space_of(*specs, pspec("_free", "double", min="0", max="1"))
    alg = RandomSearch(space, OBJ, {}, seed)
    return [a for a in alg.suggest([], n)]


def test_registered_under_katib_name():
    assert plugins.algorithms()["random"] is RandomSearch


@pytest.mark.parametrize(
    "value, message",
    [
        ("-1", "random_state should be great or equal than zero"),
        ("abc", "failed to validate random_state(abc): invalid literal for int() with base 10: 'abc'"),
        ("1.5", "failed to validate random_state(1.5): invalid literal for int() with base 10: '1.5'"),
    ],
)
def test_random_state_katib_messages(mixed_space, value, message):
    with pytest.raises(SettingsError) as info:
        RandomSearch(mixed_space, OBJ, {"random_state": value}, 0)
    assert info.value.message == message and info.value.setting == "random_state"


def test_unknown_setting(mixed_space):
    with pytest.raises(SettingsError) as info:
        RandomSearch(mixed_space, OBJ, {"n_EI_candidates": "24"}, 0)
    assert info.value.message == "unknown setting n_EI_candidates for algorithm random"
    assert info.value.on_name


def test_deterministic_under_seed_and_random_state_overrides_it():
    space = space_of(pspec("x", "double", min="0", max="1"))
    a = RandomSearch(space, OBJ, {}, 1).suggest([], 4)
    assert a == RandomSearch(space, OBJ, {}, 1).suggest([], 4)
    assert a != RandomSearch(space, OBJ, {}, 2).suggest([], 4)
    r1 = RandomSearch(space, OBJ, {"random_state": "7"}, 1).suggest([], 4)
    r2 = RandomSearch(space, OBJ, {"random_state": "7"}, 2).suggest([], 4)
    assert r1 == r2 != a


def test_no_seed_is_still_consistent_for_one_object():
    space = space_of(pspec("x", "double", min="0", max="1"))
    alg = RandomSearch(space, OBJ, {}, None)
    assert alg.suggest([], 3) == alg.suggest([], 3)


def test_answer_depends_on_history_length_not_on_calls():
    space = space_of(pspec("x", "double", min="0", max="1"))
    running = RandomSearch(space, OBJ, {}, 5)
    history: list[Trial] = []
    for _ in range(4):
        for a in running.suggest(history, 2):
            history.append(Trial(f"t{len(history)}", a, TrialCondition.SUCCEEDED, 0.1))
    rebuilt = RandomSearch(space, OBJ, {}, 5)
    assert rebuilt.suggest(history, 3) == running.suggest(history, 3)
    # A different history length gives a different generator.
    assert running.suggest(history[:-1], 3) != running.suggest(history, 3)


def small_space():
    return space_of(
        pspec("layers", "int", min="1", max="3"),
        pspec("opt", "categorical", list=["sgd", "adam"]),
        pspec("lr", "double", min="0.1", max="0.2", step="0.1"),
    )  # 3 * 2 * 2 = 12 points


def keys(space, assignments):
    return [space.key(a) for a in assignments]


def test_finite_space_no_repeat_until_exhausted_one_at_a_time():
    space = small_space()
    alg = RandomSearch(space, OBJ, {}, 3)
    history: list[Trial] = []
    for i in range(12):
        res = checked_suggest(alg, history, 1)
        assert res.duplicates == 0, f"repeat at trial {i}"
        history.append(Trial(f"t{i}", res.assignments[0], TrialCondition.RUNNING))
    assert len(set(keys(space, [t.assignment for t in history]))) == 12
    # Exhausted: random keeps answering (repeats allowed, counted by the host), never raises.
    res = checked_suggest(alg, history, 2)
    assert len(res.assignments) == 2 and res.duplicates == 2 and not res.exhausted


def test_finite_space_batch_fills_the_space_then_repeats():
    space = small_space()
    res = checked_suggest(RandomSearch(space, OBJ, {}, 4), [], 20)
    assert len(set(keys(space, res.assignments[:12]))) == 12
    assert res.duplicates == 8


def test_history_in_any_condition_is_not_repeated():
    space = small_space()
    alg = RandomSearch(space, OBJ, {}, 0)
    all_points = [dict(a) for a in space.grid()]
    conditions = list(TrialCondition)
    history = [Trial(f"t{i}", a, conditions[i % len(conditions)], None) for i, a in enumerate(all_points[:11])]
    (last,) = alg.suggest(history, 1)
    assert space.key(last) == space.key(all_points[11])


def test_nearly_exhausted_large_finite_space_finds_the_last_point():
    space = space_of(pspec("n", "int", min="0", max="999"))
    missing = 617
    history = [Trial(f"t{i}", {"n": i}, TrialCondition.SUCCEEDED, 0.0) for i in range(1000) if i != missing]
    assert RandomSearch(space, OBJ, {}, 0).suggest(history, 1) == [{"n": missing}]


def test_double_with_step_gives_katib_grid_values():
    # numpy.arange(0.1, 0.5 + 0.1, 0.1): Katib's values, float artefacts included.
    space = space_of(pspec("lr", "double", min="0.1", max="0.5", step="0.1"))
    grid = set(np.arange(0.1, 0.6, 0.1).tolist()[:5])
    values = {a["lr"] for a in RandomSearch(space, OBJ, {}, 0).suggest([], 5)}
    assert values == grid
    assert 0.30000000000000004 in values  # arange's artefact, as Katib's grid has it


@pytest.mark.parametrize("dist", ["normal", "logNormal"])
def test_normal_distributions_are_truncated_not_clipped(dist):
    lo, hi = (1.0, 7.0) if dist == "normal" else (0.001, 1.0)
    xs = np.array([a["x"] for a in draws(pspec("x", "double", min=str(lo), max=str(hi), distribution=dist), n=5000)])
    assert xs.min() >= lo and xs.max() <= hi
    # Truncation by resampling leaves no atom at the bounds (clipping would pile ~0.3% there).
    assert not np.any(xs == lo) and not np.any(xs == hi)
    t = np.log(xs) if dist == "logNormal" else xs
    tlo, thi = (math.log(lo), math.log(hi)) if dist == "logNormal" else (lo, hi)
    mu, sigma = (tlo + thi) / 2, (thi - tlo) / 6
    assert abs(t.mean() - mu) < 0.05 * sigma * 6
    assert 0.9 * sigma < t.std() < 1.05 * sigma  # truncation at ±3 sigma barely narrows it
    # About 68% within one sigma, as for a normal.
    assert 0.64 < np.mean(np.abs(t - mu) < sigma) < 0.72


def test_log_uniform_is_uniform_in_log_space():
    xs = np.array([a["x"] for a in draws(pspec("x", "double", min="0.0001", max="1", distribution="logUniform"), n=4000)])
    assert xs.min() >= 1e-4 and xs.max() <= 1
    # A quarter of the draws in each decade-pair: [1e-4, 1e-3) has 1/4 of the log range.
    assert 0.22 < np.mean(xs < 1e-3) < 0.28
    assert 0.47 < np.mean(xs < 1e-2) < 0.53


def test_uniform_double_and_int():
    xs = np.array([a["x"] for a in draws(pspec("x", "double", min="-2", max="10"), n=4000)])
    assert -2 <= xs.min() and xs.max() <= 10 and abs(xs.mean() - 4) < 0.25
    ns = [a["n"] for a in draws(pspec("n", "int", min="1", max="4"), n=4000)]
    counts = np.bincount(ns)[1:]
    assert set(ns) == {1, 2, 3, 4} and all(type(n) is int for n in ns)
    assert counts.min() > 850 and counts.max() < 1150


def test_int_with_step_and_normal_stays_on_grid():
    ns = [a["n"] for a in draws(pspec("n", "int", min="2", max="20", step="3", distribution="normal"), n=2000)]
    assert set(ns) <= {2, 5, 8, 11, 14, 17, 20}
    assert np.mean(ns) == pytest.approx(11, abs=0.5)


def test_int_log_uniform():
    ns = np.array([a["n"] for a in draws(pspec("n", "int", min="1", max="1000", distribution="logUniform"), n=4000)])
    assert ns.min() >= 1 and ns.max() <= 1000
    assert 0.25 < np.mean(ns < 10) < 0.42  # a third of the log range (rounding adds a little)


def test_lists_are_uniform():
    cats = [a["c"] for a in draws(pspec("c", "categorical", list=["a", "b", "c"]), n=3000)]
    discs = [a["d"] for a in draws(pspec("d", "discrete", list=["16", "32", "0.5"]), n=3000)]
    for values, expected in ((cats, {"a", "b", "c"}), (discs, {16, 32, 0.5})):
        assert set(values) == expected
        counts = [values.count(v) for v in expected]
        assert min(counts) > 850
    assert all(type(d) is int for d in discs if d != 0.5)
