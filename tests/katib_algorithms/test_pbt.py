"""``pbt``: Katib's population, exploit and explore, labels, failures."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from katibsim.algorithm import ObjectiveInfo, SettingsError, Trial, TrialCondition
from katibsim.suggest_check import checked_suggest
from katibsim.errors import SuggestionServiceFailure
from katibsim.spec.model import FeasibleSpace, ParameterSpec
from katibsim.spec.space import SearchSpace
from katibsim.testing import parametrize_with_checks
from katibsim_plugins.katib_pbt import GENERATION_LABEL, PARENT_LABEL, Pbt

ACC = ObjectiveInfo("acc", maximize=True)
SPACE = SearchSpace.from_specs([
    ParameterSpec("lr", "double", FeasibleSpace(min="0.0001", max="0.02", step="0.0001")),
    ParameterSpec("layers", "int", FeasibleSpace(min="1", max="20")),
    ParameterSpec("opt", "categorical", FeasibleSpace(list=("sgd", "adam", "ftrl"))),
])
SETTINGS = {"suggestion_trial_dir": "/var/log/katib/checkpoints/", "n_population": "5", "truncation_threshold": "0.2"}


def run(alg, values, per_call=3, fail=()):
    """Ask, finish with the next value of ``values`` (Failed for indices in ``fail``), repeat."""
    history, k = [], 0
    labels = {}
    while k < len(values):
        res = checked_suggest(alg, history, per_call)
        for a, lab in zip(res.assignments, alg.last_labels):
            name = f"t{len(history)}"
            labels[name] = lab
            history.append(Trial(name, a, TrialCondition.RUNNING))
        done = []
        for t in history:
            if t.condition == TrialCondition.RUNNING and k < len(values):
                cond = TrialCondition.FAILED if k in fail else TrialCondition.SUCCEEDED
                done.append(Trial(t.name, t.assignment, cond, None if k in fail else values[k]))
                k += 1
            else:
                done.append(t)
        history = done
    return history, labels


def perturbed(parent: dict, child: dict) -> bool:
    p = SPACE["lr"]
    lrs = {p.snap(max(0.0001, min(0.02, parent["lr"] * f))) for f in (0.8, 1.2)}
    layers = {SPACE["layers"].snap(max(1, min(20, int(int(parent["layers"]) * f)))) for f in (0.8, 1.2)}
    order = ["sgd", "adam", "ftrl"]
    i = order.index(parent["opt"])
    opts = {order[i - 1], order[(i + 1) % 3]}
    return child["lr"] in lrs and child["layers"] in layers and child["opt"] in opts


@given(values=st.lists(st.floats(0, 1), min_size=25, max_size=40), corrected=st.booleans())
@settings(max_examples=25, deadline=None)
def test_every_child_explores_its_parent_or_exploits_a_top_member(values, corrected):
    alg = Pbt(SPACE, ACC, SETTINGS, 1)
    alg.corrected = corrected
    history, labels = run(alg, values)
    by_name = {t.name: t for t in history}
    children = [j for j in alg.jobs if j.generation > 0]
    for job in children:
        parent = alg.jobs[job.parent]
        assert parent.uid in alg.completed and job.generation == parent.generation + 1
        if perturbed(parent.params, job.params):
            continue
        # Exploit: the hyperparameters of a completed member at least as good as the parent.
        sources = [j for j in alg.completed.values() if j.params == job.params and j.uid != job.uid]
        assert sources, (job, parent)
        if corrected:
            assert job.params == parent.params  # continues from the top member it copies
    for name, lab in labels.items():
        if name not in alg._by_trial:
            continue  # the last batch: the service sees it on its next call
        job = alg.jobs[alg._by_trial[name]]
        assert lab[GENERATION_LABEL] == str(job.generation)
        if job.parent is not None:
            assert by_name[lab[PARENT_LABEL]].assignment == alg.jobs[job.parent].params or \
                alg.jobs[job.parent].trial == lab[PARENT_LABEL]


def test_katib_exploit_continues_from_the_bottom_members_checkpoint():
    # Five members valued 0..0.4 by lr order; after the generation the worst one is exploited.
    values = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 0.05]
    alg = Pbt(SPACE, ACC, SETTINGS, 3)
    run(alg, values, per_call=1)
    exploiting = [j for j in alg.jobs if j.generation > 0 and not perturbed(alg.jobs[j.parent].params, j.params)]
    assert exploiting
    for j in exploiting:
        parent = alg.jobs[j.parent]
        assert j.params != parent.params  # hyperparameters of a top member, checkpoint of the bottom one
        assert parent.metric_value <= min(m.metric_value for m in alg.completed.values() if m.params == j.params)


def test_a_generation_waits_for_more_than_n_population_completed():
    alg = Pbt(SPACE, ACC, SETTINGS, 0)
    history, _ = run(alg, [0.1, 0.2, 0.3, 0.4, 0.5], per_call=5)
    alg.suggest(history, 5)
    assert all(j.generation == 0 for j in alg.jobs)  # 5 completed is not more than 5: seeds more
    alg2 = Pbt(SPACE, ACC, SETTINGS, 0)
    h2, _ = run(alg2, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6], per_call=3)
    alg2.suggest(h2, 3)  # 6 completed > 5: the next generation
    assert any(j.generation == 1 for j in alg2.jobs)


def test_failed_trials_are_queued_again_unchanged():
    alg = Pbt(SPACE, ACC, SETTINGS, 0)
    history, _ = run(alg, [0.1, 0.2, 0.3], per_call=3, fail={1})
    alg.suggest(history, 1)  # the service sees the failure on its next call
    failed = next(t for t in history if t.condition == TrialCondition.FAILED)
    again = [j for j in alg.jobs if j.params == dict(failed.assignment)]
    assert len(again) >= 2 and again[0].generation == again[-1].generation


def test_seeding_samples_the_step_grid():
    alg = Pbt(SPACE, ACC, SETTINGS, 0)
    out = alg.suggest([], 5)
    for a in out:
        k = round((a["lr"] - 0.0001) / 0.0001)
        assert abs(a["lr"] - (0.0001 + k * 0.0001)) < 1e-12
    assert alg.last_labels == [{GENERATION_LABEL: "0"}] * 5


def test_double_without_step_crashes_katibs_service():
    sp = SearchSpace.from_specs([ParameterSpec("lr", "double", FeasibleSpace(min="0.001", max="0.1"))])
    alg = Pbt(sp, ACC, SETTINGS, 0)
    assert any(w.path == "spec.parameters[0].feasibleSpace.step" for w in alg.predicted_failures())
    with pytest.raises(SuggestionServiceFailure) as err:
        alg.suggest([], 2)
    assert err.value.message == "could not convert string to float: ''"
    fixed = Pbt(sp, ACC, SETTINGS, 0)
    fixed.corrected = True
    assert all(0.001 <= a["lr"] <= 0.1 for a in checked_suggest(fixed, [], 4).assignments)


@pytest.mark.parametrize("settings,message", [
    ({"n_population": "5"}, "Required params missing: suggestion_trial_dir, truncation_threshold"),
    ({**SETTINGS, "n_population": "4"}, "Param(n_population) should be >= 5"),
    ({**SETTINGS, "truncation_threshold": "1.5"}, "Param(truncation_threshold) should be between 0 and 1, inclusive"),
    ({**SETTINGS, "resample_probability": "0.5"},
     "Exception calling application: '<=' not supported between instances of 'int' and 'str'"),
])
def test_validation_messages(settings, message):
    with pytest.raises(SettingsError) as err:
        Pbt(SPACE, ACC, settings, 0)
    assert err.value.message == message


def test_a_trial_it_did_not_suggest_fails_with_a_key_error():
    stranger = Trial("other", {"lr": 0.001, "layers": 2, "opt": "sgd"}, TrialCondition.SUCCEEDED, 1.0)
    with pytest.raises(SuggestionServiceFailure, match="KeyError: 'other'"):
        Pbt(SPACE, ACC, SETTINGS, 0).suggest([stranger], 1)


class CorrectedPbt(Pbt):
    corrected = True


@parametrize_with_checks(CorrectedPbt, settings=SETTINGS, skip={
    "check_rebuild_same_answer": "the population lives in memory, as in Katib",
    "check_rejects_junk_settings": "Katib's pbt ignores unknown names"})
def test_conformance_kit(check):
    check()


def test_a_run_records_the_labels_as_katib_puts_them_on_trials_and_suggestions():
    """getTrialInstance puts the reply's labels on each Trial's metadata.labels (next to the
    experiment's label), and SyncAssignments keeps them on the Suggestion's status.suggestions;
    the stored result keeps them through its JSON, and an unlabelled trial stores none."""
    from pathlib import Path

    from katibsim.engine import status
    from katibsim.engine.result import RunResult
    from katibsim.engine.run import simulate
    from katibsim.spec.loader import load_experiment

    exp = load_experiment(Path(__file__).resolve().parents[2] / "examples" / "katib" / "simple-pbt-counts-fixed.yaml")
    result = simulate(exp, "mnist-tfjob", seed=3, objective_options={"batch_size": 100, "epochs": 2},
                      allow_mismatch=("metric", "range"))
    names = {t.name for t in result.trials}
    children = [t for t in result.trials if dict(t.labels).get(PARENT_LABEL)]
    assert children and all(dict(t.labels)[PARENT_LABEL] in names for t in children)
    assert all(dict(t.labels).get(GENERATION_LABEL) for t in result.trials)
    child = children[-1]
    meta = status.trial_object(result, child)["metadata"]["labels"]
    assert meta == {"katib.kubeflow.org/experiment": exp.name, **dict(child.labels)}
    (stored,) = [s for s in status.suggestion_object(result)["status"]["suggestions"] if s["name"] == child.name]
    assert stored["labels"] == dict(child.labels)
    assert RunResult.from_dict(result.to_dict()) == result
    plain = type(child)(name="t", index=0, assignment=(), condition="Succeeded", reason="", message="", value=1.0)
    assert "labels" not in plain.to_dict()
