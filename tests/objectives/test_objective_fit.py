"""An objective that does not fit the experiment stops simulate, run --backend sim and compare
(exit 2, both sides named) unless declared intended; a reported metric is really collected; a goal
only noise can reach is flagged (docs/objectives.md#when-the-objective-does-not-fit)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from katibsim import plugins
from katibsim.cli import main
from katibsim.engine.mismatch import goal_beyond_optimum
from katibsim.engine.run import simulate
from katibsim.errors import ContractError, InputError
from katibsim.objective import Evaluation, Objective, ObjectiveInput, ReportedMetric
from katibsim.objective_view import MetricView, for_metric
from katibsim.spec.loader import experiment_from_dict

ROOT = Path(__file__).resolve().parents[2]


def _spec(type_: str = "maximize", metric: str = "accuracy_1", goal: float | None = None,
          lr=("0.01", "0.05"), bs=("100", "200"), trials: int = 4) -> dict:
    objective = {"type": type_, "objectiveMetricName": metric}
    if goal is not None:
        objective["goal"] = goal
    return {
        "objective": objective,
        "algorithm": {"algorithmName": "random"},
        "maxTrialCount": trials,
        "parallelTrialCount": 2,
        "parameters": [
            {"name": "--learning_rate", "parameterType": "double", "feasibleSpace": {"min": lr[0], "max": lr[1]}},
            {"name": "--batch_size", "parameterType": "int", "feasibleSpace": {"min": bs[0], "max": bs[1]}},
        ],
    }


def _doc(**kw) -> dict:
    doc = {"apiVersion": "kubeflow.org/v1beta1", "kind": "Experiment", "metadata": {"name": "fit"}, "spec": _spec(**kw)}
    doc["spec"]["trialTemplate"] = {
        "primaryContainerName": "training",
        "trialParameters": [{"name": "lr", "reference": "--learning_rate"}, {"name": "bs", "reference": "--batch_size"}],
        "trialSpec": {"apiVersion": "batch/v1", "kind": "Job", "spec": {"template": {"spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "training", "image": "x",
                            "command": ["t", "--learning_rate=${trialParameters.lr}", "--batch_size=${trialParameters.bs}"]}],
        }}}},
    }
    return doc


def _experiment_file(tmp_path: Path, **kw) -> Path:
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(_doc(**kw)), encoding="utf-8")
    return path


def _scenario(tmp_path: Path, objective, **kw) -> Path:
    doc = {"name": "fit", "experiment": _spec(**kw), "objective": objective, "seeds": {"count": 2},
           "variants": [{"name": "random", "algorithm": "random"}],
           "assertions": [{"kind": "invariant", "check": "succeeded"}]}
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


# -- simulate / run --backend sim --------------------------------------------------------------------------
def test_simulate_refuses_the_opposite_direction_naming_both(tmp_path, capsys):
    exp = _experiment_file(tmp_path, type_="minimize")
    assert main(["simulate", str(exp), "--objective", "mnist-tfjob"]) == 2
    err = capsys.readouterr().err
    assert "spec.objective.type" in err
    assert "the experiment minimizes accuracy_1" in err and "which is maximized" in err
    assert "set spec.objective.type: maximize" in err and "--allow-objective-mismatch" in err


def test_run_backend_sim_refuses_it_too(tmp_path, capsys):
    exp = _experiment_file(tmp_path, type_="minimize")
    assert main(["run", "--backend", "sim", str(exp), "--objective", "mnist-tfjob"]) == 2
    assert "which is maximized" in capsys.readouterr().err


def test_declared_intended_it_runs_with_the_note(tmp_path, capsys):
    exp = _experiment_file(tmp_path, type_="minimize")
    assert main(["simulate", str(exp), "--objective", "mnist-tfjob", "--allow-objective-mismatch", "-o", "json"]) == 0
    assert "objective-direction" in capsys.readouterr().out
    # Only the kinds given are intended.
    assert main(["simulate", str(exp), "--objective", "mnist-tfjob", "--allow-objective-mismatch=metric,range"]) == 2
    assert main(["simulate", str(exp), "--objective", "mnist-tfjob", "--allow-objective-mismatch=sideways"]) == 2
    assert "direction, metric, range" in capsys.readouterr().err


def test_a_metric_a_real_job_does_not_report_is_refused(tmp_path, capsys):
    exp = _experiment_file(tmp_path, metric="Validation-accuracy")
    assert main(["simulate", str(exp), "--objective", "mnist-tfjob"]) == 2
    err = capsys.readouterr().err
    assert "spec.objective.objectiveMetricName" in err and "reports accuracy_1 (and loss)" in err


def test_a_test_function_stands_for_any_metric(tmp_path, capsys):
    # Katib's own examples minimise `loss`; simulated with a test function they run as before.
    assert main(["simulate", str(ROOT / "examples/katib/random.yaml"), "--objective", "branin", "-o", "json"]) == 0
    assert "objective-metric-name" in capsys.readouterr().out


def test_a_range_beyond_a_real_jobs_inputs_is_refused_at_the_parameter(capsys):
    # Katib's random.yaml by order onto mnist-tfjob: momentum 0.5..0.9 as a batch size of 32..256.
    path = str(ROOT / "examples/katib/random.yaml")
    assert main(["simulate", path, "--objective", "mnist-tfjob"]) == 2
    err = capsys.readouterr().err
    assert "spec.parameters[1].feasibleSpace: parameter momentum spans [0.5, 0.9]" in err
    assert main(["simulate", path, "--objective", "mnist-tfjob", "--allow-objective-mismatch=range"]) == 0


def test_a_range_partly_outside_names_the_bound_at_fault(tmp_path, capsys):
    exp = _experiment_file(tmp_path, lr=("0.01", "0.9"))
    assert main(["simulate", str(exp), "--objective", "mnist-tfjob"]) == 2
    assert "spec.parameters[0].feasibleSpace.max: parameter --learning_rate spans" in capsys.readouterr().err
    exp = _experiment_file(tmp_path, bs=("8", "64"))
    assert main(["simulate", str(exp), "--objective", "mnist-tfjob"]) == 2
    assert "spec.parameters[1].feasibleSpace.min: parameter --batch_size spans [8, 64]" in capsys.readouterr().err


def test_a_goal_only_noise_reaches_is_a_warning_before_the_run(tmp_path, capsys):
    exp = _experiment_file(tmp_path, goal=0.99)
    assert main(["simulate", str(exp), "--objective", "mnist-tfjob", "-o", "table"]) == 0
    err = capsys.readouterr().err
    assert "spec.objective.goal: goal 0.99 is above the noise-free optimum 0.979556" in err
    exp = _experiment_file(tmp_path, goal=0.95)
    assert main(["simulate", str(exp), "--objective", "mnist-tfjob", "-o", "table"]) == 0
    assert "noise-free optimum" not in capsys.readouterr().err


# -- a reported metric is what gets collected --------------------------------------------------------------
def test_minimising_mnist_tfjobs_loss_collects_the_loss_curve():
    exp = experiment_from_dict(_doc(type_="minimize", metric="loss", trials=6))
    base = plugins.get_objective("mnist-tfjob")
    result = simulate(exp, "mnist-tfjob", seed=3)
    assert not [n for n in result.notes if n.code.startswith("objective-")]
    rng = np.random.default_rng(0)
    for t in result.trials:
        x = {k: float(v) for k, v in t.assignment}
        assert len(t.curve) == base.epochs  # one report per epoch, not one final value
        losses = [v for _, v in t.curve]
        # The loss falls over training (accuracy would rise) and lies near the table's mean loss.
        assert losses[-1] < losses[0]
        assert abs(losses[-1] - base.noise_free_metric("loss", x)) < 0.2
        assert abs(t.value - base.noise_free(x)) > 0.5  # not an accuracy near 0.97
    view = for_metric(base, "loss")
    assert view.direction == "minimize" and view.optimum == pytest.approx(base.reports[0].optimum)
    x = {"--learning_rate": 0.02, "--batch_size": 150}
    ev = view.evaluate(x, rng)
    assert ev.metrics["accuracy_1"] > 0.9 and ev.curves["accuracy_1"][-1][1] == ev.metrics["accuracy_1"]


def test_the_view_needs_the_metric_it_was_promised():
    class Promises(Objective):
        name = "promises"
        metric_name = "a"
        inputs = (ObjectiveInput("x", 0.0, 1.0),)
        reports = (ReportedMetric("b", "maximize"),)

        def evaluate(self, x, rng):
            return Evaluation(value=1.0)

    view = for_metric(Promises(), "b")
    assert isinstance(view, MetricView) and view.direction == "maximize"
    assert for_metric(view, "a").metric_name == "a" and not isinstance(for_metric(view, "a"), MetricView)
    with pytest.raises(ContractError, match="declares that it reports b"):
        view.evaluate({"x": 0.5}, np.random.default_rng(0))


class _Bare(Objective):
    """An objective with only a direction and an optimum (what the goal check reads)."""

    name = "f"
    metric_name = "f"

    def evaluate(self, x, rng):
        return Evaluation(value=0.0)


@given(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6), st.booleans(), st.booleans())
def test_only_a_goal_beyond_the_optimum_in_the_experiments_direction_is_flagged(goal, optimum, maximize, same):
    obj = _Bare()
    obj.optimum = optimum
    obj.direction = ("maximize" if maximize else "minimize") if same else ("minimize" if maximize else "maximize")
    flagged = goal_beyond_optimum(goal, maximize, obj) is not None
    assert flagged == (same and (goal > optimum if maximize else goal < optimum))


@pytest.mark.parametrize("maximize, direction, goal, optimum, flagged", [
    (True, "maximize", 0.99, 0.98, True),     # the case: above the best accuracy there is
    (True, "maximize", 0.97, 0.98, False),    # reachable without noise
    (True, "maximize", 0.98, 0.98, False),    # the optimum itself is reachable
    (False, "minimize", 0.3, 0.4, True),      # below the least loss there is
    (False, "minimize", 0.5, 0.4, False),
    (True, "minimize", 0.99, 0.4, False),     # opposite directions: a mismatch, not a goal remark
])
def test_concrete_goals_beyond_the_optimum(maximize, direction, goal, optimum, flagged):
    obj = _Bare()
    obj.optimum, obj.direction = optimum, direction
    why = goal_beyond_optimum(goal, maximize, obj)
    assert (why is not None) is flagged
    if flagged:
        assert f"{goal:g}" in why and "only noise can reach it" in why

# -- compare -----------------------------------------------------------------------------------------------
def test_compare_refuses_a_direction_mismatched_scenario(tmp_path, capsys):
    sc = _scenario(tmp_path, "mnist-tfjob", type_="minimize")
    assert main(["compare", str(sc), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "experiment.spec.objective.type: the experiment minimizes accuracy_1" in err
    assert "which is maximized" in err and "objective.mismatch: intended (or [direction])" in err
    assert not (tmp_path / "out" / "fit").exists()


def test_compare_reports_the_mismatch_at_the_variants_override(tmp_path, capsys):
    doc = yaml.safe_load(_scenario(tmp_path, "mnist-tfjob").read_text())
    doc["variants"].append({"name": "wide", "algorithm": "random",
                            "overrides": {"parameters": {"--batch_size": {"max": "1024"}}}})
    (tmp_path / "scenario.yaml").write_text(yaml.safe_dump(doc))
    assert main(["compare", str(tmp_path / "scenario.yaml"), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "variants[1].overrides.parameters.--batch_size.max: variant wide: parameter --batch_size spans" in err


def test_a_bad_mismatch_field_is_an_error_at_its_path(tmp_path, capsys):
    sc = _scenario(tmp_path, {"name": "mnist-tfjob", "mismatch": ["diretcion"]})
    assert main(["compare", str(sc), "--out", str(tmp_path / "out")]) == 2
    assert "objective.mismatch" in capsys.readouterr().err


def test_compare_flags_a_goal_only_noise_reaches_and_the_report_says_it_first(tmp_path, capsys):
    # The reproduction: goal 0.99 against mnist-tfjob's noise-free optimum 0.9796; and the
    # direction mismatch declared intended, so the comparison runs.
    sc = _scenario(tmp_path, {"name": "mnist-tfjob", "mismatch": "intended"}, goal=0.99)
    out = tmp_path / "out"
    assert main(["compare", str(sc), "--out", str(out), "--no-png", "--jobs", "1"]) == 0
    err = capsys.readouterr().err
    assert "warning: experiment.spec.objective.goal: goal 0.99 is above the noise-free optimum 0.979556" in err
    report = (out / "fit" / "report.md").read_text()
    head = report[: report.index("objective mnist-tfjob (")]  # the banner comes before the facts
    assert "does not fit this comparison" in head and "goal 0.99 is above the noise-free optimum" in head


def test_an_intended_mismatch_is_named_in_the_report(tmp_path, capsys):
    sc = _scenario(tmp_path, {"name": "mnist-tfjob", "mismatch": ["direction"]}, type_="minimize")
    out = tmp_path / "out"
    assert main(["compare", str(sc), "--out", str(out), "--no-png", "--jobs", "1"]) == 0
    report = (out / "fit" / "report.md").read_text()
    assert "declared intended (objective.mismatch: direction)" in report
    run = json.loads((out / "fit" / "runs" / "random" / "seed-000.json").read_text())
    assert [n["code"] for n in run["result"]["notes"]] == ["objective-direction"]


def test_the_shipped_seed_scenario_is_flagged_for_its_goal():
    from katibsim.scenario import load_scenarios, objective_remarks, problems

    sc = load_scenarios(ROOT / "scenarios/seed-tfjob-bayesian.yaml")[0]
    found = problems(sc)
    assert [fe.severity for fe in found] == ["warning"]
    assert "goal 0.99 is above the noise-free optimum" in found[0].message
    assert any("goal 0.99" in r for r in objective_remarks(sc))


def test_library_callers_get_the_error_too():
    exp = experiment_from_dict(_doc(type_="minimize"))
    with pytest.raises(InputError, match="which is maximized"):
        simulate(exp, "mnist-tfjob", seed=0)


def test_compare_on_mnist_tfjobs_loss_measures_regret_against_the_loss(tmp_path):
    sc = _scenario(tmp_path, "mnist-tfjob", type_="minimize", metric="loss")
    out = tmp_path / "out"
    assert main(["compare", str(sc), "--out", str(out), "--no-png", "--jobs", "1"]) == 0
    run = json.loads((out / "fit" / "runs" / "random" / "seed-000.json").read_text())
    base = plugins.get_objective("mnist-tfjob")
    assert run["objective"] == {"name": "mnist-tfjob", "direction": "minimize", "optimum": base.reports[0].optimum}
    for t, clean in zip(run["result"]["trials"], run["noise_free"]):
        x = {a["name"]: float(a["value"]) for a in t["assignment"]}
        assert clean == pytest.approx(base.noise_free_metric("loss", x))
    assert "final best loss" in (out / "fit" / "report.md").read_text()


def test_a_direction_mismatch_on_a_real_job_names_the_metric_that_goes_the_experiments_way(tmp_path):
    """mnist-tfjob reports accuracy_1 (maximised) and loss (minimised): minimising accuracy_1 is
    fixed by collecting loss, and no test function is offered in its place."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    text = (root / "examples" / "tfjob-bayesian.yaml").read_text().replace("type: maximize", "type: minimize")
    exp = tmp_path / "min-accuracy.yaml"
    exp.write_text(text)
    proc = subprocess.run([sys.executable, "-m", "katibsim.cli", "simulate", str(exp), "--objective", "mnist-tfjob"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "set spec.objective.objectiveMetricName: loss (mnist-tfjob also reports loss, which is minimized)" in proc.stderr
    assert "branin" not in proc.stderr and "ackley" not in proc.stderr


def test_a_mismatch_only_one_variant_has_is_named_in_the_banner_with_the_variant():
    """A variant's override takes --batch_size beyond mnist-tfjob's table; the scenario declares
    range mismatches intended (as one kind, the CLI's form): the banner names that variant only."""
    from katibsim.scenario import objective_remarks, scenario_from_dict

    doc = {"name": "fit", "experiment": _spec(), "objective": {"name": "mnist-tfjob", "mismatch": "range"},
           "variants": [{"name": "random", "algorithm": "random"},
                        {"name": "wide", "algorithm": "random",
                         "overrides": {"parameters": {"--batch_size": {"max": "1024"}}}}]}
    sc = scenario_from_dict(doc)
    assert sc.objective.mismatch == ("range",)
    remarks = objective_remarks(sc)
    assert len(remarks) == 1
    assert remarks[0].startswith("variant wide: declared intended (objective.mismatch: range): parameter --batch_size")
