"""The ``from-trials`` objective: built from a model file through the plugin host, its evaluations, its option errors."""

from __future__ import annotations

import numpy as np
import pytest

from katibsim import plugins
from katibsim.errors import SpecError
from katibsim_plugins.from_trials.surrogate import fit_table, write_model
from trial_table_helpers import categorical_table, smooth_table


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("m") / "smooth.json"
    write_model(fit_table(smooth_table(), "gp"), path)
    return str(path)


def test_registered_and_shaped_by_the_data(model_file):
    assert "from-trials" in plugins.objectives()
    obj = plugins.get_objective("from-trials", file=model_file)
    assert (obj.metric_name, obj.direction) == ("accuracy", "maximize")
    lr, batch = obj.inputs
    assert (lr.name, lr.log, lr.type, batch.type) == ("lr", True, "double", "int")
    assert lr.low == obj.surrogate.encoding.columns[0].low
    assert obj.optimum <= obj.surrogate.y.max() and 1e-3 < obj.optimum_at[0]["lr"] < 0.1


def test_evaluate_noise_curve_duration(model_file):
    obj = plugins.get_objective("from-trials", file=model_file)
    x = {"lr": "0.01", "batch": "32"}  # Katib strings work
    a = obj.evaluate(x, np.random.default_rng(3))
    b = obj.evaluate(x, np.random.default_rng(3))
    assert a == b
    assert [s for s, _ in a.curve] == [1, 2, 3, 4, 5] and a.curve[-1][1] == a.value
    assert max(v for _, v in a.curve) <= obj.surrogate.value_range[1]
    assert 5 < a.duration < 40 and not a.extrapolated
    quiet = plugins.get_objective("from-trials", file=model_file, noise_scale=0, time_scale=10)
    values = {quiet.evaluate(x, np.random.default_rng(s)).value for s in range(3)}
    assert len(values) == 1  # no noise: the predicted mean (reached by the curve's best point)
    assert max(v for _, v in quiet.evaluate(x, np.random.default_rng(0)).curve) == pytest.approx(quiet.noise_free(x))
    assert quiet.evaluate(x, np.random.default_rng(0)).duration == pytest.approx(10 * quiet.surrogate.duration.median(
        quiet.surrogate.encoding.encode([{"lr": 0.01, "batch": 32.0}])[0]))
    assert obj.evaluate({"lr": 5.0, "batch": 32}, np.random.default_rng(0)).extrapolated


def test_categorical_inputs(tmp_path):
    path = tmp_path / "c.json"
    write_model(fit_table(categorical_table(), "forest"), path)
    obj = plugins.get_objective("from-trials", file=str(path))
    assert obj.inputs[1].type == "categorical" and obj.inputs[1].values == ("sgd", "adam")
    ev = obj.evaluate({"x": 0.5, "opt": "sgd"}, np.random.default_rng(0))
    assert ev.curve == ((1, ev.value),) and ev.duration == 60.0  # no curves, no times in the data
    assert obj.evaluate({"x": 0.5, "opt": "rmsprop"}, np.random.default_rng(0)).extrapolated
    assert obj.direction == "minimize" and obj.optimum_at[0]["opt"] == "adam"


@pytest.mark.parametrize("options, match", [
    ({}, "objective.options.file.*required"),
    ({"file": "nope.json", "colour": "red"}, "unknown option colour"),
    ({"file": "x", "model": "svm"}, "objective.options.model.*must be one of gp, forest"),
    ({"file": "x", "noise_scale": "-1"}, "objective.options.noise_scale.*must be >= 0"),
    ({"file": "missing/trials.yaml"}, "objective.options.file.*missing/trials.yaml: cannot read"),
])
def test_option_errors_name_the_option(options, match):
    with pytest.raises(SpecError, match=match):
        plugins.get_objective("from-trials", **options)


def test_model_file_refuses_fit_options_and_a_contradicting_direction(model_file):
    with pytest.raises(SpecError, match="experiment= and metric= apply only to a trials file"):
        plugins.get_objective("from-trials", file=model_file, metric="loss")
    with pytest.raises(SpecError, match="holds a gp model, not forest"):
        plugins.get_objective("from-trials", file=model_file, model="forest")
    with pytest.raises(SpecError, match="the data says accuracy is maximized"):
        plugins.get_objective("from-trials", file=model_file, direction="minimize")


def test_not_generic_reports_other_metrics_with_the_direction_the_data_shows(tmp_path):
    path = tmp_path / "m.json"
    write_model(fit_table(smooth_table(loss=True, declared=True, lr_span=(-3, -1)), "forest"), path)
    obj = plugins.get_objective("from-trials", file=str(path))
    assert obj.generic is False
    assert [(r.name, r.direction) for r in obj.reports] == [("loss", "minimize")]  # falls as accuracy rises
    lr, batch = obj.inputs
    assert (lr.low, lr.high, batch.low, batch.high) == (1e-4, 1.0, 8, 256)  # the declared space
    assert obj.surrogate.encoding.columns[0].high < 0.11  # the covered region stays the trials'
    x = {"lr": 0.01, "batch": 32}
    ev = obj.evaluate(x, np.random.default_rng(0))
    assert set(ev.metrics) == {"loss"} and ev.metrics["loss"] == pytest.approx(1 - ev.value, abs=0.1)
    assert obj.noise_free_metric("loss", x) == pytest.approx(1 - obj.noise_free(x), abs=0.05)
    assert obj.evaluate({"lr": 0.5, "batch": 32}, np.random.default_rng(0)).extrapolated
