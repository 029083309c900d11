"""Every Experiment in examples/ loads, passes Katib's validation and renders a trial, and the set
of examples covers what issue 2 asks for (parameter types, distributions, collectors, algorithms,
early stopping, trial kinds, metadata references)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from katibsim.spec.loader import load_experiment
from katibsim.spec.templates import primary_container, render_trial
from katibsim.spec.validation import validate

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
FILES = sorted(EXAMPLES.glob("*.yaml"))


@pytest.fixture(scope="module")
def experiments():
    return {f.name: load_experiment(f) for f in FILES}


def test_there_are_enough_examples():
    names = {f.name for f in FILES}
    assert {"tfjob-bayesian.yaml", "tfjob-bayesian-v1beta1.yaml", "tfjob-random.yaml"} <= names
    assert len(names) >= 13


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_example_is_valid_and_renders(path):
    exp = load_experiment(path)
    assert exp.namespace == "kubeflow"
    problems = validate(exp)
    assert [p.render() for p in problems] == []
    space = exp.search_space()
    for seed in range(3):
        assignment = space.format(space.sample(np.random.default_rng(seed)))
        trial = f"{exp.name}-{seed:08d}"
        manifest = render_trial(exp, trial, assignment)
        assert manifest["metadata"]["name"] == trial
        assert manifest["metadata"]["namespace"] == exp.namespace
        container = primary_container(manifest, exp)
        text = " ".join(container.get("command", []) + container.get("args", []))
        # Every assigned value reaches the primary container's command line.
        for value in assignment.values():
            assert value in text
        assert "${trialParameters." not in str(manifest)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_example_says_what_it_demonstrates(path):
    head = path.read_text().splitlines()[0]
    assert head.startswith("#") or path.name == "tfjob-bayesian.yaml"  # the seed is copied as is


def test_readme_lists_every_example():
    readme = (EXAMPLES / "README.md").read_text()
    for f in FILES:
        assert f"`{f.name}`" in readme, f.name


def test_coverage_of_the_examples(experiments):
    params = [p for e in experiments.values() for p in e.spec.parameters]
    assert {p.parameter_type for p in params} >= {"double", "int", "discrete", "categorical"}
    assert {p.feasible_space.distribution for p in params} >= {"uniform", "logUniform", "normal", "logNormal"}
    collectors = set()
    for e in experiments.values():
        mc = e.spec.metrics_collector_spec
        collectors.add((mc.kind, mc.file_system_path.format if mc.file_system_path else None))
    kinds = {k for k, _ in collectors}
    assert kinds >= {"StdOut", "File", "TensorFlowEvent", "Custom", "Push"}
    assert "PrometheusMetric" not in kinds  # refused by stock Katib installs (§2.2 item 16)
    assert {fmt for k, fmt in collectors if k == "File"} >= {"TEXT", "JSON"}
    algorithms = {e.spec.algorithm.algorithm_name for e in experiments.values()}
    assert algorithms >= {"random", "grid", "bayesianoptimization"}
    stopping = [e.spec.early_stopping for e in experiments.values() if e.spec.early_stopping]
    assert any(s.algorithm_name == "medianstop" and set(s.settings()) == {"min_trials_required", "start_step"} for s in stopping)
    assert any("metricStrategies:" in f.read_text() for f in FILES)
    assert any(ms.value == "latest" for e in experiments.values() for ms in e.spec.objective.metric_strategies)
    trial_kinds = set()
    for e in experiments.values():
        tt = e.spec.trial_template
        if tt.trial_spec is not None:
            trial_kinds.add(tt.trial_spec["kind"])
        else:
            trial_kinds.add(re.search(r"^\s*kind:\s*(\w+)", tt.go_template, re.M).group(1))
    assert trial_kinds >= {"Job", "TFJob", "PyTorchJob"}
    references = {tp.reference for e in experiments.values() for tp in (e.spec.trial_template.trial_parameters or ())}
    for key in ("Name", "Namespace", "Kind", "APIVersion", "Labels[", "Annotations["):
        assert any(r.startswith("${trialSpec." + key) for r in references), key


def test_grid_examples_stay_within_their_combinations(experiments):
    grids = [e for e in experiments.values() if e.spec.algorithm.algorithm_name == "grid"]
    assert grids
    for e in grids:
        assert any(p.parameter_type == "double" and p.feasible_space.step for p in e.spec.parameters)
        assert e.spec.max_trial_count <= e.search_space().grid_size()


def test_bayesian_examples_keep_doubles_positive(experiments):
    """Katib's skopt service maps every double to a log-uniform Real, so min must be > 0 (§5.5)."""
    for e in experiments.values():
        if e.spec.algorithm.algorithm_name == "bayesianoptimization":
            for p in e.search_space():
                if p.type == "double":
                    assert p.min > 0, (e.name, p.name)


def test_algorithm_settings_are_accepted_by_the_plugins_that_exist(experiments):
    from katibsim import plugins
    from katibsim.algorithm import ObjectiveInfo

    available = plugins.algorithms()
    for e in experiments.values():
        cls = available.get(e.spec.algorithm.algorithm_name)
        assert cls is not None, f"{e.name}: no plugin provides algorithm {e.spec.algorithm.algorithm_name}"
        obj = e.spec.objective
        cls(
            e.search_space(),
            ObjectiveInfo(obj.objective_metric_name, obj.type == "maximize", obj.goal, tuple(obj.additional_metric_names)),
            e.spec.algorithm.settings(),
            seed=0,
            max_trial_count=e.spec.max_trial_count,
            parallel_trial_count=e.spec.parallel_trial_count,
        )


def test_seed_and_its_v1beta1_twin_render_the_same_command(experiments):
    assignment = {"--learning_rate": "0.011057901678989632", "--batch_size": "159"}
    seed = experiments["tfjob-bayesian.yaml"]
    twin = experiments["tfjob-bayesian-v1beta1.yaml"]
    a = primary_container(render_trial(seed, "tfjob-bayesian-jtj6kc7w", assignment), seed)
    b = primary_container(render_trial(twin, "tfjob-bayesian-jtj6kc7w", assignment), twin)
    assert a["command"] == b["command"] == [
        "python",
        "/var/tf_mnist/mnist_with_summaries.py",
        "--log_dir=/train/metrics",
        "--learning_rate=0.011057901678989632",
        "--batch_size=159",
    ]
