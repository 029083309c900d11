"""The early-stopping contract: the collector's rule evaluation (§6.5) and medianstop (§5.10)."""

from __future__ import annotations

import pytest

from katibsim import algorithm_factory, plugins
from katibsim.algorithm import ObjectiveInfo, Trial, TrialCondition
from katibsim.early_stopping import Comparison, EarlyStoppingSettingsError, Rule, collector_stop_index
from katibsim.errors import SpecError
from katibsim_plugins.medianstop import MedianStop

from engine_helpers import make_experiment

MAX = ObjectiveInfo("acc", maximize=True)
MIN = ObjectiveInfo("loss", maximize=False)


def _stop(rules, values, metric="acc", maximize=True):
    return collector_stop_index(rules, [(metric, v) for v in values], objective_metric=metric, maximize=maximize)


# -- the collector ---------------------------------------------------------------------------------------
def test_rule_checked_once_at_start_step_against_best_so_far():
    rule = Rule("acc", 0.5, Comparison.LESS, start_step=3)
    assert _stop([rule], [0.1, 0.2, 0.3, 0.9]) == 3  # best at the 3rd report is 0.3 < 0.5
    assert _stop([rule], [0.1, 0.6, 0.3, 0.1, 0.1]) is None  # best is 0.6 at step 3; never checked again
    assert _stop([rule], [0.1, 0.2]) is None  # fewer reports than start_step


def test_rule_without_start_step_checked_on_every_report():
    rule = Rule("acc", 0.5, Comparison.LESS)
    assert _stop([rule], [0.1]) == 1
    assert _stop([rule], [0.6, 0.4]) is None  # the best so far stays 0.6


def test_minimize_uses_the_minimum_so_far():
    rule = Rule("loss", 1.0, Comparison.GREATER, start_step=2)
    assert _stop([rule], [3.0, 2.0], metric="loss", maximize=False) == 2
    assert _stop([rule], [0.5, 2.0], metric="loss", maximize=False) is None


def test_other_metrics_compare_the_reported_value_and_all_rules_must_hold():
    rules = [Rule("acc", 0.5, Comparison.LESS, start_step=2), Rule("epoch", 3.0, Comparison.EQUAL)]
    reports = [("acc", 0.1), ("epoch", 1.0), ("acc", 0.2), ("epoch", 2.0), ("epoch", 3.0)]
    # acc rule satisfied at the 3rd line (2nd acc report), epoch == 3 at the 5th line.
    assert collector_stop_index(rules, reports, objective_metric="acc", maximize=True) == 5


def test_no_rules_never_stop():
    assert _stop([], [0.0, 0.0]) is None


def test_rule_to_katib_shape():
    r = Rule("acc", 0.25, Comparison.LESS, start_step=4)
    assert r.to_katib() == {"comparison": "less", "name": "acc", "value": "0.25", "startStep": 4}
    assert Rule.from_dict(r.to_dict()) == r


# -- medianstop settings (ValidateEarlyStoppingSettings) --------------------------------------------------------
def test_medianstop_defaults():
    ms = MedianStop(MAX)
    assert (ms.min_trials_required, ms.start_step, ms.comparison) == (3, 4, Comparison.LESS)
    assert MedianStop(MIN).comparison == Comparison.GREATER


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"min_trials_required": "0"}, "min_trials_required must be greater than zero (>0)"),
        ({"start_step": "0"}, "start_step must be greater or equal than one (>=1)"),
        ({"start_step": "abc"}, "failed to validate start_step(abc): invalid literal for int() with base 10: 'abc'"),
        ({"foo": "1"}, "unknown setting foo for algorithm medianstop"),
    ],
)
def test_medianstop_rejects_bad_settings_with_katibs_messages(settings, message):
    with pytest.raises(EarlyStoppingSettingsError) as err:
        MedianStop(MAX, settings)
    assert err.value.message == message
    assert err.value.errors[0].path == "spec.earlyStopping.algorithmSettings"


def test_medianstop_bad_setting_reported_at_its_field_path_through_the_host():
    exp = make_experiment({"earlyStopping": {"algorithmName": "medianstop",
                                             "algorithmSettings": [{"name": "start_step", "value": "0"}]}})
    errors = algorithm_factory.validate_early_stopping(exp)
    assert [(e.path, e.message) for e in errors] == [
        ("spec.earlyStopping.algorithmSettings[0].value", "start_step must be greater or equal than one (>=1)")]


def test_unknown_early_stopping_lists_the_known_ones():
    exp = make_experiment({"earlyStopping": {"algorithmName": "nope"}})
    errors = algorithm_factory.validate_early_stopping(exp)
    assert errors and "medianstop" in errors[0].message


# -- medianstop rules (GetEarlyStoppingRules) -----------------------------------------------------------------------
def _trial(name, curve, condition=TrialCondition.SUCCEEDED):
    return Trial(name=name, assignment={"x": 1.0}, condition=condition, value=max(v for _, v in curve),
                 intermediate=tuple(curve))


def test_medianstop_needs_min_trials_then_gives_the_mean_of_early_means():
    ms = MedianStop(MAX, {"min_trials_required": "3", "start_step": "2"})
    t1 = _trial("a", [(1, 0.2), (2, 0.4), (3, 0.9)])  # mean of first 2: 0.3
    t2 = _trial("b", [(1, 0.4), (2, 0.6)])  # 0.5
    t3 = _trial("c", [(1, 0.1), (2, 0.1), (3, 0.1)])  # 0.1
    assert ms.rules([t1, t2]) == []
    running = Trial(name="d", assignment={"x": 2.0}, condition=TrialCondition.RUNNING)
    failed = _trial("e", [(1, 5.0)], condition=TrialCondition.FAILED)
    rules = ms.rules([t1, t2, running, failed, t3])
    assert len(rules) == 1
    r = rules[0]
    assert (r.metric, r.comparison, r.start_step) == ("acc", Comparison.LESS, 2)
    assert r.value == pytest.approx((0.3 + 0.5 + 0.1) / 3)


def test_medianstop_remembers_a_trials_mean_from_the_first_time_it_saw_it():
    ms = MedianStop(MAX, {"min_trials_required": "1", "start_step": "1"})
    assert ms.rules([_trial("a", [(1, 0.5)])])[0].value == 0.5
    # The same name with another curve is not re-read (Katib keeps trials_avg_history).
    assert ms.rules([_trial("a", [(1, 0.9)])])[0].value == 0.5


def test_medianstop_minimize_rule_is_greater():
    ms = MedianStop(MIN, {"min_trials_required": "1"})
    [r] = ms.rules([_trial("a", [(1, 4.0), (2, 2.0)])])
    assert (r.metric, r.comparison, r.value) == ("loss", Comparison.GREATER, 3.0)


def test_medianstop_is_registered_as_a_plugin():
    assert plugins.early_stopping()["medianstop"] is MedianStop
    assert issubclass(EarlyStoppingSettingsError, SpecError)
