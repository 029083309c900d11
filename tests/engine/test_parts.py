"""The engine's smaller parts: event queue, simulation options, parameter mapping, the sim backend, Katib objects."""

from __future__ import annotations

import math

import numpy as np
import pytest

from katibsim.backends.base import Outcome, RunContext, TrialLaunch
from katibsim.backends.sim import SimBackend
from katibsim.early_stopping import Comparison, Rule
from katibsim.engine import status
from katibsim.engine.clock import EventQueue, SimulatedClock
from katibsim.engine.mapping import Transform, domain_notes, parse_map_entry, resolve_mapping
from katibsim.engine.options import RegionBound, SimulationOptions
from katibsim.engine.run import Streams, simulate
from katibsim.errors import InputError
from katibsim.objective import Evaluation, Objective, ObjectiveInput

from engine_helpers import Line, make_experiment, scripted


# -- clock ------------------------------------------------------------------------------------------------
def test_event_queue_orders_by_time_then_fifo_and_cancels():
    q: EventQueue[str] = EventQueue()
    q.push(5.0, "a", "a5")
    q.push(1.0, "b", "b1")
    q.push(5.0, "c", "c5")
    q.push(3.0, "d", "d3")
    assert q.cancel("d") == 1 and len(q) == 3
    assert [d.payload for d in q.pop_next_instant()] == ["b1"]
    assert q.pop_next_instant(until=4.0) == []
    assert [d.payload for d in q.pop_next_instant()] == ["a5", "c5"]  # same instant, first in first out
    assert q.peek_time() is None and q.pop_next_instant() == []
    with pytest.raises(ValueError):
        q.push(math.nan, "x", "x")


def test_clock_never_goes_back():
    c = SimulatedClock()
    c.advance_to(2.0)
    with pytest.raises(ValueError):
        c.advance_to(1.0)


# -- options ---------------------------------------------------------------------------------------------------
def test_options_from_strings_and_round_trip():
    o = SimulationOptions.from_dict({"failure_probability": "0.25", "katib_compat": "false", "crash_after_steps": "3",
                                     "failure_region": [{"parameter": "x", "min": 5}]})
    assert (o.failure_probability, o.katib_compat, o.crash_after_steps) == (0.25, False, 3)
    assert o.failure_region == (RegionBound("x", min=5.0),)
    assert SimulationOptions.from_dict(o.to_dict()) == o


@pytest.mark.parametrize("bad, words", [
    ({"failure_probability": 1.5}, "probability in [0, 1]"),
    ({"startup_delay": -1}, ">= 0"),
    ({"crash_after_steps": "1.5"}, "crash_after_steps"),
    ({"start_time": "yesterday"}, "RFC3339"),
    ({"nope": 1}, "unknown simulation option(s) nope"),
    ({"failure_region": [{"min": 1}]}, "failure_region[0]"),
])
def test_bad_options_are_input_errors(bad, words):
    with pytest.raises(InputError) as err:
        SimulationOptions.from_dict(bad)
    assert words in str(err.value)


def test_region_bound_matching():
    assert RegionBound("x", min=1, max=2).matches(1.5) and not RegionBound("x", min=1, max=2).matches(3)
    assert RegionBound("opt", values=("adam",)).matches("adam") and not RegionBound("opt", values=("adam",)).matches("sgd")


# -- mapping -----------------------------------------------------------------------------------------------------
class Two(Objective):
    name = "two"
    metric_name = "loss"
    inputs = (ObjectiveInput("x1", -5, 10), ObjectiveInput("x2", 0, 15))

    def evaluate(self, x, rng):
        return Evaluation(value=x["x1"] + x["x2"])


LR_BS = [
    {"name": "--learning_rate", "parameterType": "double", "feasibleSpace": {"min": "0.001", "max": "0.1"}},
    {"name": "--batch_size", "parameterType": "int", "feasibleSpace": {"min": "1", "max": "15"}},
]


def test_mapping_by_name_ignores_dashes():
    class Named(Two):
        inputs = (ObjectiveInput("batch_size", 0, 20), ObjectiveInput("learning_rate", 0, 1))

    space = make_experiment(parameters=LR_BS).search_space()
    m = resolve_mapping(space, Named())
    assert m.mode == "name"
    assert m.apply({"--learning_rate": 0.01, "--batch_size": 8}) == {"batch_size": 8, "learning_rate": 0.01}


def test_mapping_by_order_when_counts_match():
    space = make_experiment(parameters=LR_BS).search_space()
    m = resolve_mapping(space, Two())
    assert m.mode == "order" and m.describe() == "order: --learning_rate=x1, --batch_size=x2"


def test_explicit_mapping_with_transforms():
    space = make_experiment(parameters=LR_BS).search_space()
    m = resolve_mapping(space, Two(), ["--learning_rate=x1:log10:scale=2", "batch_size=x2"])
    x = m.apply({"--learning_rate": 0.01, "--batch_size": 8})
    assert x["x1"] == pytest.approx(-4.0) and x["x2"] == 8
    # log10 of [0.001, 0.1] is [-3, -1]; times 2 it is [-6, -2], which leaves x1's domain [-5, 10].
    assert "spans [-6, -2] after mapping, beyond objective input x1's domain [-5, 10]" in domain_notes(space, Two(), m)[0]
    m2 = resolve_mapping(space, Two(), {"--learning_rate": "x1:log10", "--batch_size": "x2"})
    assert domain_notes(space, Two(), m2) == []


def test_mapping_errors_say_what_to_do():
    one = make_experiment().search_space()  # parameter x only
    with pytest.raises(InputError) as err:
        resolve_mapping(one, Two())
    assert "--map" in str(err.value) and "x1, x2" in str(err.value)
    space = make_experiment(parameters=LR_BS).search_space()
    with pytest.raises(InputError, match="no experiment parameter 'lr'"):
        resolve_mapping(space, Two(), ["lr=x1", "--batch_size=x2"])
    with pytest.raises(InputError, match="unmapped"):
        resolve_mapping(space, Two(), ["--learning_rate=x1"])
    with pytest.raises(InputError, match="unknown transform"):
        parse_map_entry("--learning_rate=x1:cube")


def test_transform_parse():
    assert Transform.parse("*1000") == Transform("scale", 1000.0)
    assert Transform.parse("offset=-1").apply(3) == 2
    assert Transform.parse("pow10").apply(2) == pytest.approx(100)
    assert parse_map_entry("--lr=x1:ln") == ("--lr", "x1", (Transform("ln"),))


# -- the sim backend -------------------------------------------------------------------------------------------------
def _backend(options=None, objective=None):
    exp = make_experiment()
    b = SimBackend()
    b.open(RunContext(experiment=exp, options=options or SimulationOptions(), metric_names=("score",), maximize=True,
                      objective=objective or Line(), noise_rng=np.random.default_rng(0),
                      failure_rng=np.random.default_rng(1)))
    return b


def test_sim_backend_runs_one_trial_and_reports_its_curve():
    b = _backend()
    b.start(TrialLaunch("t1", 0, {"x": 5.0}, (("x", "5.0"),)))
    assert b.active == 1
    [ev] = b.wait()
    assert (ev.name, ev.outcome, ev.time, ev.started) == ("t1", Outcome.SUCCEEDED, 25.0, 10.0)
    assert ev.reports["score"] == ((1, 1.0), (2, 2.0), (3, 3.0), (4, 4.0), (5, 5.0))
    assert b.active == 0 and b.wait() == []


def test_sim_backend_applies_early_stopping_rules_like_the_collector():
    b = _backend()
    rule = Rule("score", 3.0, Comparison.LESS, start_step=2)
    b.start(TrialLaunch("low", 0, {"x": 5.0}, (("x", "5.0"),), rules=(rule,)))  # 2.0 at step 2 -> stop
    b.start(TrialLaunch("high", 1, {"x": 9.0}, (("x", "9.0"),), rules=(rule,)))  # 3.6 at step 2 -> runs on
    [ev] = b.wait()
    assert (ev.name, ev.outcome, ev.stopped_at, ev.time) == ("low", Outcome.EARLY_STOPPED, 2, 10.0 + 15 * 2 / 5)
    assert ev.reports["score"] == ((1, 1.0), (2, 2.0))
    [ev] = b.wait()
    assert (ev.name, ev.outcome) == ("high", Outcome.SUCCEEDED)


def test_sim_backend_stop_kills_a_running_trial():
    b = _backend()
    b.start(TrialLaunch("t1", 0, {"x": 5.0}, (("x", "5.0"),)))
    b.wait(deadline=16.0)  # 2 of 5 reports made (at 13 and 16)
    ev = b.stop("t1", "experiment deleted")
    assert ev.outcome == Outcome.KILLED and ev.reports["score"] == ((1, 1.0), (2, 2.0))
    assert b.active == 0 and b.wait() == [] and b.stop("t1") is None


def test_sim_backend_rejects_a_bad_duration():
    class Bad(Line):
        def evaluate(self, x, rng):
            return Evaluation(value=1.0, duration=-1.0)

    b = _backend(objective=Bad())
    with pytest.raises(Exception, match="duration"):
        b.start(TrialLaunch("t1", 0, {"x": 5.0}, (("x", "5.0"),)))


def test_streams_are_separate_and_reproducible():
    a, b = Streams.from_seed(3), Streams.from_seed(3)
    assert a.algorithm_seed == b.algorithm_seed
    assert a.noise.random() == b.noise.random() and a.failures.random() == b.failures.random()
    assert Streams.from_seed(4).algorithm_seed != a.algorithm_seed


def test_same_seed_gives_the_same_noise_to_different_algorithms():
    """Paired comparisons: the n-th trial of two algorithms meets the same noise draw."""
    from engine_helpers import Noisy

    exp = make_experiment({"parallelTrialCount": 1, "maxTrialCount": 3})
    a = simulate(exp, Noisy(), algorithm=scripted(exp, [1, 2, 3]), seed=9)
    b = simulate(exp, Noisy(), algorithm=scripted(exp, [1, 2, 3]), seed=9)
    assert [t.value for t in a.trials] == [t.value for t in b.trials]


# -- Katib-shaped objects --------------------------------------------------------------------------------------------
def _run():
    es = {"algorithmName": "medianstop", "algorithmSettings": [{"name": "min_trials_required", "value": "2"},
                                                              {"name": "start_step", "value": "2"}]}
    exp = make_experiment({"parallelTrialCount": 1, "maxTrialCount": 4, "earlyStopping": es}, name="demo", retain=True)
    return simulate(exp, Line(), algorithm=scripted(exp, [8, 6, 1, 9]), seed=0)


def test_experiment_object_shape():
    r = _run()
    obj = status.experiment_object(r)
    assert (obj["apiVersion"], obj["kind"], obj["metadata"]["name"]) == ("kubeflow.org/v1beta1", "Experiment", "demo")
    st = obj["status"]
    assert st["startTime"] == "2025-01-01T00:00:00Z"
    assert [c["type"] for c in st["conditions"]] == ["Created", "Running", "Succeeded"]
    assert st["conditions"][-1]["reason"] == "ExperimentMaxTrialsReached"
    assert st["trials"] == 4 and st["trialsSucceeded"] == 3 and st["trialsEarlyStopped"] == 1
    assert "trialsFailed" not in st and "trialMetricsUnavailable" not in st  # omitempty
    assert st["earlyStoppedTrialList"] == [r.trials[2].name]
    opt = st["currentOptimalTrial"]
    assert opt["bestTrialName"] == r.trials[3].name
    assert opt["parameterAssignments"] == [{"name": "x", "value": "9.0"}]
    assert opt["observation"]["metrics"] == [{"latest": "9.0", "max": "9.0", "min": "1.8", "name": "score"}]
    assert obj["spec"]["earlyStopping"]["algorithmName"] == "medianstop"


def test_suggestion_object_shape():
    r = _run()
    s = status.suggestion_object(r)
    assert s["spec"]["requests"] == 4 and s["status"]["suggestionCount"] == 4
    assert s["spec"]["algorithm"] == {"algorithmName": "scripted"}
    assert s["spec"]["resumePolicy"] == "Never"
    assert [c["type"] for c in s["status"]["conditions"]] == ["Created", "DeploymentReady", "Running", "Succeeded"]
    assert s["status"]["conditions"][-1]["message"] == "Suggestion is succeeded, can't be restarted"
    third = s["status"]["suggestions"][2]
    assert third["earlyStoppingRules"] == [{"comparison": "less", "name": "score", "value": str(r.trials[2].rules[0].value), "startStep": 2}]


def test_trial_objects_and_table():
    r = _run()
    es = status.trial_object(r, r.trials[2])
    conds = es["status"]["conditions"]
    assert [(c["type"], c["status"]) for c in conds] == [("Created", "True"), ("Running", "True"), ("EarlyStopped", "True")]
    assert es["status"]["completionTime"] is None  # EarlyStopped does not set it
    ok = status.trial_object(r, r.trials[0])
    assert [(c["type"], c["status"]) for c in ok["status"]["conditions"]][-2:] == [("Running", "False"), ("Succeeded", "True")]
    assert ok["metadata"]["labels"] == {"katib.kubeflow.org/experiment": "demo"}
    table = status.trials_table(r).splitlines()
    assert table[0].split() == ["NAME", "TYPE", "STATUS", "AGE"]
    assert table[3].split()[1:3] == ["EarlyStopped", "True"]
    summary = status.summary_table(r)
    assert "ExperimentMaxTrialsReached" in summary and "EarlyStopped@2" in summary and "Optimal trial:" in summary


@pytest.mark.parametrize("seconds, text", [(5, "5s"), (119, "119s"), (125, "2m5s"), (600, "10m"), (3 * 3600, "3h"),
                                           (3 * 3600 + 60, "3h1m"), (50 * 3600, "2d2h"), (30 * 86400, "30d")])
def test_human_age(seconds, text):
    assert status.human_age(seconds) == text
