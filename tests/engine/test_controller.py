"""Whole experiments on the simulated clock: counts, concurrency, goal, failures, exhaustion, early stopping."""

from __future__ import annotations

import json

import pytest

from katibsim.engine.options import RegionBound, SimulationOptions
from katibsim.engine.result import RunResult
from katibsim.engine.run import simulate

from engine_helpers import Line, Noisy, make_experiment, scripted

# Default delays: the suggestion service answers at t=30, a trial trains 10 s after its creation.
SUGGEST, STARTUP = 30.0, 10.0


def max_running(result: RunResult) -> int:
    """The most trials active (created, not yet ended) at one simulated instant, from the records."""
    events = []
    for t in result.trials:
        events.append((t.created, 1))
        events.append((t.ended, -1))
    # At equal times an end is processed before a creation (a slot is freed, then refilled).
    events.sort(key=lambda e: (e[0], e[1]))
    running = peak = 0
    for _, d in events:
        running += d
        peak = max(peak, running)
    return peak


def test_parallel_3_max_12_runs_exactly_12_trials_never_more_than_3_at_once():
    exp = make_experiment({"parallelTrialCount": 3, "maxTrialCount": 12})
    r = simulate(exp, Noisy(), seed=3)
    assert len(r.trials) == 12
    assert max_running(r) == 3 and r.max_concurrent == 3
    assert (r.outcome, r.reason) == ("Succeeded", "ExperimentMaxTrialsReached")
    assert r.status.counts.succeeded == 12
    assert [(c.type, c.status) for c in r.status.conditions] == [("Created", "True"), ("Running", "False"), ("Succeeded", "True")]
    assert r.status.completion_time == r.time_to_end == max(t.ended for t in r.trials)
    assert r.suggestion.suggestion_count == 12 == r.suggestion.requests


def test_a_slow_trial_does_not_hold_the_others():
    exp = make_experiment({"parallelTrialCount": 2, "maxTrialCount": 4})
    r = simulate(exp, Line(), algorithm=scripted(exp, [10, 0, 0, 0]), seed=0)
    slow, fast, third, fourth = r.trials
    assert (slow.created, slow.started, slow.ended) == (SUGGEST, SUGGEST + STARTUP, SUGGEST + STARTUP + 20)
    assert fast.ended == SUGGEST + STARTUP + 10
    assert third.created == fast.ended < slow.ended  # a freed slot is refilled at once
    assert fourth.created == slow.ended < third.ended  # the slow trial's slot, when it frees up
    assert max_running(r) == 2


def test_reachable_goal_ends_with_goal_reached_at_the_right_time():
    exp = make_experiment({"parallelTrialCount": 1, "maxTrialCount": 10,
                           "objective": {"type": "maximize", "objectiveMetricName": "score", "goal": 8}})
    r = simulate(exp, Line(), algorithm=scripted(exp, [1, 2, 9, 3]), seed=0)
    assert (r.outcome, r.reason) == ("Succeeded", "ExperimentGoalReached")
    assert len(r.trials) == 3
    best = r.trials[2]
    assert r.status.current_optimal_trial.name == best.name
    assert dict(r.status.current_optimal_trial.assignment) == {"x": "9.0"}
    assert r.time_to_goal == best.ended == r.time_to_end
    # trial i is created when trial i-1 ends; each trains 10 + x seconds after a 10 s start-up
    assert r.time_to_goal == SUGGEST + (STARTUP + 11) + (STARTUP + 12) + (STARTUP + 19)
    assert [b.value for b in r.best_so_far] == [1.0, 2.0, 9.0]


def test_trials_running_at_completion_finish_and_still_update_the_optimal_trial():
    exp = make_experiment({"parallelTrialCount": 3, "maxTrialCount": 10,
                           "objective": {"type": "maximize", "objectiveMetricName": "score", "goal": 8}})
    r = simulate(exp, Line(), algorithm=scripted(exp, [1, 2, 9, 10, 0]), seed=0)
    by_x = {dict(t.assignment)["x"]: t for t in r.trials}
    assert r.reason == "ExperimentGoalReached"
    assert r.time_to_goal == by_x["9.0"].ended == SUGGEST + STARTUP + 19
    # x=10 was created when x=1 ended and was still running at completion: Katib lets it finish
    # (issue #2061) and its better value becomes the currentOptimalTrial.
    assert by_x["10.0"].created < r.time_to_goal < by_x["10.0"].ended == r.last_trial_end
    assert r.status.current_optimal_trial.name == by_x["10.0"].name
    assert "trials-running-after-completion" in [n.code for n in r.notes]
    assert len(r.trials) == 5  # x=2 ended before the goal and was replaced by x=0; nothing after


def test_failures_beyond_max_failed_trial_count_fail_the_experiment():
    exp = make_experiment({"parallelTrialCount": 1, "maxTrialCount": 10, "maxFailedTrialCount": 2})
    r = simulate(exp, Line(), algorithm=scripted(exp, [1, 2, 3, 4]), seed=0,
                 options=SimulationOptions(failure_probability=1.0, crash_after_steps=2))
    assert (r.outcome, r.reason) == ("Failed", "ExperimentFailed")
    assert [c.message for c in r.status.conditions][-1] == "Experiment has failed because max failed count has reached"
    assert len(r.trials) == 2 and all(t.condition == "Failed" for t in r.trials)
    t = r.trials[0]
    assert t.reason == "TrialFailed" and t.message.startswith("Trial has failed. Job message: simulated crash after 2 of 5")
    assert t.metrics == () and t.value is None and len(t.curve) == 2
    assert t.ended == t.started + 11 * 2 / 5  # crashed at its 2nd of 5 reports


def test_max_failed_trial_count_zero_fails_on_the_first_failure_in_a_failure_region():
    exp = make_experiment({"parallelTrialCount": 1, "maxTrialCount": 10, "maxFailedTrialCount": 0})
    region = (RegionBound("x", min=5.0),)
    r = simulate(exp, Line(), algorithm=scripted(exp, [1, 2, 7, 3]), seed=0,
                 options=SimulationOptions(failure_region=region, crash_after_steps=0))
    assert [t.condition for t in r.trials] == ["Succeeded", "Succeeded", "Failed"]
    assert r.reason == "ExperimentFailed"
    assert r.trials[2].ended == r.trials[2].started  # crashed at start


def test_metrics_unavailable_counts_as_failed():
    exp = make_experiment({"parallelTrialCount": 1, "maxTrialCount": 10, "maxFailedTrialCount": 2})
    r = simulate(exp, Line(), algorithm=scripted(exp, range(10)), seed=0,
                 options=SimulationOptions(metrics_unavailable_probability=1.0))
    assert r.reason == "ExperimentFailed" and len(r.trials) == 2
    t = r.trials[0]
    assert t.condition == "MetricsUnavailable" and t.reason == "MetricsUnavailable"
    assert t.message.startswith("Metrics are not available")
    assert [(m.name, m.latest) for m in t.metrics] == [("score", "unavailable")]
    assert r.status.current_optimal_trial is None


def test_metrics_unavailable_makes_katib_create_more_than_max_trials():
    spec = {"parallelTrialCount": 3, "maxTrialCount": 3, "maxFailedTrialCount": None}
    opts = SimulationOptions(metrics_unavailable_probability=1.0)
    exp = make_experiment(spec)
    katib = simulate(exp, Line(), algorithm=scripted(exp, range(1, 10)), seed=0, options=opts)
    # Each of the first two MetricsUnavailable ends leaves the request count at 0 completed: two more
    # trials; the third completes the experiment (completed counts MetricsUnavailable).
    assert len(katib.trials) == 5
    assert katib.reason == "ExperimentMaxTrialsReached"
    assert "more-trials-than-max" in [n.code for n in katib.notes]
    fixed = simulate(exp, Line(), algorithm=scripted(exp, range(1, 10)), seed=0,
                     options=SimulationOptions(metrics_unavailable_probability=1.0, katib_compat=False))
    assert len(fixed.trials) == 3 and "more-trials-than-max" not in [n.code for n in fixed.notes]
    assert "metrics-unavailable-counted" in [n.code for n in fixed.notes]


GRID_X = [{"name": "x", "parameterType": "double", "feasibleSpace": {"min": "0", "max": "4", "step": "1"}}]


# An algorithm that runs out of points (katibsim's contract: SearchSpaceExhausted). Katib's own grid
# does not: it fails or repeats itself (tests/katib_algorithms); these test the engine's side.
def test_exhausted_suggestions_end_cleanly_and_say_katib_would_hang():
    exp = make_experiment({"algorithm": {"algorithmName": "grid"}, "parallelTrialCount": 2, "maxTrialCount": None},
                          parameters=GRID_X)
    r = simulate(exp, Line(), algorithm=scripted(exp, [0, 1, 2, 3, 4]), seed=0)
    assert len(r.trials) == 5 and sorted(dict(t.assignment)["x"] for t in r.trials) == ["0.0", "1.0", "2.0", "3.0", "4.0"]
    assert (r.outcome, r.reason) == ("Running", "SuggestionExhausted")
    assert r.status.conditions[-1].type == "Running" and r.status.completion_time is None
    assert "suggestion-exhausted-katib-hangs" in [n.code for n in r.notes]
    assert r.time_to_end == r.last_trial_end


def test_exhausted_suggestions_corrected_end_with_suggestion_end_reached():
    exp = make_experiment({"algorithm": {"algorithmName": "grid"}, "parallelTrialCount": 2, "maxTrialCount": None},
                          parameters=GRID_X)
    r = simulate(exp, Line(), algorithm=scripted(exp, [0, 1, 2, 3, 4]), seed=0,
                 options=SimulationOptions(katib_compat=False))
    assert len(r.trials) == 5
    assert (r.outcome, r.reason) == ("Succeeded", "ExperimentSuggestionEndReached")
    assert r.status.conditions[-1].message == "Experiment has succeeded because suggestion service has reached the end"
    assert "suggestion-end-reached" in [n.code for n in r.notes]


def test_short_reply_is_dropped_in_katib_mode_and_used_when_corrected():
    exp = make_experiment({"parallelTrialCount": 3, "maxTrialCount": None})
    katib = simulate(exp, Line(), algorithm=scripted(exp, [1, 2]), seed=0)
    assert katib.trials == () and katib.reason == "SuggestionExhausted"  # "unexpected trials": nothing stored
    fixed = simulate(exp, Line(), algorithm=scripted(exp, [1, 2]), seed=0, options=SimulationOptions(katib_compat=False))
    assert len(fixed.trials) == 2 and fixed.reason == "ExperimentSuggestionEndReached"


def test_unbounded_experiment_stops_at_the_safety_limit():
    exp = make_experiment({"parallelTrialCount": 4, "maxTrialCount": None})
    r = simulate(exp, Noisy(), seed=1, options=SimulationOptions(unbounded_trial_limit=25))
    assert len(r.trials) == 25 and r.reason == "TrialLimitReached" and r.outcome == "Running"
    assert "unbounded-trial-limit" in [n.code for n in r.notes]


# -- early stopping -------------------------------------------------------------------------------------------
MEDIANSTOP = {"algorithmName": "medianstop", "algorithmSettings": [
    {"name": "min_trials_required", "value": "2"}, {"name": "start_step", "value": "2"}]}


def test_medianstop_stops_the_trials_it_should():
    exp = make_experiment({"parallelTrialCount": 1, "maxTrialCount": 5, "earlyStopping": MEDIANSTOP}, retain=True)
    r = simulate(exp, Line(), algorithm=scripted(exp, [8, 6, 1, 9, 2]), seed=0)
    # Line reports x*k/5 at steps k=1..5. Means of the first 2 reports: x=8 -> 2.4, x=6 -> 1.8, so
    # trial 3 gets "score less 2.1 at step 2": x=1 (best 0.4) stops, x=9 (3.6) runs on; then the
    # threshold is (2.4+1.8+2.7)/3 = 2.3 and x=2 (0.8) stops.
    assert [t.condition for t in r.trials] == ["Succeeded", "Succeeded", "EarlyStopped", "Succeeded", "EarlyStopped"]
    assert r.trials[0].rules == r.trials[1].rules == ()
    rule = r.trials[2].rules[0]
    assert (rule.metric, rule.comparison.value, rule.start_step) == ("score", "less", 2)
    assert rule.value == pytest.approx(2.1)
    assert r.trials[4].rules[0].value == pytest.approx(2.3)
    es = r.trials[2]
    assert (es.reason, es.message, es.stopped_at) == ("TrialEarlyStopped", "Trial is early stopped", 2)
    assert es.ended == es.started + 11 * 2 / 5
    assert es.value == pytest.approx(0.4) and es.observation_available  # retain: true keeps the observation
    assert (r.outcome, r.reason) == ("Succeeded", "ExperimentMaxTrialsReached")  # early-stopped trials count
    assert r.status.counts.early_stopped == 2 and r.status.counts.succeeded == 3
    assert r.early_stopping == "medianstop"


def test_medianstop_with_retain_false_loses_observations_and_stalls_in_katib_mode():
    exp = make_experiment({"parallelTrialCount": 1, "maxTrialCount": 5, "earlyStopping": MEDIANSTOP}, retain=False)
    r = simulate(exp, Line(), algorithm=scripted(exp, [8, 6, 1, 9, 2]), seed=0)
    # The early-stopped trial has no observation (#1377) and is subtracted from the requests, so
    # with one parallel slot no further trial is ever asked for.
    assert [t.condition for t in r.trials] == ["Succeeded", "Succeeded", "EarlyStopped"]
    assert r.trials[2].value is None and r.trials[2].metrics == ()
    assert (r.outcome, r.reason) == ("Running", "RequestsExhausted")
    assert {"early-stopped-without-observation", "early-stopped-without-observation-requests"} <= set([n.code for n in r.notes])
    fixed = simulate(exp, Line(), algorithm=scripted(exp, [8, 6, 1, 9, 2]), seed=0,
                     options=SimulationOptions(katib_compat=False))
    assert len(fixed.trials) == 5 and fixed.reason == "ExperimentMaxTrialsReached"
    assert "early-stopped-observation-kept" in [n.code for n in fixed.notes]


def test_early_stopped_trial_is_shown_to_the_algorithm_only_with_an_observation():
    exp = make_experiment({"parallelTrialCount": 1, "maxTrialCount": 4, "earlyStopping": MEDIANSTOP}, retain=True)
    algo = scripted(exp, [8, 6, 1, 9])
    simulate(exp, Line(), algorithm=algo, seed=0)
    assert [n for n, _ in algo.calls] == [0, 1, 2, 3]  # the early-stopped trial stays in the history


# -- determinism and the result ---------------------------------------------------------------------------------
def test_deterministic_under_a_seed():
    exp = make_experiment({"parallelTrialCount": 3, "maxTrialCount": 12})
    opts = SimulationOptions(failure_probability=0.2, metrics_unavailable_probability=0.1)
    a = simulate(exp, Noisy(), seed=11, options=opts)
    b = simulate(exp, Noisy(), seed=11, options=opts)
    c = simulate(exp, Noisy(), seed=12, options=opts)
    assert a == b
    assert [t.name for t in a.trials] != [t.name for t in c.trials]


def test_result_json_round_trip():
    exp = make_experiment({"parallelTrialCount": 2, "maxTrialCount": 6, "earlyStopping": MEDIANSTOP}, retain=True)
    r = simulate(exp, Line(), seed=5, options=SimulationOptions(failure_probability=0.3,
                                                               failure_region=(RegionBound("x", max=1.0),)))
    data = json.loads(json.dumps(r.to_dict()))
    assert RunResult.from_dict(data) == r
    assert list(data)[:4] == ["schema", "experiment", "namespace", "source_file"]


def test_trial_names_and_times():
    exp = make_experiment({"parallelTrialCount": 2, "maxTrialCount": 4}, name="tfjob-bayesian")
    r = simulate(exp, Line(), seed=0)
    for t in r.trials:
        assert t.name.startswith("tfjob-bayesian-") and len(t.name) == len("tfjob-bayesian-") + 8
        assert t.created <= t.started <= t.ended
        assert t.started == t.created + STARTUP
    assert r.trials[0].created == SUGGEST
