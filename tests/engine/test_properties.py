"""Property tests: for random experiments, simulation options and seeds, the controller's invariants hold."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from katibsim.engine.arithmetic import UNAVAILABLE, best_trial, objective_value_string
from katibsim.engine.options import RegionBound, SimulationOptions
from katibsim.engine.result import RunResult
from katibsim.engine.run import simulate

from engine_helpers import Line, Noisy, make_experiment
from test_controller import max_running

TERMINAL = {"Succeeded", "Failed", "MetricsUnavailable", "EarlyStopped", "Killed"}


@st.composite
def runs(draw):
    parallel = draw(st.integers(1, 5))
    max_trials = draw(st.integers(parallel, 14))  # Katib: parallel <= max, maxFailed <= max
    max_failed = draw(st.one_of(st.none(), st.integers(0, min(4, max_trials))))
    maximize = draw(st.booleans())
    goal = draw(st.one_of(st.none(), st.floats(-20, 10)))
    objective: dict = {"type": "maximize" if maximize else "minimize", "objectiveMetricName": "score"}
    if goal is not None:
        objective["goal"] = goal
    spec = {"parallelTrialCount": parallel, "maxTrialCount": max_trials, "maxFailedTrialCount": max_failed,
            "objective": objective}
    early = draw(st.booleans())
    if early:
        spec["earlyStopping"] = {"algorithmName": "medianstop", "algorithmSettings": [
            {"name": "min_trials_required", "value": str(draw(st.integers(1, 3)))},
            {"name": "start_step", "value": str(draw(st.integers(1, 4)))}]}
    retain = draw(st.booleans())
    options = SimulationOptions(
        startup_delay=draw(st.sampled_from([0.0, 10.0])),
        suggestion_startup_delay=draw(st.sampled_from([0.0, 30.0])),
        failure_probability=draw(st.sampled_from([0.0, 0.2, 0.6])),
        failure_region=draw(st.sampled_from([(), (RegionBound("x", min=8.0),)])),
        crash_after_steps=draw(st.sampled_from([None, 0, 2])),
        metrics_unavailable_probability=draw(st.sampled_from([0.0, 0.2, 0.5])),
        katib_compat=draw(st.booleans()),
    )
    objective_impl = draw(st.sampled_from(["line", "noisy", "flat"]))
    seed = draw(st.integers(0, 2**31))
    return spec, retain, options, objective_impl, seed


def _objective(kind: str):
    return {"line": Line(), "noisy": Noisy(), "flat": Line(curve="flat", duration=20.0)}[kind]


@given(runs())  # the profile's example count (60 by default, 1000 under HYPOTHESIS_PROFILE=slow)
def test_invariants_hold_for_random_experiments(run):
    spec, retain, options, kind, seed = run
    exp = make_experiment(spec, retain=retain)
    # Both directions against a maximised objective: the controller's invariants hold either way,
    # so the direction mismatch is intended here.
    r = simulate(exp, _objective(kind), seed=seed, options=options, allow_mismatch=True)
    parallel, max_trials, max_failed = spec["parallelTrialCount"], spec["maxTrialCount"], spec["maxFailedTrialCount"]
    c = r.status.counts
    mu = c.metrics_unavailable

    # Never more than parallelTrialCount trials at one simulated instant.
    assert max_running(r) <= parallel
    assert r.max_concurrent <= parallel
    # Every trial ended; the counters add up.
    assert all(t.condition in TERMINAL and t.ended is not None for t in r.trials)
    assert c.total == len(r.trials) and c.active == 0
    # maxTrialCount: exact when corrected; Katib's defect adds at most one trial per MetricsUnavailable.
    if options.katib_compat:
        assert len(r.trials) <= max_trials + mu
    else:
        assert len(r.trials) <= max_trials
    # The experiment's end is consistent with its reason (Katib's order: goal, failures, max trials).
    failed = c.failed + mu
    if r.reason == "ExperimentGoalReached":
        assert r.time_to_goal is not None and r.goal is not None
        assert r.best_value >= r.goal if r.maximize else r.best_value <= r.goal
    elif r.reason == "ExperimentFailed":
        assert max_failed is not None and failed >= max(max_failed, 1)
    elif r.reason == "ExperimentMaxTrialsReached":
        assert c.completed >= max_trials
    else:  # Katib would leave it Running: only when something stopped the trials coming
        assert r.outcome == "Running"
        # random never runs out, so the only stall is Katib's: early-stopped trials without an
        # observation (retain: false) eating the Suggestion's requests.
        assert options.katib_compat and not retain and c.early_stopped > 0
        assert r.reason == "RequestsExhausted"
    if r.outcome != "Running":
        assert r.status.completion_time == r.time_to_end <= r.last_trial_end
    # currentOptimalTrial is Katib's scan over every trial, in Katib's list order: modelled by the
    # trial names (Katib's informer cache order is arbitrary); corrected, in creation order.
    strategy = "max" if spec["objective"]["type"] == "maximize" else "min"
    values = [objective_value_string(next((m for m in t.metrics if m.name == "score"), None), strategy)
              if t.observation_available else UNAVAILABLE for t in r.trials]
    order = sorted(range(len(r.trials)), key=lambda i: r.trials[i].name) if options.katib_compat else None
    best = best_trial(values, spec["objective"]["type"], spec["objective"].get("goal"), order)
    expected = None if best.index is None else r.trials[best.index].name
    actual = r.status.current_optimal_trial.name if r.status.current_optimal_trial else None
    assert actual == expected
    # Best-so-far only improves.
    vals = [b.value for b in r.best_so_far]
    assert vals == sorted(vals, reverse=not r.maximize) or len(vals) <= 1
    # Trials are created in time order, each after the suggestion service came up.
    created = [t.created for t in r.trials]
    assert created == sorted(created)
    assert all(t.created >= options.suggestion_startup_delay for t in r.trials)
    # The result survives JSON.
    assert RunResult.from_dict(json.loads(json.dumps(r.to_dict()))) == r


@given(st.integers(0, 2**31), st.integers(1, 4), st.integers(4, 10), st.booleans())
@settings(max_examples=25)
def test_same_seed_same_run(seed, parallel, max_trials, compat):
    exp = make_experiment({"parallelTrialCount": parallel, "maxTrialCount": max_trials, "maxFailedTrialCount": None})
    opts = SimulationOptions(failure_probability=0.3, metrics_unavailable_probability=0.2, katib_compat=compat)
    assert simulate(exp, Noisy(), seed=seed, options=opts) == simulate(exp, Noisy(), seed=seed, options=opts)
