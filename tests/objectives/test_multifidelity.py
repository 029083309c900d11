"""Multi-fidelity objectives: the resource (epochs) sets the curve's length, and a child trial
continues from its parent's checkpoint (Katib's PBT)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from katibsim.engine.run import simulate
from katibsim.objective import Checkpoint
from katibsim.spec.loader import load_experiment
from katibsim_plugins.objectives.mnist_tfjob import MnistTfjob
from katibsim_plugins.objectives.synthetic import Branin

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "katib"
X = {"x1": 2.0, "x2": 5.0}


def branin(**kw):
    return Branin(fidelity="epochs", curve_rate_spread=0, **kw)


def test_more_epochs_never_worse_and_full_training_reaches_the_final_value():
    obj = branin(steps=10)
    values = [obj.evaluate({**X, "epochs": e}, np.random.default_rng(0)).value for e in range(1, 16)]
    assert all(b <= a for a, b in zip(values, values[1:]))  # minimised: lower with every epoch
    assert values[9] == pytest.approx(obj.noise_free(X)) and values[-1] == pytest.approx(values[9])
    ev = obj.evaluate({**X, "epochs": 4}, np.random.default_rng(0))
    assert [s for s, _ in ev.curve] == [1, 2, 3, 4] and ev.checkpoint.epoch == 4


def test_duration_grows_with_epochs():
    obj = branin(steps=10, duration=60)
    d = [obj.evaluate({**X, "epochs": e}, np.random.default_rng(0)).duration for e in (1, 5, 10)]
    assert d == pytest.approx([6.0, 30.0, 60.0])


def test_without_the_option_nothing_changes():
    plain = Branin(curve_rate_spread=0)
    ev = plain.evaluate(X, np.random.default_rng(1))
    assert len(ev.curve) == 10 and ev.checkpoint == Checkpoint(10, plain.noise_free(X))
    assert [i.name for i in plain.inputs] == ["x1", "x2"]


def test_a_child_with_its_parents_hyperparameters_continues_the_same_curve():
    obj = branin(steps=10)
    parent = obj.evaluate({**X, "epochs": 4}, np.random.default_rng(0))
    child = obj.resume({**X, "epochs": 3}, np.random.default_rng(0), parent.checkpoint)
    whole = obj.evaluate({**X, "epochs": 7}, np.random.default_rng(0))
    assert [s for s, _ in child.curve] == [5, 6, 7]
    assert [v for _, v in child.curve] == pytest.approx([v for _, v in whole.curve[4:]])


def test_a_child_with_new_hyperparameters_starts_from_its_parent_and_drifts_to_its_own_curve():
    obj = branin(steps=10)
    parent = obj.evaluate({**X, "epochs": 5}, np.random.default_rng(0))
    other = {"x1": -3.0, "x2": 12.0}
    child = obj.resume({**other, "epochs": 40}, np.random.default_rng(0), parent.checkpoint)
    fresh = obj.evaluate({**other, "epochs": 45}, np.random.default_rng(0))
    first, own = child.curve[0][1], fresh.curve[5][1]
    assert abs(first - parent.checkpoint.value) < abs(own - parent.checkpoint.value)
    assert child.value == pytest.approx(obj.noise_free(other), rel=1e-3)


def test_mnist_fidelity_and_resume():
    obj = MnistTfjob(fidelity="epochs", noise_scale=0)
    x = {"--learning_rate": 0.01, "--batch_size": 100}
    values = [obj.evaluate({**x, "epochs": e}, np.random.default_rng(0)).value for e in range(1, 21)]
    assert values[-1] > values[0] + 0.05 and np.mean(values[10:]) > np.mean(values[:10])
    assert values[-1] == pytest.approx(obj.noise_free(x))
    parent = obj.evaluate({**x, "epochs": 5}, np.random.default_rng(0))
    child = obj.resume({**x, "epochs": 5}, np.random.default_rng(0), parent.checkpoint)
    assert [s for s, _ in child.curve] == [6, 7, 8, 9, 10]
    assert [v for _, v in child.curve] == pytest.approx(values[5:10])


def test_mnist_batch_size_option_fixes_it():
    obj = MnistTfjob(batch_size=100)
    assert [i.name for i in obj.inputs] == ["--learning_rate"]
    assert obj.noise_free({"--learning_rate": 0.01}) == MnistTfjob().noise_free({"--learning_rate": 0.01, "--batch_size": 100})


def test_pbt_children_continue_from_their_parents_in_a_simulation():
    exp = load_experiment(EXAMPLES / "simple-pbt-counts-fixed.yaml")
    # Katib's PBT example as Katib ships it: its Validation-accuracy is not mnist-tfjob's accuracy_1
    # and its lr starts below the surrogate's table; both mismatches are intended (the checkpoints are the point).
    result = simulate(exp, "mnist-tfjob", objective_options={"batch_size": 100, "epochs": 2}, seed=0,
                      allow_mismatch=("metric", "range"))
    starts = [t.curve[0][0] for t in result.trials if t.curve]
    assert starts.count(1) >= 40  # the population of generation 0 starts from scratch
    assert max(starts) > 2  # children start where their parents stopped
    late = [t.value for t in result.trials[-20:]]
    early = [t.value for t in result.trials[:20]]
    assert np.mean(late) > np.mean(early)


def test_the_sim_backend_keeps_checkpoints_only_of_labelled_trials():
    from katibsim.backends.sim import SimBackend

    backend = SimBackend()
    exp = load_experiment(EXAMPLES / "random.yaml")
    simulate(exp, "branin", backend=backend, seed=0)
    assert backend._checkpoints == {}  # random labels nothing: no trial can be a parent
    backend = SimBackend()
    pbt = load_experiment(EXAMPLES / "simple-pbt-counts-fixed.yaml")
    result = simulate(pbt, "seed-1d", backend=backend, seed=0)
    assert set(backend._checkpoints) == {t.name for t in result.trials}
