"""The seed experiment (examples/tfjob-bayesian.yaml, 12 trials, 3 in parallel) on Katib's bayesianoptimization."""

from __future__ import annotations

import math

from scipy.stats import binomtest

from katibsim import algorithm_factory, plugins
from katibsim.engine.run import simulate
from katibsim.spec.loader import load_experiment

SEEDS = 30


def _runs():
    exp = load_experiment("examples/tfjob-bayesian.yaml")
    for seed in range(SEEDS):
        alg = algorithm_factory.build_algorithm(exp, seed=seed)
        # time_scale as in scenarios/seed-tfjob-bayesian.yaml: trials of 2-3 minutes end one at a time
        res = simulate(exp, "mnist-tfjob", seed=seed, algorithm=alg, objective_options={"time_scale": 400})
        yield alg, res


def test_every_trial_is_random_and_learning_rate_is_log_uniform():
    low = total = 0
    for alg, res in _runs():
        assert len(res.trials) == 12
        service = alg.service
        assert (service.random_points, service.model_points) == (12, 0)
        for t in res.trials:
            lr = float(dict(t.assignment)["--learning_rate"])
            assert 0.01 <= lr <= 0.05
            low += lr < 0.02
            total += 1
    log_share = math.log(2) / math.log(5)  # 0.431: log-uniform's share of [0.01, 0.02) in [0.01, 0.05]
    assert binomtest(low, total, log_share).pvalue > 0.001
    assert binomtest(low, total, 0.25).pvalue < 0.001  # what a uniform draw would give


def test_validate_warns_that_every_trial_will_be_random():
    exp = load_experiment("examples/tfjob-bayesian.yaml")
    warnings = algorithm_factory.build_algorithm(exp, seed=0).predicted_failures()
    by_path = {w.path: w for w in warnings}
    assert "every one of the 12 trials" in by_path["spec.maxTrialCount"].message
    assert "ignores distribution uniform" in by_path["spec.parameters[0].feasibleSpace.distribution"].message
    assert "43%" in by_path["spec.parameters[0].feasibleSpace.distribution"].message or \
        "lower half" in by_path["spec.parameters[0].feasibleSpace.distribution"].message
