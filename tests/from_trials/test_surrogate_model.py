"""The surrogate fitted to a table: region, skipped trials, noise, curve and duration models, the model file."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from katibsim.errors import InputError
from katibsim.workload.table import ObservedTrial
from katibsim_plugins.from_trials.neighbours import CurveModel, strategy_value
from katibsim_plugins.from_trials.quality import cross_validate, fold_of
from katibsim_plugins.from_trials.surrogate import fit_table, load_model, write_model
from trial_table_helpers import categorical_table, smooth_mean, smooth_table


@pytest.fixture(scope="module")
def gp():
    return fit_table(smooth_table(), "gp")


POINTS = [{"lr": 0.01, "batch": 32.0}, {"lr": 0.0005, "batch": 200.0}, {"lr": 0.3, "batch": 100.0}]


def test_region_is_what_the_trials_cover_on_the_spaces_scale(gp):
    lr, batch = gp.encoding.columns
    table = smooth_table()
    seen = [float(t.parameters["lr"]) for t in table.trials]
    assert (lr.low, lr.high, lr.log) == (min(seen), max(seen), True)
    assert batch.kind == "int" and not batch.log
    assert batch.low == min(int(t.parameters["batch"]) for t in table.trials)


@pytest.mark.parametrize("kind", ["gp", "forest"])
def test_model_file_round_trip_predicts_the_same(tmp_path, kind):
    s = fit_table(smooth_table(), kind)
    path = tmp_path / "m.json"
    write_model(s, path)
    doc = json.loads(path.read_text())
    assert (doc["format"], doc["schema"], doc["model"]["kind"]) == ("katibsim-surrogate", 1, kind)
    loaded = load_model(path)
    for a, b in zip(s.predict(POINTS), loaded.predict(POINTS)):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    assert loaded.curve.steps == s.curve.steps and loaded.duration.spread == s.duration.spread


def test_gp_finds_the_function_and_its_noise(gp):
    mean, std = gp.predict(POINTS[:2])
    truth = [smooth_mean(p["lr"], p["batch"]) for p in POINTS[:2]]
    assert np.all(np.abs(mean - truth) < 0.03)
    assert 0.004 < gp.noise_sd < 0.03  # the table's noise is 0.01 (plus the curve's max)
    value, at = gp.best("maximize")
    assert 1e-3 < at["lr"] < 0.1 and value <= gp.y.max()


def test_cross_validation_measures_quality():
    s = fit_table(smooth_table(n=30), "gp")
    q = cross_validate(s.X, s.y, "gp", folds=5)
    assert q.folds == 5 and q.trials == 30
    assert q.spearman > 0.9 and q.rmse < 0.05 and q.coverage95 >= 0.8
    shuffled = cross_validate(s.X, np.random.default_rng(0).permutation(s.y), "forest", folds=5)
    assert shuffled.spearman < 0.5  # no structure, no rank correlation


def test_folds_are_fixed_and_balanced():
    a = fold_of(23)
    assert np.array_equal(a, fold_of(23)) and sorted(np.bincount(a)) == [2, 2, 2, 2, 2, 2, 2, 3, 3, 3]
    assert len(set(fold_of(6))) == 6  # leave-one-out below 10 trials


def test_unusable_trials_are_skipped_with_the_reason():
    extra = (ObservedTrial("failed", {"lr": "0.1", "batch": "9"}, "Failed"),
             ObservedTrial("running", {"lr": "0.1", "batch": "9"}, "Running"),
             ObservedTrial("novalue", {"lr": "0.1", "batch": "9"}, "Succeeded", None),
             ObservedTrial("bad", {"lr": "fast", "batch": "9"}, "Succeeded", 0.5),
             ObservedTrial("missing", {"lr": "0.1"}, "Succeeded", 0.5))
    s = fit_table(smooth_table(n=10, extra=extra), "forest")
    assert s.used == 10
    assert dict(s.skipped) == {"failed": "status Failed", "running": "status Running", "novalue": "no objective value",
                               "bad": "parameter lr: 'fast' is not a number", "missing": "no value for parameter batch"}


def test_too_few_trials_is_an_input_error_saying_why():
    extra = (ObservedTrial("f", {"lr": "0.1", "batch": "9"}, "Failed"),)
    with pytest.raises(InputError, match=r"smooth.csv: 3 usable trial\(s\) of 4 \(1 status Failed\).*at least 4"):
        fit_table(smooth_table(n=3, extra=extra))


def test_extrapolation_box_category_and_holes():
    s = fit_table(categorical_table(), "gp")
    inside = {"x": 0.5, "opt": "adam"}
    assert not s.extrapolated(inside)
    assert s.extrapolated({"x": 0.95, "opt": "adam"})  # beyond the largest x tried
    assert s.extrapolated({"x": 0.5, "opt": "rmsprop"})  # never tried
    assert s.encoding.outside({"x": 0.05, "opt": "rmsprop"}) == ["x", "opt"]
    # categorical: the category's own offset is learned
    mean, _ = s.predict([{"x": 0.5, "opt": "sgd"}, inside])
    assert mean[0] - mean[1] == pytest.approx(1.0, abs=0.1)
    # a hole: trials all around an empty centre; the centre is inside every parameter's range, yet
    # farther from any trial than any trial is from its nearest neighbour
    from dataclasses import replace

    full = smooth_table(n=160)
    ring = tuple(t for t in full.trials
                 if not (1e-3 <= float(t.parameters["lr"]) <= 1e-1 and 70 <= int(t.parameters["batch"]) <= 195))
    assert len(ring) < len(full.trials) - 20
    holey = fit_table(replace(full, trials=ring), "forest")
    centre = {"lr": 0.01, "batch": 132}
    assert not holey.encoding.outside(centre)  # within every parameter's range
    assert holey.extrapolated(centre)
    near = {"lr": float(ring[0].parameters["lr"]), "batch": int(ring[0].parameters["batch"])}
    assert not holey.extrapolated(near)
    assert not fit_table(full, "forest").extrapolated(centre)  # with the centre's trials it is known


def test_curve_strategy_and_duration_come_from_the_data(gp):
    assert gp.curve.strategy == "max" and gp.curve.steps == (1.0, 2.0, 3.0, 4.0, 5.0)
    q = gp.encoding.encode([{"lr": 0.01, "batch": 200.0}])[0]
    shape = gp.curve.shape(q)
    assert shape[0] < shape[-1] <= 0.001  # rises to the final value
    assert gp.duration.median(q) == pytest.approx(5.0 + 0.2 * 200, rel=0.25)
    flat = fit_table(smooth_table(steps=0, times=False), "gp")
    assert flat.curve is None and flat.duration is None


@settings(max_examples=30, deadline=None)
@given(value=st.floats(-10, 10), seed=st.integers(0, 2**16), strategy=st.sampled_from(["max", "min", "latest"]),
       scale=st.floats(0, 3))
def test_a_simulated_curve_reports_the_simulated_value_under_the_strategy(value, seed, strategy, scale):
    rng = np.random.default_rng(seed)
    X = rng.random((6, 2))
    D = rng.normal(size=(6, 4))
    model = CurveModel((1.0, 2.0, 3.0, 4.0), strategy, X, D, (0.1, 0.2, 0.1, 0.3), 0.5)
    curve = model.simulate(rng.random(2), value, np.random.default_rng(seed), scale)
    assert strategy_value(curve, strategy) == pytest.approx(value, abs=1e-9)


@pytest.mark.parametrize("text, match", [
    ("{", "not JSON"),
    ('{"format": "other"}', "format: expected 'katibsim-surrogate'"),
    ('{"format": "katibsim-surrogate", "schema": 9}', "schema: 9"),
    ('{"format": "katibsim-surrogate", "schema": 1, "model": {"kind": "svm"}}', "model.kind: 'svm'"),
    ('{"format": "katibsim-surrogate", "schema": 1, "model": {"kind": "gp"}}', "not a valid model file: missing field"),
])
def test_a_bad_model_file_names_the_file_and_field(tmp_path, text, match):
    p = tmp_path / "m.json"
    p.write_text(text)
    with pytest.raises(InputError, match=match) as err:
        load_model(p)
    assert str(p) in str(err.value)


def test_unit_encoding_is_log_where_the_space_says():
    s = fit_table(smooth_table(), "gp")
    lr = s.encoding.columns[0]
    mid = math.sqrt(lr.low * lr.high)
    assert lr.unit(mid) == pytest.approx(0.5)


@pytest.mark.parametrize("edit, match", [
    (lambda d: d["y"].__setitem__(0, float("nan")), r"y\[0\]: not a finite number"),
    (lambda d: d["model"].__setitem__("noise_level", float("inf")), r"model\.noise_level: not a finite number"),
    (lambda d: d["X"][0].append(0.5), "its parts do not fit together"),
    (lambda d: d["curve"].__setitem__("D", [[1.0]]), "its parts do not fit together"),
    (lambda d: d.__setitem__("direction", "up"), "direction 'up'"),
    (lambda d: d.__setitem__("schema", True), "schema: True"),
])
def test_an_edited_model_file_is_refused_when_it_is_loaded(gp, tmp_path, edit, match):
    """A model file edited by hand fails at load time, naming the file and the field, never in the
    middle of a simulation (a NaN would otherwise simulate 80 trials of nan with exit 0)."""
    p = tmp_path / "m.json"
    write_model(gp, p)
    d = json.loads(p.read_text())
    edit(d)
    p.write_text(json.dumps(d))
    with pytest.raises(InputError, match=match) as err:
        load_model(p)
    assert str(p) in str(err.value)


def test_a_model_file_with_its_keys_sorted_is_still_a_model_file(gp, tmp_path):
    from katibsim_plugins.from_trials.surrogate import is_model_file

    p = tmp_path / "m.json"
    write_model(gp, p)
    p.write_text(json.dumps(json.loads(p.read_text()), sort_keys=True, indent=2))  # jq -S
    assert is_model_file(p)
    assert np.allclose(load_model(p).mean(gp.X), gp.mean(gp.X))
