"""Katib's controller arithmetic against hand-computed cases (docs/katib-behaviour.md §3.2–3.6, §3.10, §4.2)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from katibsim.engine.arithmetic import (
    NAME_ALPHABET,
    UNAVAILABLE,
    Bucket,
    Completion,
    ExperimentReason,
    MetricObservation,
    TrialCounts,
    TrialNamer,
    TrialsDecision,
    assignments_to_request,
    best_trial,
    bucket_of,
    completion,
    mark_completed,
    objective_value,
    objective_value_string,
    observe_metric,
    reconcile_trials,
    sent_to_services,
    set_condition,
    suggestion_requests,
    trial_name,
)


# -- §3.6 how many trials to request ---------------------------------------------------------------
@pytest.mark.parametrize(
    "parallel, max_trials, active, completed, expected",
    [
        (3, 12, 0, 0, TrialsDecision(add=3)),  # first round
        (3, 12, 2, 9, TrialsDecision(add=1)),  # min(3, 12-9)=3, minus 2 active
        (3, 12, 2, 10, TrialsDecision(add=0)),  # min(3, 2)=2, minus 2 active
        (3, 12, 1, 11, TrialsDecision(add=0)),  # the last trial is running
        (3, 12, 0, 11, TrialsDecision(add=1)),  # one left to do
        (3, 12, 0, 12, TrialsDecision(add=0)),
        (3, 5, 0, 7, TrialsDecision(add=0)),  # max - completed < 0: never negative
        (3, None, 1, 100, TrialsDecision(add=2)),  # no maxTrialCount: keep parallel busy
        (10, 4, 0, 0, TrialsDecision(add=4)),  # max below parallel
        (3, 12, 3, 4, TrialsDecision()),  # full
        (2, 12, 3, 0, TrialsDecision(delete=1)),  # parallelTrialCount lowered: shrink (§3.7)
    ],
)
def test_reconcile_trials(parallel, max_trials, active, completed, expected):
    assert reconcile_trials(parallel, max_trials, active, completed) == expected


def test_completed_for_requests_leaves_out_metrics_unavailable_in_katib_mode():
    counts = TrialCounts(succeeded=2, failed=1, killed=1, early_stopped=1, metrics_unavailable=2, running=1)
    assert counts.completed_for_requests(katib_compat=True) == 5
    assert counts.completed_for_requests(katib_compat=False) == 7
    assert counts.completed == 7  # the completion check counts MetricsUnavailable
    assert counts.failed_for_completion == 3
    assert counts.active == 1
    assert counts.total == 8


def test_metrics_unavailable_creates_more_trials_than_max_in_katib_mode():
    """docs/katib-behaviour.md §3.6 (derived): max 3, parallel 3; one trial ends MetricsUnavailable."""
    counts = TrialCounts(metrics_unavailable=1, running=2)
    katib = reconcile_trials(3, 3, counts.active, counts.completed_for_requests(katib_compat=True))
    fixed = reconcile_trials(3, 3, counts.active, counts.completed_for_requests(katib_compat=False))
    assert katib.add == 1  # min(3, 3-0) - 2: a 4th trial for maxTrialCount 3
    assert fixed.add == 0  # min(3, 3-1) - 2
    # ... and the experiment is not complete yet either way (completed = 1 < 3).
    done = completion(counts, goal_is_reached=False, max_trial_count=3, max_failed_trial_count=None)
    assert done == Completion("Running", ExperimentReason.RUNNING)


def test_suggestion_requests_subtract_early_stopped_without_observation():
    # 5 trials, 2 to add, 1 early-stopped trial without an observation: requests = 6.
    assert suggestion_requests(5, 2, 1) == 6
    # suggestionCount is 5 (one per trial): the service is asked for 1, not 2.
    assert assignments_to_request(6, 5) == 1
    assert assignments_to_request(5, 5) == 0
    assert assignments_to_request(4, 5) == 0


# -- §3.5 completion, in Katib's order --------------------------------------------------------------
def _done(counts, goal=False, max_trials=12, max_failed=3, suggestion_done=False):
    return completion(counts, goal_is_reached=goal, max_trial_count=max_trials,
                      max_failed_trial_count=max_failed, suggestion_done=suggestion_done)


def test_completion_goal_comes_first():
    counts = TrialCounts(succeeded=9, failed=3)
    assert _done(counts, goal=True).reason == ExperimentReason.GOAL_REACHED
    assert _done(counts, goal=True).type == "Succeeded"


def test_completion_failures_come_before_max_trials():
    counts = TrialCounts(succeeded=9, failed=3)  # failed >= 3 and completed >= 12
    done = _done(counts)
    assert (done.type, done.reason) == ("Failed", ExperimentReason.FAILED)
    assert done.message == "Experiment has failed because max failed count has reached"


def test_completion_max_trials():
    done = _done(TrialCounts(succeeded=10, failed=2))
    assert (done.type, done.reason) == ("Succeeded", ExperimentReason.MAX_TRIALS_REACHED)
    assert done.message == "Experiment has succeeded because max trial count has reached"


@pytest.mark.parametrize("failed, expected", [(0, "Running"), (1, "Failed")])
def test_max_failed_trial_count_zero_fails_on_the_first_failure(failed, expected):
    done = _done(TrialCounts(succeeded=2, failed=failed, running=1), max_failed=0)
    assert done.type == expected


@pytest.mark.parametrize("failed, mu, expected", [(2, 0, "Running"), (3, 0, "Failed"), (2, 1, "Failed"), (0, 3, "Failed")])
def test_max_failed_counts_metrics_unavailable_and_uses_ge(failed, mu, expected):
    done = _done(TrialCounts(succeeded=1, failed=failed, metrics_unavailable=mu, running=1), max_failed=3)
    assert done.type == expected


def test_max_failed_unset_never_fails():
    assert _done(TrialCounts(failed=11, running=1), max_failed=None).type == "Running"


def test_killed_never_counts_as_failed():
    assert _done(TrialCounts(killed=5, running=1), max_failed=1).type == "Running"


def test_suggestion_end_only_when_asked_and_idle():
    assert _done(TrialCounts(succeeded=4), max_trials=None, suggestion_done=True).reason == ExperimentReason.SUGGESTION_END_REACHED
    assert _done(TrialCounts(succeeded=4, running=1), max_trials=None, suggestion_done=True).type == "Running"
    assert _done(TrialCounts(succeeded=4), max_trials=None).type == "Running"  # Katib: dead code


# -- §3.4 buckets --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "true, bucket",
    [
        ({"Created"}, Bucket.PENDING),
        ({"Created", "Running"}, Bucket.RUNNING),
        ({"Created", "Succeeded"}, Bucket.SUCCEEDED),
        ({"Created", "Running", "EarlyStopped"}, Bucket.EARLY_STOPPED),  # Running stays True after SetTrialStatus
        ({"Created", "EarlyStopped", "MetricsUnavailable"}, Bucket.EARLY_STOPPED),
        ({"Created", "MetricsUnavailable"}, Bucket.METRICS_UNAVAILABLE),
        ({"Running", "MetricsUnavailable"}, Bucket.RUNNING),  # Running is checked before MetricsUnavailable
        ({"Failed", "Succeeded"}, Bucket.FAILED),
        ({"Killed", "Failed"}, Bucket.KILLED),
    ],
)
def test_bucket_priority(true, bucket):
    assert bucket_of(true) == bucket


def test_counts_of_buckets():
    c = TrialCounts.of([Bucket.SUCCEEDED, Bucket.SUCCEEDED, Bucket.RUNNING, Bucket.METRICS_UNAVAILABLE])
    assert (c.succeeded, c.running, c.metrics_unavailable, c.total) == (2, 1, 1, 4)


# -- §3.10 logs -> observation, §3.4 objective value -------------------------------------------------------
def test_observe_metric_min_max_latest_keep_original_strings():
    m = observe_metric("acc", ["0.5", "0.3", "0.9", "0.7"])
    assert m == MetricObservation("acc", min="0.3", max="0.9", latest="0.7")
    assert observe_metric("lr", ["1e-3"]) == MetricObservation("lr", "1e-3", "1e-3", "1e-3")


def test_observe_metric_non_numeric_logs_never_touch_min_max():
    assert observe_metric("acc", [UNAVAILABLE]) == MetricObservation("acc")
    assert observe_metric("g", ["0.1", "genotype"]) == MetricObservation("g", "0.1", "0.1", "genotype")


def test_observe_metric_floats_are_printed_like_a_trainer():
    assert observe_metric("acc", [0.25, 0.5]) == MetricObservation("acc", "0.25", "0.5", "0.5")


@pytest.mark.parametrize(
    "metric, strategy, expected",
    [
        (MetricObservation("m", "0.1", "0.9", "0.5"), "min", "0.1"),
        (MetricObservation("m", "0.1", "0.9", "0.5"), "max", "0.9"),
        (MetricObservation("m", "0.1", "0.9", "0.5"), "latest", "0.5"),
        (MetricObservation("m", UNAVAILABLE, UNAVAILABLE, "geno"), "min", "geno"),  # falls back to latest
        (MetricObservation("m", UNAVAILABLE, UNAVAILABLE, "geno"), "max", "geno"),
        (MetricObservation("m", "0.1", "0.9", "0.5"), "median", UNAVAILABLE),  # unknown strategy
        (None, "max", UNAVAILABLE),  # no observation
    ],
)
def test_objective_value_string(metric, strategy, expected):
    assert objective_value_string(metric, strategy) == expected


def test_objective_value_as_float():
    assert objective_value(MetricObservation("m", "0.1", "0.9", "0.5"), "max") == 0.9
    assert objective_value(MetricObservation("m"), "max") is None


# -- §3.4 best trial ------------------------------------------------------------------------------------------
def test_best_trial_maximize_first_of_equal_values_and_goal():
    best = best_trial(["0.5", UNAVAILABLE, "0.9", "0.9", "0.2"], "maximize", 0.9)
    assert (best.index, best.value, best.goal_reached) == (2, 0.9, True)


def test_best_trial_minimize_without_goal():
    best = best_trial(["0.5", "0.3", "0.3"], "minimize", None)
    assert (best.index, best.value, best.goal_reached) == (1, 0.3, False)


def test_best_trial_goal_not_reached():
    assert best_trial(["0.5", "0.8"], "maximize", 0.9).goal_reached is False
    assert best_trial(["0.5", "0.4"], "minimize", 0.4).goal_reached is True  # <= goal


def test_best_trial_latest_string_wins():
    # "geno" takes the best slot; 0.7 > 0.5 takes it back.
    assert best_trial(["0.5", "geno", "0.7"], "maximize", None).index == 2
    assert best_trial(["0.5", "geno", "0.4"], "maximize", None).index == 1


def test_best_trial_string_first_compares_numbers_against_zero():
    # [derived quirk] the best value is still 0.0 when numbers arrive after a string.
    assert best_trial(["geno", "-1.0"], "maximize", None).index == 0
    best = best_trial(["geno", "-1.0", "0.5"], "maximize", None)
    assert (best.index, best.value) == (2, 0.5)


def test_best_trial_nan_first_blocks_every_later_value():
    best = best_trial(["NaN", "0.5", "0.9"], "maximize", 0.1)
    assert best.index == 0 and math.isnan(best.value) and not best.goal_reached


def test_best_trial_unknown_type_keeps_the_first():
    assert best_trial(["0.5", "0.9"], None, 0.1).index == 0
    assert best_trial([UNAVAILABLE], "maximize", None).index is None


# -- §3.2 conditions ---------------------------------------------------------------------------------------------
def test_set_condition_no_change_for_same_status_and_reason():
    c = set_condition((), "Running", "True", "ExperimentRunning", "Experiment is running", 1.0)
    assert set_condition(c, "Running", "True", "ExperimentRunning", "other message", 5.0) is c


def test_set_condition_appends_and_keeps_transition_when_only_reason_changes():
    c = set_condition((), "Created", "True", "ExperimentCreated", "Experiment is created", 0.0)
    c = set_condition(c, "Running", "True", "A", "a", 1.0)
    c = set_condition(c, "Restarting", "True", "R", "r", 2.0)
    c = set_condition(c, "Running", "True", "B", "b", 3.0)
    assert [x.type for x in c] == ["Created", "Restarting", "Running"]  # removed and appended
    assert (c[-1].last_transition, c[-1].last_update, c[-1].reason) == (1.0, 3.0, "B")


def test_mark_completed_sets_running_false_then_appends_succeeded():
    c = set_condition((), "Created", "True", "ExperimentCreated", "Experiment is created", 0.0)
    c = set_condition(c, "Running", "True", "ExperimentRunning", "Experiment is running", 1.0)
    c = mark_completed(c, "Succeeded", "ExperimentMaxTrialsReached", "m", 9.0)
    assert [(x.type, x.status, x.reason) for x in c] == [
        ("Created", "True", "ExperimentCreated"),
        ("Running", "False", "ExperimentRunning"),
        ("Succeeded", "True", "ExperimentMaxTrialsReached"),
    ]
    assert c[1].last_transition == 9.0 and c[1].message == "Experiment is running"


# -- §3.6 trial names ---------------------------------------------------------------------------------------------
def test_trial_names_katib_style_and_deterministic():
    name = trial_name("tfjob-bayesian", np.random.default_rng(7))
    prefix, suffix = name.rsplit("-", 1)
    assert prefix == "tfjob-bayesian" and len(suffix) == 8 and set(suffix) <= set(NAME_ALPHABET)
    assert name == trial_name("tfjob-bayesian", np.random.default_rng(7))
    namer_a, namer_b = TrialNamer("e", np.random.default_rng(3)), TrialNamer("e", np.random.default_rng(3))
    a = [namer_a() for _ in range(5000)]
    assert a == [namer_b() for _ in range(5000)]
    assert len(set(a)) == 5000
    assert all(len(n) == 10 and set(n[2:]) <= set(NAME_ALPHABET) for n in a)


def test_seed_sample_names_fit_the_alphabet():
    # Names from the seed's real run (sample-suggestion-output.yaml).
    for n in ("jtj6kc7w", "grk2k47g", "cvhmdgmg", "4m2qn7dd", "gbl5kns7", "zxjrcbkj", "zwvf497n", "xf7vthlw"):
        assert set(n) <= set(NAME_ALPHABET)


# -- §4.2 what the services see ----------------------------------------------------------------------------------------
def test_sent_to_services():
    assert sent_to_services(Bucket.RUNNING, False)
    assert sent_to_services(Bucket.FAILED, False)
    assert sent_to_services(Bucket.EARLY_STOPPED, True)
    assert not sent_to_services(Bucket.EARLY_STOPPED, False)
    assert not sent_to_services(Bucket.METRICS_UNAVAILABLE, True)
