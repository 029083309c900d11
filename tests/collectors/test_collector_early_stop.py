"""Early stopping inside Katib's collector, applied line by line (docs/katib-behaviour.md §6.5)."""

from __future__ import annotations

import pytest

from katibsim.collectors import CollectorEarlyStopper, StopRule
from katibsim.errors import InputError


def stopper(*rules, objective="accuracy", kind="maximize", **kw):
    return CollectorEarlyStopper(list(rules), [objective, "loss"], kind, **kw)


def test_objective_uses_best_so_far():
    # Stop when accuracy < 0.5: the best so far is compared, so one bad epoch after a good one does not stop.
    s = stopper(StopRule("accuracy", "0.5", "less"))
    assert not s.feed_line("accuracy=0.6").stop
    assert not s.feed_line("accuracy=0.1").stop  # best is still 0.6
    s = stopper(StopRule("accuracy", "0.5", "less"))
    assert s.feed_line("accuracy=0.4").stop and s.stopped_at == 1


def test_minimize_best_is_the_minimum():
    s = stopper(StopRule("loss", "1.0", "greater"), objective="loss", kind="minimize")
    assert not s.feed_line("loss=0.5").stop
    assert not s.feed_line("loss=3").stop  # best (min) is 0.5


def test_start_step_checks_only_at_that_report():
    s = stopper(StopRule("accuracy", "0.5", "less", start_step=3))
    assert not s.feed_line("accuracy=0.1").stop
    assert not s.feed_line("accuracy=0.1").stop
    assert s.feed_line("accuracy=0.2").stop  # the 3rd report
    s = stopper(StopRule("accuracy", "0.5", "less", start_step=2))
    s.feed_line("accuracy=0.9")
    assert not s.feed_line("accuracy=0.9").stop  # checked at report 2, not met
    assert not s.feed_line("accuracy=0.1").stop  # never checked again (and best is 0.9 anyway)


def test_non_objective_rule_uses_the_raw_value_and_all_rules_must_hold():
    s = stopper(StopRule("loss", "2", "greater"), StopRule("accuracy", "0.3", "less"))
    assert not s.feed_line("loss=3").stop  # loss rule met and removed; accuracy rule remains
    assert s.remaining == (StopRule("accuracy", "0.3", "less"),)
    assert s.feed_line("accuracy=0.2 loss=0.1").stop


def test_equal_comparison():
    s = stopper(StopRule("loss", "0.5", "equal"))
    assert s.feed_line("loss=0.5").stop


def test_any_non_float_match_on_a_rule_line_crashes_the_collector():
    s = stopper(StopRule("accuracy", "0.1", "less"))
    decision = s.feed_line("epoch=1 accuracy=0.5 phase=train")  # "phase=" matches with value ""
    assert decision.crash and "phase" in decision.crash and not decision.stop
    assert s.feed_line("accuracy=0.01").crash  # stays crashed


def test_lines_without_a_rule_name_are_not_parsed():
    s = stopper(StopRule("accuracy", "0.1", "less"))
    assert not s.feed_line("phase=train").crash


def test_json_format():
    s = stopper(StopRule("accuracy", "0.5", "less"), file_format="JSON")
    assert not s.feed_line('{"accuracy": 0.1}').stop  # numbers are not read
    assert s.feed_line('{"accuracy": "0.1"}').stop
    s = stopper(StopRule("accuracy", "0.5", "less"), file_format="JSON")
    assert s.feed_line("").crash  # the live watcher decodes every line, even an empty one


def test_bad_rules():
    with pytest.raises(InputError):
        StopRule("accuracy", "0.5", "lessthan")
    with pytest.raises(InputError):
        CollectorEarlyStopper([], ["accuracy"], "maximize")
