"""Katib's ValidateAlgorithmSettings for bayesianoptimization, message for message, and through `validate`."""

from __future__ import annotations

import pytest

from katibsim.algorithm import SettingsError
from katibsim.cli import main

from skopt_helpers import build

CASES = [
    ({"kappa": "5"}, "unknown setting kappa for algorithm bayesianoptimization"),
    ({"xi": "0.01"}, "unknown setting xi for algorithm bayesianoptimization"),
    ({"base_estimator": "SVR"}, "base_estimator SVR is not supported in Bayesian optimization"),
    ({"acq_func": "UCB"}, "acq_func UCB is not supported in Bayesian optimization"),
    ({"acq_optimizer": "adam"}, "acq_optimizer adam is not supported in Bayesian optimization"),
    ({"n_initial_points": "-1"}, "n_initial_points should be great or equal than zero"),
    ({"random_state": "-3"}, "random_state should be great or equal than zero"),
    ({"n_initial_points": "ten"}, "failed to validate n_initial_points(ten): invalid literal for int() with base 10: 'ten'"),
    ({"random_state": "1.5"}, "failed to validate random_state(1.5): invalid literal for int() with base 10: '1.5'"),
]


@pytest.mark.parametrize("settings,message", CASES)
def test_katibs_messages(settings, message):
    with pytest.raises(SettingsError) as info:
        build(settings=settings)
    assert info.value.message == message
    assert info.value.setting == next(iter(settings))


def test_the_first_problem_in_the_given_order_is_reported_as_katib_does():
    with pytest.raises(SettingsError) as info:
        build(settings={"n_initial_points": "-1", "kappa": "5"})
    assert info.value.message == "n_initial_points should be great or equal than zero"


@pytest.mark.parametrize("estimator", ["GP", "RF", "ET", "GBRT"])
def test_every_base_estimator_katib_accepts_is_accepted_and_runs(estimator):
    alg = build(settings={"base_estimator": estimator, "acq_func": "EI"})
    assert len(alg.suggest((), 2)) == 2


def test_validate_cli_fails_kappa_at_its_path(tmp_path, capsys):
    text = open("examples/tfjob-bayesian-v1beta1.yaml").read()
    assert "algorithmName: bayesianoptimization" in text
    bad = text.replace("algorithmName: bayesianoptimization",
                       'algorithmName: bayesianoptimization\n    algorithmSettings:\n      - {name: kappa, value: "5"}', 1)
    f = tmp_path / "kappa.yaml"
    f.write_text(bad)
    assert main(["validate", str(f)]) == 1
    out = capsys.readouterr()
    assert "spec.algorithm.algorithmSettings[0].name" in out.out + out.err
    assert "unknown setting kappa for algorithm bayesianoptimization" in out.out + out.err
