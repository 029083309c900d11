"""The katibsim-bo plugin: the seed tutorial's behaviour, batches, duplicates, settings."""

from __future__ import annotations

import numpy as np
import pytest

from katibsim.algorithm import ObjectiveInfo, SettingsError, Trial, TrialCondition
from katibsim.errors import SearchSpaceExhausted
from katibsim.spec.space import Distribution, Parameter, ParameterType, SearchSpace
from katibsim_plugins.katibsim_bo.plugin import KatibsimBO

SEED_MAX_X = 2.0008743


def seed_fn(x):
    return float(np.exp(-((x - 2) ** 2)) + np.exp(-((x - 6) ** 2) / 10) + 1 / (x**2 + 1))


SPACE_1D = SearchSpace((Parameter("x", ParameterType.DOUBLE, min=-2.0, max=10.0),))
MAXIMIZE = ObjectiveInfo("f", maximize=True)


def run_seed(settings, seed, n=15):
    algo = KatibsimBO(SPACE_1D, MAXIMIZE, settings, seed=seed)
    trials = []
    for i in range(n):
        a = algo.suggest(trials, 1)[0]
        trials.append(Trial(f"t{i}", a, TrialCondition.SUCCEEDED, value=seed_fn(a["x"])))
    return np.array([t.assignment["x"] for t in trials])


def test_seed_tutorial_kappa_5_finds_the_global_maximum_and_kappa_1_explores_less():
    base = {"acq_func": "UCB", "n_initial_points": "3"}
    found, spread5, spread1 = 0, [], []
    for seed in range(20):
        xs = run_seed({**base, "kappa": "5"}, seed)
        found += bool(np.any(np.abs(xs - SEED_MAX_X) < 0.05))
        if seed < 10:
            spread5.append(np.std(xs[3:]))
            spread1.append(np.std(run_seed({**base, "kappa": "1"}, seed)[3:]))
    assert found >= 18, found
    assert np.mean(spread1) < 0.75 * np.mean(spread5), (np.mean(spread1), np.mean(spread5))


def _small_discrete_space():
    return SearchSpace(
        (
            Parameter("lr", ParameterType.DISCRETE, values=("0.001", "0.01", "0.1")),
            Parameter("opt", ParameterType.CATEGORICAL, values=("sgd", "adam")),
            Parameter("layers", ParameterType.INT, min=1, max=2),
        )
    )


def test_batch_with_pending_trials_has_no_duplicates_on_a_small_discrete_space():
    space = _small_discrete_space()  # 12 points
    algo = KatibsimBO(space, MAXIMIZE, {"n_initial_points": "2"}, seed=1)
    done = [
        Trial("a", {"lr": 0.01, "opt": "adam", "layers": 1}, TrialCondition.SUCCEEDED, value=0.9),
        Trial("b", {"lr": 0.1, "opt": "sgd", "layers": 2}, TrialCondition.SUCCEEDED, value=0.5),
        Trial("c", {"lr": 0.001, "opt": "sgd", "layers": 1}, TrialCondition.FAILED),
    ]
    pending = [
        Trial("d", {"lr": 0.01, "opt": "adam", "layers": 2}, TrialCondition.RUNNING),
        Trial("e", {"lr": 0.01, "opt": "sgd", "layers": 1}, TrialCondition.RUNNING),
        Trial("f", {"lr": 0.1, "opt": "adam", "layers": 1}, TrialCondition.CREATED),
    ]
    trials = done + pending
    batch = algo.suggest(trials, 3)
    keys = [space.key(a) for a in batch]
    assert len(set(keys)) == 3
    assert not set(keys) & {space.key(t.assignment) for t in trials}
    assert all(space.contains(a) for a in batch)
    # The remaining 3 points come next, then the space is exhausted.
    more = algo.suggest(trials + [Trial(f"n{i}", a, TrialCondition.RUNNING) for i, a in enumerate(batch)], 3)
    assert len({space.key(a) for a in more} | set(keys)) == 6
    full = trials + [Trial(f"m{i}", a, TrialCondition.RUNNING) for i, a in enumerate(batch + more)]
    with pytest.raises(SearchSpaceExhausted) as exc:
        algo.suggest(full, 1)
    assert exc.value.assignments == []


def test_batch_is_diverse_on_a_continuous_space():
    algo = KatibsimBO(SPACE_1D, MAXIMIZE, {"n_initial_points": "4"}, seed=3)
    trials = []
    for i, a in enumerate(algo.suggest([], 4)):
        trials.append(Trial(f"t{i}", a, TrialCondition.SUCCEEDED, value=seed_fn(a["x"])))
    batch = algo.suggest(trials, 3)
    xs = sorted(a["x"] for a in batch)
    assert min(np.diff(xs)) > 0.05  # kriging believer: not three copies of the same optimum


def test_same_answer_when_rebuilt_from_the_same_history():
    space = SearchSpace(
        (
            Parameter("lr", ParameterType.DOUBLE, min=1e-4, max=1e-1, distribution=Distribution.LOG_UNIFORM),
            Parameter("units", ParameterType.INT, min=16, max=256),
            Parameter("opt", ParameterType.CATEGORICAL, values=("sgd", "adam", "rmsprop")),
        )
    )
    obj = ObjectiveInfo("loss", maximize=False)

    def f(a):
        return (np.log10(a["lr"]) + 2.5) ** 2 + ((a["units"] - 100) / 100) ** 2 + (0.3 if a["opt"] == "sgd" else 0.0)

    live = KatibsimBO(space, obj, {"n_initial_points": "5"}, seed=11)
    trials = []
    for i in range(14):
        a = live.suggest(trials, 1)[0]
        assert space.contains(a)
        trials.append(Trial(f"t{i}", a, TrialCondition.SUCCEEDED, value=f(a)))
    rebuilt = KatibsimBO(space, obj, {"n_initial_points": "5"}, seed=11)
    assert rebuilt.suggest(trials, 2) == live.suggest(trials, 2)
    assert len({space.key(t.assignment) for t in trials}) == len(trials)


def test_minimize_goes_down():
    obj = ObjectiveInfo("loss", maximize=False)
    algo = KatibsimBO(SPACE_1D, obj, {"n_initial_points": "4"}, seed=0)
    trials = []
    for i in range(12):
        a = algo.suggest(trials, 1)[0]
        trials.append(Trial(f"t{i}", a, TrialCondition.SUCCEEDED, value=(a["x"] - 7.3) ** 2))
    assert min(t.value for t in trials[4:]) < 0.01


def test_introspect_gives_the_tutorial_picture():
    algo = KatibsimBO(SPACE_1D, MAXIMIZE, {"acq_func": "UCB", "kappa": "5", "n_initial_points": "3"}, seed=0)
    trials = []
    assert algo.introspect(trials) is None
    for i in range(5):
        a = algo.suggest(trials, 1)[0]
        trials.append(Trial(f"t{i}", a, TrialCondition.SUCCEEDED, value=seed_fn(a["x"])))
    info = algo.introspect(trials, points=50)
    assert info["param"] == "x" and len(info["x"]) == 50
    mean, std, acq = map(np.array, (info["mean"], info["std"], info["acquisition"]))
    assert mean.shape == std.shape == acq.shape == (50,) and np.all(std >= 0)
    # At an observed point the GP mean is the observation and the uncertainty is small.
    x0, y0 = info["observed"][0]
    i = int(np.argmin(np.abs(np.array(info["x"]) - x0)))
    assert abs(mean[i] - y0) < 0.1
    assert info["next"] == algo.suggest(trials, 1)[0]


def test_accepts_katib_settings_and_ours():
    algo = KatibsimBO(
        SPACE_1D,
        MAXIMIZE,
        {"base_estimator": "GP", "n_initial_points": "0", "acq_func": "gp_hedge", "acq_optimizer": "sampling", "random_state": "3", "kappa": "1.5", "xi": "0.01", "kappa_decay": "0.9"},
    )
    trials = []
    for i in range(6):
        a = algo.suggest(trials, 1)[0]
        trials.append(Trial(f"t{i}", a, TrialCondition.SUCCEEDED, value=seed_fn(a["x"])))
    assert len({t.assignment["x"] for t in trials}) == 6


@pytest.mark.parametrize("acq", ["LCB", "EI", "PI", "EIps", "PIps", "logEI", "UCB"])
def test_every_acquisition_runs(acq):
    algo = KatibsimBO(SPACE_1D, MAXIMIZE, {"acq_func": acq, "n_initial_points": "3"}, seed=0)
    trials = []
    for i in range(5):
        a = algo.suggest(trials, 1)[0]
        trials.append(Trial(f"t{i}", a, TrialCondition.SUCCEEDED, value=seed_fn(a["x"]), start_time=0.0, completion_time=10.0 + a["x"] ** 2))
    assert SPACE_1D.contains(algo.suggest(trials, 1)[0])


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"base_estimator": "RF"}, "base_estimator RF is not supported in Bayesian optimization"),
        ({"base_estimator": "XX"}, "base_estimator XX is not supported in Bayesian optimization"),
        ({"acq_func": "foo"}, "acq_func foo is not supported in Bayesian optimization"),
        ({"acq_optimizer": "adam"}, "acq_optimizer adam is not supported in Bayesian optimization"),
        ({"n_initial_points": "-1"}, "n_initial_points should be great or equal than zero"),
        ({"random_state": "-2"}, "random_state should be great or equal than zero"),
        ({"n_initial_points": "ten"}, "failed to validate n_initial_points(ten)"),
        ({"kappa": "-1"}, "failed to validate kappa(-1): expected a number >= 0"),
        ({"kappa_decay": "1.5"}, "failed to validate kappa_decay(1.5): expected a number in (0, 1]"),
        ({"xi": "nan"}, "failed to validate xi(nan)"),
        ({"unknown": "1"}, "unknown setting unknown for algorithm katibsim-bo"),
    ],
)
def test_settings_validation_messages(settings, message):
    with pytest.raises(SettingsError) as exc:
        KatibsimBO(SPACE_1D, MAXIMIZE, settings)
    assert message in exc.value.message
    assert exc.value.setting == next(iter(settings))


def test_settings_spec_lists_defaults():
    spec = {s.name: s for s in KatibsimBO.settings_spec}
    assert {"base_estimator", "n_initial_points", "acq_func", "acq_optimizer", "random_state"} <= {n for n, s in spec.items() if s.katib}
    assert {"kappa", "xi", "kappa_decay"} <= {n for n, s in spec.items() if not s.katib}
    assert spec["n_initial_points"].default == "10"


def test_mixed_space_suggestions_are_feasible_and_new():
    space = SearchSpace(
        (
            Parameter("lr", ParameterType.DOUBLE, min=1e-5, max=1.0, distribution=Distribution.LOG_UNIFORM),
            Parameter("momentum", ParameterType.DOUBLE, min=0.5, max=0.99, step=0.01),
            Parameter("batch", ParameterType.DISCRETE, values=("16", "32", "64", "128")),
            Parameter("layers", ParameterType.INT, min=1, max=200),
            Parameter("act", ParameterType.CATEGORICAL, values=("relu", "tanh")),
            Parameter("drop", ParameterType.DOUBLE, min=0.0, max=0.8, distribution=Distribution.NORMAL),
        )
    )
    algo = KatibsimBO(space, MAXIMIZE, {"n_initial_points": "4"}, seed=5, parallel_trial_count=3)
    trials = []
    rng = np.random.default_rng(0)
    for step in range(5):
        batch = algo.suggest(trials, 3)
        for a in batch:
            assert space.contains(a), space.problems(a)
            trials.append(Trial(f"t{len(trials)}", a, TrialCondition.SUCCEEDED, value=float(rng.random())))
    assert len({space.key(t.assignment) for t in trials}) == len(trials)


def test_a_nearly_full_large_finite_space_still_finds_the_unused_points():
    space = SearchSpace((Parameter("a", ParameterType.INT, min=0, max=99), Parameter("b", ParameterType.INT, min=0, max=49)))
    algo = KatibsimBO(space, MAXIMIZE, {}, seed=0)  # 5000 points: beyond exhaustive scoring
    free = [{"a": 7, "b": 3}, {"a": 99, "b": 49}, {"a": 50, "b": 0}]
    used = {space.key({"a": a, "b": b}) for a in range(100) for b in range(50)} - {space.key(f) for f in free}
    got = algo._random_new(used, np.random.default_rng(0))
    assert got in free
    assert algo._random_new(used | {space.key(f) for f in free}, np.random.default_rng(0)) is None
