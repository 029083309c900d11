"""The variants of a what-if comparison, planned from a finished run's trials."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from katibsim.errors import InputError
from katibsim.scenario.reader import placeholder_template
from katibsim.workload.whatif import KATIB_ALGORITHMS, NOT_COMPARED, experiment_document, measured_parallelism, plan_variants

from whatif_helpers import FINITE, table, timed_table, trial


def _doc(t, **spec):
    doc = experiment_document(t)
    doc["spec"].update(spec)
    doc["spec"]["trialTemplate"] = placeholder_template(doc["spec"]["parameters"])  # as the scenario reader adds it
    return doc


def test_experiment_from_trials_alone():
    t = timed_table([0.1, 0.2, 0.3, 0.4, 0.5], parallel=2, algorithm_name="tpe")
    doc = experiment_document(t)
    spec = doc["spec"]
    assert spec["objective"] == {"type": "maximize", "objectiveMetricName": "acc"}
    assert spec["algorithm"] == {"algorithmName": "tpe"}
    assert spec["parallelTrialCount"] == 2  # measured from the trials' times
    assert spec["maxTrialCount"] == 5
    lr, batch = spec["parameters"]
    assert lr == {"name": "lr", "parameterType": "double",
                  "feasibleSpace": {"min": "0.001", "max": "0.5", "distribution": "logUniform"}}
    assert batch["parameterType"] == "int" and batch["feasibleSpace"]["min"] == "8"


def test_the_experiment_given_wins_without_its_status():
    given_doc = {"apiVersion": "kubeflow.org/v1beta1", "kind": "Experiment", "metadata": {"name": "real"},
                 "spec": {"parallelTrialCount": 7}, "status": {"trials": 3}}
    doc = experiment_document(table([trial(0, 0.1)], experiment=given_doc, parallel_trial_count=2))
    assert doc == {k: v for k, v in given_doc.items() if k != "status"}
    assert "status" in given_doc  # not changed in place


def test_unknown_direction_is_an_input_error_naming_the_file_and_metric():
    with pytest.raises(InputError, match=r"trials.yaml: the trials do not say whether acc is maximized or minimized"):
        experiment_document(table([trial(0, 0.1)], direction=None))


def test_measured_parallelism():
    assert measured_parallelism(timed_table([1, 2, 3, 4, 5, 6, 7], parallel=3)) == 3
    assert measured_parallelism(table([trial(0, 0.1)])) is None


def test_plan_for_a_continuous_space():
    t = timed_table([0.1] * 12, parallel=3, algorithm_name="random")
    plan = plan_variants(_doc(t, maxTrialCount=20, maxFailedTrialCount=15))
    names = [v.name for v in plan.variants]
    assert names[0] == "as-run" and plan.variants[0].algorithm is None
    assert [v.algorithm for v in plan.variants[1:6]] == ["tpe", "multivariate-tpe", "bayesianoptimization", "cmaes", "sobol"]
    assert names[6:] == ["as-run-parallel-1", "as-run-parallel-6", "as-run-max-10", "as-run-max-40"]
    by = {v.name: v for v in plan.variants}
    # Katib: maxFailedTrialCount <= maxTrialCount, so the halved budget lowers it too
    assert by["as-run-max-10"].overrides == {"maxTrialCount": 10, "maxFailedTrialCount": 10}
    assert by["as-run-max-40"].overrides == {"maxTrialCount": 40}
    skipped = dict(plan.skipped)
    assert skipped["grid"] == "the space is not finite: lr is a double without a step"
    for name in NOT_COMPARED:
        assert skipped[name] == NOT_COMPARED[name]
    assert "random" not in skipped and "random" not in names  # it is the one as run


def test_grid_joins_on_a_finite_space():
    t = table([trial(0, 0.1, layers="2", opt="sgd"), trial(1, 0.3, layers="4", opt="adam")], space=FINITE,
              algorithm_name="tpe", parallel_trial_count=1, max_trial_count=8)
    plan = plan_variants(_doc(t), algorithms=("grid", "random", "tpe"))
    assert [(v.name, v.algorithm) for v in plan.variants[:3]] == [("as-run", None), ("grid", "grid"), ("random", "random")]
    # parallelTrialCount 1 has no half: only the double
    assert [v.name for v in plan.variants[3:]] == ["as-run-parallel-2", "as-run-max-4", "as-run-max-16"]
    assert plan.algorithm == "tpe" and plan.parallel_trial_count == 1 and plan.max_trial_count == 8


def test_the_budget_sets_the_counts_the_variants_halve_and_double():
    t = timed_table([0.1] * 4, parallel=2)
    plan = plan_variants(_doc(t), budget={"parallelTrialCount": 4, "maxTrialCount": 12}, algorithms=())
    assert [v.name for v in plan.variants] == ["as-run", "as-run-parallel-2", "as-run-parallel-8", "as-run-max-6", "as-run-max-24"]


def test_an_unknown_algorithm_is_skipped_with_the_reason():
    plan = plan_variants(_doc(timed_table([0.1] * 4)), algorithms=("no-such-algo",))
    assert dict(plan.skipped)["no-such-algo"] == "no plugin provides this algorithm (see katibsim plugins)"


def test_a_variant_katib_would_reject_is_skipped():
    # parallelTrialCount 6 against maxTrialCount 4: Katib's validation says no
    plan = plan_variants(_doc(timed_table([0.1] * 4, parallel=3), maxTrialCount=4), algorithms=())
    skipped = dict(plan.skipped)
    assert "as-run-parallel-6" in skipped and "parallelTrialCount" in skipped["as-run-parallel-6"]


def test_default_algorithms_are_katibs():
    assert set(KATIB_ALGORITHMS) == {"random", "tpe", "multivariate-tpe", "bayesianoptimization", "cmaes", "sobol", "grid"}


@given(st.integers(1, 40), st.integers(1, 200))
def test_generated_counts_are_valid_and_distinct(parallel, max_trials):
    t = timed_table([0.1] * 3)
    plan = plan_variants(_doc(t, parallelTrialCount=parallel, maxTrialCount=max_trials), algorithms=())
    names = [v.name for v in plan.variants]
    assert len(names) == len(set(names))
    for v in plan.variants[1:]:
        for key, n in v.overrides.items():
            assert n >= 1
        assert v.overrides.get("parallelTrialCount", parallel) != parallel or v.overrides.get("maxTrialCount", max_trials) != max_trials


def test_an_experiment_name_from_a_file_becomes_a_kubernetes_name():
    doc = experiment_document(timed_table([0.1], experiment_name="My Trials_2024"))
    assert doc["metadata"]["name"] == "my-trials-2024"


def test_an_invalid_experiment_skips_nothing_the_preflight_reports_it():
    doc = _doc(timed_table([0.1] * 4, parallel=2))
    doc["metadata"]["name"] = "Not Valid"
    plan = plan_variants(doc, algorithms=("tpe",))
    assert [v.name for v in plan.variants] == ["as-run", "tpe", "as-run-parallel-1", "as-run-parallel-4", "as-run-max-2", "as-run-max-8"]
    assert plan.skipped == ()
