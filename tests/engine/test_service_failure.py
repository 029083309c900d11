"""Katib's answer to a failing suggestion service: no trial, the Experiment stays Running, a retry on
every later reconcile; the run ends (still Running) when nothing can change any more."""

from __future__ import annotations

import json

from katibsim.engine.options import SimulationOptions
from katibsim.engine.result import RunResult
from katibsim.engine.run import simulate

from engine_helpers import FailingService, Line, make_experiment


def run(fail_after: int, **kw):
    exp = make_experiment({"parallelTrialCount": 3, "maxTrialCount": 12})
    alg = FailingService(exp.search_space(), fail_after=fail_after, **kw)
    return simulate(exp, Line(), seed=0, algorithm=alg), alg


def test_a_service_that_always_fails_creates_no_trial_and_leaves_the_experiment_created():
    r, alg = run(0)
    assert r.trials == () and r.outcome == "Running" and r.reason == "SuggestionServiceFailed"
    # Katib's status is only recomputed once a trial exists: the last condition stays Created.
    assert [(c.type, c.reason) for c in r.status.conditions] == [("Created", "ExperimentCreated")]
    (f,) = r.katib_failures
    message, why, fix = FailingService.FAILURE
    assert (f.message, f.why, f.fix, f.trials, f.attempts) == (message, why, fix, 0, 1)
    assert f.time == r.time_to_end  # the service answered at the suggestion start-up delay, then nothing
    note = next(n for n in r.notes if n.code == "suggestion-service-failed")
    assert message in note.message and why in note.message and fix in note.message


def test_after_k_suggestions_katib_retries_on_every_reconcile_while_trials_run():
    r, alg = run(4)
    assert len(r.trials) == 4 and all(t.condition == "Succeeded" for t in r.trials)
    assert r.outcome == "Running" and r.reason == "SuggestionServiceFailed"
    last = r.status.conditions[-1]
    assert (last.type, last.status, last.reason) == ("Running", "True", "ExperimentRunning")
    (f,) = r.katib_failures
    assert f.trials == 4
    # Asked when the 4th trial was created's batch left a slot, then once per trial end.
    assert f.attempts >= 3 and alg.calls == 2 + f.attempts
    assert r.suggestion.suggestion_count == 4 and r.suggestion.requests > 4


def test_a_service_that_recovers_when_the_history_grows_goes_on():
    r, alg = run(3, recover_at=2)
    assert r.reason == "ExperimentMaxTrialsReached" and len(r.trials) == 12
    (f,) = r.katib_failures
    assert f.trials == 3 and f.attempts == 1  # failed when the first trial ended, worked at the second
    assert "suggestion-service-failed" not in [n.code for n in r.notes]  # it ended normally


def test_the_failures_survive_json_and_other_results_keep_their_bytes():
    r, _ = run(4)
    d = json.loads(json.dumps(r.to_dict()))
    assert RunResult.from_dict(d) == r and d["katib_failures"][0]["trials"] == 4
    ok = simulate(make_experiment(), Line(), seed=0)
    assert "katib_failures" not in ok.to_dict()


def test_corrected_is_set_on_the_instance_before_the_first_suggest():
    seen = []

    class Watch(FailingService):
        def suggest(self, trials, count):
            seen.append(self.corrected)
            return super().suggest(trials, count)

    exp = make_experiment({"parallelTrialCount": 3, "maxTrialCount": 3})
    simulate(exp, Line(), seed=0, algorithm=Watch(exp.search_space(), fail_after=99),
             options=SimulationOptions(katib_compat=False))
    simulate(exp, Line(), seed=0, algorithm=Watch(exp.search_space(), fail_after=99))
    assert seen[0] is True and seen[-1] is False
