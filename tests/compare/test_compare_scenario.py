"""Scenario files: structure, sweeps, paired seeds, and field-path errors for every bad field."""

from __future__ import annotations

import json
import textwrap

import pytest

from katibsim.errors import InputError, SpecError
from katibsim.scenario import load_scenarios, scenario_from_dict

from experiment_helpers import minimal_experiment

EXPERIMENT = minimal_experiment(
    algorithm={"algorithmName": "random"},
    parallelTrialCount=1,
    maxTrialCount=5,
    parameters=[{"name": "x", "parameterType": "double", "feasibleSpace": {"min": "-2", "max": "10"}}],
)


def doc(**over):
    d = {
        "name": "t",
        "experiment": EXPERIMENT,
        "objective": {"name": "seed-1d"},
        "variants": [
            {"name": "rand", "algorithm": "random"},
            {"name": "ucb", "algorithm": "katibsim-bo", "settings": {"acq_func": "LCB"}, "sweep": {"kappa": [1, 5]}},
        ],
        "seeds": {"count": 4, "master": 7},
        "target": {"value": 1.4},
    }
    d.update(over)
    return d


def paths(err: SpecError) -> list[str]:
    return [e.path for e in err.errors]


def test_sweep_expands_into_named_variants_with_string_settings():
    sc = scenario_from_dict(doc())
    assert sc.variant_names == ("rand", "ucb-kappa-1", "ucb-kappa-5")
    assert sc.variant("ucb-kappa-5").settings == {"acq_func": "LCB", "kappa": "5"}
    assert sc.sweeps[0].variants == ("ucb-kappa-1", "ucb-kappa-5")
    assert sc.report.baseline == "rand"  # the random-search variant, for the normalised score


def test_sweep_name_template_and_experiment_field_sweep():
    d = doc(variants=[{"name": "p{value}", "algorithm": "random", "sweep": {"parallelTrialCount": [1, 3]}}])
    sc = scenario_from_dict(d)
    assert sc.variant_names == ("p1", "p3")
    assert sc.experiment_for(sc.variant("p3"))["spec"]["parallelTrialCount"] == 3
    assert sc.sweeps[0].on_experiment


def test_overrides_budget_and_algorithm_land_in_the_experiment():
    d = doc(budget={"maxTrialCount": 9})
    d["variants"][0]["overrides"] = {"parallelTrialCount": 2, "goal": 1.3}
    sc = scenario_from_dict(d)
    e = sc.experiment_for(sc.variant("rand"))
    assert e["spec"]["maxTrialCount"] == 9 and e["spec"]["parallelTrialCount"] == 2
    assert e["spec"]["objective"]["goal"] == 1.3
    e2 = sc.experiment_for(sc.variant("ucb-kappa-1"))
    assert e2["spec"]["algorithm"] == {
        "algorithmName": "katibsim-bo",
        "algorithmSettings": [{"name": "acq_func", "value": "LCB"}, {"name": "kappa", "value": "1"}],
    }
    assert EXPERIMENT["spec"]["maxTrialCount"] == 5  # the input is not mutated


def test_seeds_are_paired_and_deterministic():
    sc = scenario_from_dict(doc())
    assert sc.seeds.seeds() == scenario_from_dict(doc()).seeds.seeds()
    assert len(set(sc.seeds.seeds())) == 4
    assert sc.run_key(sc.variants[0], 1) != sc.run_key(sc.variants[1], 1)
    assert sc.run_key(sc.variants[0], 1) == scenario_from_dict(doc()).run_key(sc.variants[0], 1)


@pytest.mark.parametrize(
    "over, path",
    [
        ({"variants": [{"name": "a", "settings": {"kappa": [1, 2]}}]}, "variants[0].settings.kappa"),
        ({"variants": [{"name": "a", "overrides": {"parallelTrialCount": 0}}]}, "variants[0].overrides.parallelTrialCount"),
        ({"variants": [{"name": "a", "overrides": {"maxTrialCont": 3}}]}, "variants[0].overrides.maxTrialCont"),
        ({"variants": [{"name": "a", "sweep": {"kappa": []}}]}, "variants[0].sweep.kappa"),
        ({"variants": [{"name": "a"}, {"name": "a"}]}, "variants[1].name"),
        ({"seeds": {"count": 0}}, "seeds.count"),
        ({"objective": {"options": {}}}, "objective.name"),
        ({"colour": "blue"}, "colour"),
        ({"target": {"value": 1, "regret": 0.1}}, "target"),
    ],
)
def test_bad_fields_are_rejected_with_their_path(over, path):
    with pytest.raises(SpecError) as err:
        scenario_from_dict(doc(**over), file="s.yaml")
    assert path in paths(err.value)
    assert all(e.file == "s.yaml" for e in err.value.errors)


@pytest.mark.parametrize(
    "assertion, path",
    [
        ({"kind": "paired", "better": "nope", "than": "rand", "metric": "final-best"}, "assertions[0].better"),
        ({"kind": "paired", "better": "rand", "than": "ucb-kappa-1", "metric": "speed"}, "assertions[0].metric"),
        ({"kind": "paired", "better": "rand", "than": "ucb-kappa-1", "metric": "final-best", "test": "t"}, "assertions[0].test"),
        ({"kind": "threshold", "variant": "rand", "metric": "final-best", "max": 1}, "assertions[0]"),
        ({"kind": "threshold", "variant": "rand", "metric": "final-best", "aggregate": "mode", "max": 1}, "assertions[0].aggregate"),
        ({"kind": "threshold", "variant": "rand", "metric": "final-best", "aggregate": "mean"}, "assertions[0].max"),
        ({"kind": "target", "variant": "rand"}, "assertions[0].seeds"),
        ({"kind": "target", "variant": "rand", "seeds": {"atLeast": 5}}, "assertions[0].seeds.atLeast"),
        ({"kind": "target", "variant": "rand", "seeds": {"atLeast": "150%"}}, "assertions[0].seeds.atLeast"),
        ({"kind": "invariant", "check": "no-dupes"}, "assertions[0].check"),
        ({"kind": "invariant", "check": "no-duplicates", "variants": ["ghost"]}, "assertions[0].variants[0]"),
        ({"kind": "vibes"}, "assertions[0].kind"),
        ({"kind": "baseline", "variant": "rand", "metric": "final-best", "aggregate": "median"}, "assertions[0].file"),
    ],
)
def test_bad_assertions_are_rejected_with_their_path(assertion, path):
    with pytest.raises(SpecError) as err:
        scenario_from_dict(doc(assertions=[assertion]))
    assert path in paths(err.value), paths(err.value)


def test_metric_needing_a_target_without_one_is_an_error():
    d = doc(assertions=[{"kind": "paired", "better": "rand", "than": "ucb-kappa-1", "metric": "trials-to-target"}])
    del d["target"]
    with pytest.raises(SpecError) as err:
        scenario_from_dict(d)
    assert "assertions[0].metric" in paths(err.value)


def test_every_problem_is_reported_at_once():
    with pytest.raises(SpecError) as err:
        scenario_from_dict(doc(seeds={"count": -1}, variants=[{"name": "a", "overrides": {"maxTrialCount": "x"}}]))
    assert {"seeds.count", "variants[0].overrides.maxTrialCount"} <= set(paths(err.value))


def test_baseline_file_must_hold_the_variant_and_metric(tmp_path):
    base = tmp_path / "base.json"
    base.write_text(json.dumps({"seeds": [1], "metrics": {"rand": {"final-best": [1.0]}}}))
    ok = {"kind": "baseline", "file": str(base), "variant": "rand", "metric": "final-best", "aggregate": "median"}
    scenario_from_dict(doc(assertions=[ok]))
    with pytest.raises(SpecError) as err:
        scenario_from_dict(doc(assertions=[{**ok, "metric": "auc"}]))
    assert "assertions[0].metric" in paths(err.value)


def test_file_with_experiment_path_and_two_documents(tmp_path):
    import yaml

    (tmp_path / "exp.yaml").write_text(yaml.safe_dump(EXPERIMENT))
    text = textwrap.dedent(
        """
        name: one
        experiment: exp.yaml
        objective: seed-1d
        variants: [{name: r, algorithm: random}]
        ---
        name: two
        experiment: exp.yaml
        objective: {name: seed-1d, mapping: {x: x}}
        variants: [{name: r}]
        """
    )
    (tmp_path / "s.yaml").write_text(text)
    one, two = load_scenarios(tmp_path / "s.yaml")
    assert one.experiment_file == str((tmp_path / "exp.yaml").resolve())
    assert two.objective.mapping == {"x": "x"}
    assert two.experiment_for(two.variants[0])["spec"]["algorithm"]["algorithmName"] == "random"


def test_unreadable_and_unparsable_files_are_input_errors(tmp_path):
    with pytest.raises(InputError):
        load_scenarios(tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("name: [unclosed")
    with pytest.raises(InputError):
        load_scenarios(tmp_path / "bad.yaml")


def test_missing_experiment_file_is_reported_at_experiment(tmp_path):
    (tmp_path / "s.yaml").write_text("name: s\nexperiment: nope.yaml\nobjective: seed-1d\nvariants: [{name: r}]\n")
    with pytest.raises(SpecError) as err:
        load_scenarios(tmp_path / "s.yaml")
    assert paths(err.value) == ["experiment"]


def test_with_seed_count_rejects_integer_thresholds_it_cannot_meet():
    d = doc(assertions=[{"kind": "target", "variant": "rand", "seeds": {"atLeast": 3}}])
    sc = scenario_from_dict(d)
    assert sc.with_seed_count(3).seeds.count == 3
    with pytest.raises(SpecError) as err:
        sc.with_seed_count(2)
    assert paths(err.value) == ["assertions[0].seeds.atLeast"]


def test_inherited_random_state_is_dropped_but_a_variant_may_pin_it():
    exp = {**EXPERIMENT, "spec": {**EXPERIMENT["spec"], "algorithm": {"algorithmName": "random", "algorithmSettings": [{"name": "random_state", "value": "42"}]}}}
    sc = scenario_from_dict(doc(experiment=exp, variants=[{"name": "r"}, {"name": "pinned", "settings": {"random_state": 7}}]))
    assert "algorithmSettings" not in sc.experiment_for(sc.variant("r"))["spec"]["algorithm"]
    assert sc.experiment_for(sc.variant("pinned"))["spec"]["algorithm"]["algorithmSettings"] == [{"name": "random_state", "value": "7"}]


def test_inline_experiment_without_template_gets_a_placeholder():
    bare = {"objective": {"type": "minimize", "objectiveMetricName": "y"}, "parameters": [{"name": "--lr", "parameterType": "double", "feasibleSpace": {"min": "0.1", "max": "1"}}]}
    sc = scenario_from_dict(doc(experiment=bare))
    tt = sc.experiment["spec"]["trialTemplate"]
    assert tt["trialParameters"] == [{"name": "p0", "reference": "--lr"}]
    assert sc.experiment["apiVersion"] == "kubeflow.org/v1beta1" and sc.experiment["metadata"]["name"] == "t"


def test_parameter_overrides_change_the_feasible_space():
    d = doc(variants=[{"name": "g", "algorithm": "grid", "overrides": {"parameters": {"x": {"step": 0.5, "max": 4}}}}])
    sc = scenario_from_dict(d)
    fs = sc.experiment_for(sc.variant("g"))["spec"]["parameters"][0]["feasibleSpace"]
    assert fs == {"min": "-2", "max": "4", "step": "0.5"}
    with pytest.raises(SpecError) as err:
        scenario_from_dict(doc(variants=[{"name": "g", "overrides": {"parameters": {"x": {"stepp": 1}}}}]))
    assert "variants[0].overrides.parameters.x.stepp" in paths(err.value)
    with pytest.raises(SpecError) as err:
        scenario_from_dict(doc(budget={"parameters": {"x": {"step": 1}}}))
    assert "budget.parameters" in paths(err.value)
