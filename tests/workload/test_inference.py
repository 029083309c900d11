"""The space inferred from the trials' values when no Experiment declares it."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, strategies as st

from katibsim.errors import InputError
from katibsim.spec.space import Distribution, ParameterType
from katibsim.workload.build import LOG_SPAN, infer_parameter
from katibsim.workload.readers import read_trials

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@given(st.lists(st.integers(-10**6, 10**6), min_size=1, max_size=20))
def test_integral_strings_are_int(values):
    p = infer_parameter("n", [str(v) for v in values])
    assert p.type == ParameterType.INT and (p.min, p.max) == (min(values), max(values))
    assert p.is_log == (min(values) > 0 and max(values) / min(values) >= LOG_SPAN)


@given(st.lists(finite, min_size=1, max_size=20))
def test_decimal_strings_are_double_over_the_range_seen(values):
    texts = [repr(float(v)) for v in values]  # "3.0": written as a decimal, so double
    p = infer_parameter("x", texts)
    assert p.type == ParameterType.DOUBLE and (p.min, p.max) == (min(values), max(values))
    for t in texts:
        assert p.contains(p.parse(t))


@given(st.floats(1e-6, 1e3), st.floats(1.0, 1e4))
def test_log_scale_from_two_orders_of_magnitude(lo, factor):
    p = infer_parameter("lr", [repr(lo), repr(lo * factor)])
    expected = Distribution.LOG_UNIFORM if (lo * factor) / lo >= LOG_SPAN else Distribution.UNIFORM
    assert p.distribution == expected


def test_log_scale_boundaries():
    assert infer_parameter("a", ["0.01", "1.0"]).distribution == Distribution.LOG_UNIFORM  # exactly 100
    assert infer_parameter("a", ["0.011", "1.0"]).distribution == Distribution.UNIFORM
    assert infer_parameter("a", ["0", "100.0"]).distribution == Distribution.UNIFORM  # not positive
    assert infer_parameter("a", ["-1.0", "1000.0"]).distribution == Distribution.UNIFORM


@given(st.lists(st.sampled_from(["adam", "sgd", "rmsprop", "ftrl"]), min_size=1, max_size=12))
def test_strings_are_categorical_in_first_seen_order(values):
    p = infer_parameter("opt", values)
    assert p.type == ParameterType.CATEGORICAL and p.values == tuple(dict.fromkeys(values))


def test_a_table_with_every_kind(tmp_path):
    rows = [{"lr": lr, "units": u, "opt": o, "acc": a}
            for lr, u, o, a in [(0.001, 32, "adam", 0.9), (0.5, 64, "sgd", 0.7), (0.05, 128, "adam", 0.8)]]
    f = tmp_path / "t.json"
    f.write_text(json.dumps(rows))
    table = read_trials(f, metric="acc")
    lr, units, opt = table.space.parameters
    assert (lr.type, lr.distribution) == (ParameterType.DOUBLE, Distribution.LOG_UNIFORM)
    assert (units.type, units.min, units.max, units.distribution) == (ParameterType.INT, 32, 128, Distribution.UNIFORM)
    assert (opt.type, opt.values) == (ParameterType.CATEGORICAL, ("adam", "sgd"))
    assert table.trials[0].parameters == {"lr": "0.001", "units": "32", "opt": "adam"}


def test_mostly_numbers_with_a_stray_string_is_an_error(tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("lr,acc\n0.1,0.5\n0.2,0.6\n0.l,0.7\n")
    with pytest.raises(InputError, match=r"t\.csv: row 3, parameter lr: '0\.l' is not a number"):
        read_trials(f, metric="acc")
