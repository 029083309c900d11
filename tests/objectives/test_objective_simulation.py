"""Function objectives as simulated trials: noise, determinism, learning curves, durations, options."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from katibsim.errors import SpecError
from katibsim.objective import Evaluation, Objective
from katibsim_plugins.objectives.curves import CurveModel, normalised_decay
from katibsim_plugins.objectives.synthetic import FUNCTION_OBJECTIVES, Branin, Hartmann6, Seed1D

MID = {"x1": 2.0, "x2": 3.0}


def _rng(seed=0):
    return np.random.default_rng(seed)


@pytest.mark.parametrize("cls", FUNCTION_OBJECTIVES, ids=lambda c: c.name)
def test_noise_free_trial_reports_the_function_value(cls):
    obj = cls()
    assert isinstance(obj, Objective)
    x = obj.optimum_at[0]
    ev = obj.evaluate(x, _rng())
    assert isinstance(ev, Evaluation)
    assert ev.value == obj.noise_free(x) == pytest.approx(obj.optimum)
    assert [s for s, _ in ev.curve] == list(range(1, 11))
    assert ev.curve[-1][1] == ev.value
    assert ev.duration == 60.0
    assert obj.regret(ev.value) == pytest.approx(0.0, abs=1e-9)


def test_same_seed_same_trial_and_other_seeds_differ():
    obj = Branin(noise=0.5, duration_jitter=0.2)
    a, b = obj.evaluate(MID, _rng(3)), obj.evaluate(MID, _rng(3))
    assert a == b
    c = obj.evaluate(MID, _rng(4))
    assert c.value != a.value and c.curve != a.curve and c.duration != a.duration


def test_noise_has_the_requested_spread_and_no_bias():
    obj = Hartmann6(noise=0.2, steps=0)
    x = {f"x{k}": 0.3 for k in range(1, 7)}
    rng = _rng(11)
    values = np.array([obj.evaluate(x, rng).value for _ in range(4000)])
    assert values.std() == pytest.approx(0.2, rel=0.05)
    assert values.mean() == pytest.approx(obj.noise_free(x), abs=4 * 0.2 / math.sqrt(4000))


def test_curve_converges_monotonically_towards_the_final_value_without_noise():
    for obj, x in ((Branin(steps=25), MID), (Seed1D(steps=25), {"x": 7.0})):
        ev = obj.evaluate(x, _rng(5))
        values = np.array([v for _, v in ev.curve])
        final = obj.noise_free(x)
        gaps = np.abs(values - final)
        assert np.all(np.diff(gaps) < 0)  # every report closer than the one before
        assert gaps[-1] == 0.0 and ev.value == final
        # ...from the worse side: above the final value when minimising, below when maximising.
        if obj.direction == "minimize":
            assert np.all(values[:-1] > final)
        else:
            assert np.all(values[:-1] < final)
        assert gaps[0] > 0.5 * obj.span * normalised_decay(np.array([1 / 25]), 10.0)[0]


def test_better_points_have_better_curves_on_average():
    """Early reports carry information about the final value (medianstop has something to act on)."""
    obj = Branin(noise=0.5)
    good, bad = {"x1": math.pi, "x2": 2.275}, {"x1": -5.0, "x2": 0.0}
    rng = _rng(2)
    mid_good = np.mean([obj.evaluate(good, rng).curve[4][1] for _ in range(200)])
    mid_bad = np.mean([obj.evaluate(bad, rng).curve[4][1] for _ in range(200)])
    assert mid_good < mid_bad


def test_curves_of_different_trials_converge_at_different_rates():
    obj = Branin(steps=10)
    rng = _rng(9)
    halfway = {obj.evaluate(MID, rng).curve[4][1] for _ in range(20)}
    assert len(halfway) == 20  # the per-trial rate spread makes them differ
    flat = Branin(steps=10, curve_rate_spread=0)
    assert len({flat.evaluate(MID, rng).curve[4][1] for _ in range(5)}) == 1


def test_steps_zero_gives_no_curve_and_start_gap_zero_a_flat_one():
    ev = Branin(steps=0, noise=0.1).evaluate(MID, _rng())
    assert ev.curve == ()
    flat = Branin(start_gap=0).evaluate(MID, _rng())
    assert {v for _, v in flat.curve} == {flat.value}


def test_noise_stream_is_aligned_across_noise_levels():
    """Common random numbers: the same seed gives the same standardised noise at any noise level."""
    a = Branin(noise=1.0).evaluate(MID, _rng(21))
    b = Branin(noise=2.0).evaluate(MID, _rng(21))
    f = Branin().noise_free(MID)
    assert (b.value - f) == pytest.approx(2 * (a.value - f))


def test_duration_slope_and_jitter():
    obj = Branin(duration=100, duration_slope={"x1": 1.0, "x2": -0.5})
    assert obj.evaluate({"x1": -5, "x2": 0}, _rng()).duration == pytest.approx(100)
    assert obj.evaluate({"x1": 10, "x2": 0}, _rng()).duration == pytest.approx(200)
    assert obj.evaluate({"x1": 10, "x2": 15}, _rng()).duration == pytest.approx(150)
    assert obj.evaluate({"x1": 2.5, "x2": 0}, _rng()).duration == pytest.approx(150)
    jittery = Branin(duration=100, duration_jitter=0.3)
    rng = _rng(1)
    d = np.array([jittery.evaluate(MID, rng).duration for _ in range(2000)])
    assert np.all(d > 0)
    assert np.log(d).std() == pytest.approx(0.3, rel=0.1)


def test_duration_slope_from_a_command_line_string():
    obj = Branin(duration=100, duration_slope="x1:1.0, x2:-0.5")
    assert dict(obj.cost_model.slopes) == {"x1": 1.0, "x2": -0.5}
    with pytest.raises(SpecError, match="NAME:NUMBER"):
        Branin(duration_slope="x1=1")


def test_options_accept_strings_as_from_yaml():
    obj = Branin(noise="0.25", steps="5", duration="30")
    assert obj.curve_model.noise == 0.25 and obj.curve_model.steps == 5 and obj.cost_model.base == 30.0


@pytest.mark.parametrize(
    "options,path",
    [
        ({"nosie": 0.1}, "objective.options.nosie"),
        ({"noise": -1}, "objective.options.noise"),
        ({"noise": "lots"}, "objective.options.noise"),
        ({"steps": 2.5}, "objective.options.steps"),
        ({"steps": -1}, "objective.options.steps"),
        ({"duration": 0}, "objective.options.duration"),
        ({"duration": float("nan")}, "objective.options.duration"),
        ({"duration_slope": {"x9": 1}}, "objective.options.duration_slope.x9"),
        ({"duration_slope": {"x1": -1.0}}, "objective.options.duration_slope"),
        ({"duration_slope": 3}, "objective.options.duration_slope"),
        ({"duration_slope": "x1:fast"}, "objective.options.duration_slope.x1"),
    ],
)
def test_bad_options_are_spec_errors_at_their_path(options, path):
    with pytest.raises(SpecError) as err:
        Branin(**options)
    assert err.value.errors[0].path == path
    assert "branin" in err.value.errors[0].message


def test_missing_or_bad_inputs_are_spec_errors():
    with pytest.raises(SpecError, match="missing input.*x2"):
        Branin().evaluate({"x1": 1.0}, _rng())
    with pytest.raises(SpecError, match="x2 must be a number"):
        Branin().evaluate({"x1": 1.0, "x2": "abc"}, _rng())
    # Katib's assignments are strings: numeric strings are fine.
    assert Branin().noise_free({"x1": "1.0", "x2": "2"}) == Branin().noise_free({"x1": 1.0, "x2": 2.0})


def test_regret_sign_follows_the_direction():
    assert Branin().regret(1.397887357729738) == pytest.approx(1.0)
    assert Seed1D().regret(0.401897181) == pytest.approx(1.0)


def test_curve_model_alone():
    model = CurveModel(steps=4, noise=0.0, rate=0.0, rate_spread=0.0, start_gap=1.0)
    value, curve = model.sample(10.0, 8.0, 1.0, _rng())
    assert value == 10.0
    assert [v for _, v in curve] == pytest.approx([16.0, 14.0, 12.0, 10.0])  # rate 0: a straight line


@given(
    k=st.integers(0, len(FUNCTION_OBJECTIVES) - 1),
    u=st.lists(st.floats(0, 1), min_size=6, max_size=6),
    seed=st.integers(0, 2**32 - 1),
    noise=st.floats(0, 10),
    steps=st.integers(0, 30),
)
def test_every_trial_is_well_formed(k, u, seed, noise, steps):
    obj = FUNCTION_OBJECTIVES[k](noise=noise, steps=steps)
    x = {i.name: i.low + ui * (i.high - i.low) for i, ui in zip(obj.inputs, u)}
    ev = obj.evaluate(x, _rng(seed))
    assert math.isfinite(ev.value) and ev.duration > 0
    assert len(ev.curve) == steps
    if steps:
        assert [s for s, _ in ev.curve] == list(range(1, steps + 1))
        assert ev.curve[-1][1] == ev.value
        assert all(math.isfinite(v) for _, v in ev.curve)
    assert ev == obj.evaluate(x, _rng(seed))
