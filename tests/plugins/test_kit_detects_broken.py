"""The kit is worth something only if it fails broken algorithms, each with the rule that broke."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest

from katibsim.algorithm import Algorithm, Capabilities, SettingSpec, random_state_setting
from katibsim.errors import SearchSpaceExhausted
from katibsim.spec.space import ParameterType
from katibsim.testing import (
    check_algorithm,
    check_batch,
    check_declaration,
    check_deterministic,
    check_exact_count,
    check_history_unchanged,
    check_history_with_failed_nan_running_earlystopped,
    check_in_space,
    check_pickles,
    check_rebuild_same_answer,
    check_rejects_junk_settings,
    checks_for,
    parametrize_with_checks,
)

FAST = {"max_examples": 15, "shrink": False}


class Good(Algorithm):
    """A minimal correct algorithm: seeded draws from (seed, history length)."""

    name = "good"
    settings_spec = (SettingSpec("random_state", None, "seed"),)

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.base = random_state_setting(self.settings.get("random_state")) or (self.seed or 0)

    def suggest(self, trials, count):
        rng = np.random.default_rng([self.base, len(trials)])
        return [self.space.sample(rng) for _ in range(count)]


class OutOfSpace(Good):
    name = "out-of-space"

    def suggest(self, trials, count):
        out = super().suggest(trials, count)
        p = self.space.parameters[0]
        if p.is_numeric and p.type != ParameterType.DISCRETE:
            out[-1][p.name] = p.bounds[1] + 1
        else:
            out[-1][p.name] = "not-in-the-list"
        return out


class WrongCount(Good):
    name = "wrong-count"

    def suggest(self, trials, count):
        return super().suggest(trials, count)[: max(0, count - 1)] if count > 2 else super().suggest(trials, count)


class ExhaustsEarly(Good):
    name = "exhausts-early"

    def suggest(self, trials, count):
        if len(trials) > 3:
            raise SearchSpaceExhausted("tired", [])
        return super().suggest(trials, count)


class Unseeded(Good):
    name = "unseeded"

    def suggest(self, trials, count):
        rng = np.random.default_rng()
        return [self.space.sample(rng) for _ in range(count)]


class HiddenState(Good):
    """Deterministic from scratch, but its answer depends on how many times it was asked."""

    name = "hidden-state"

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.calls = 0

    def suggest(self, trials, count):
        self.calls += 1
        rng = np.random.default_rng([self.base, self.calls])
        return [self.space.sample(rng) for _ in range(count)]


class ChokesOnNaN(Good):
    name = "chokes-on-nan"

    def suggest(self, trials, count):
        for t in trials:
            if t.condition.value in ("Succeeded", "EarlyStopped"):
                if t.value is None or not np.isfinite(t.value):
                    raise ValueError("objective value is not finite")
        return super().suggest(trials, count)


class AcceptsAnything(Good):
    name = "accepts-anything"

    def __init__(self, space, objective, settings=None, seed=None, **kw):
        # Forgets the base class's unknown-key check and never validates random_state.
        self.space, self.objective, self.settings, self.seed = space, objective, dict(settings or {}), seed
        self.max_trial_count = kw.get("max_trial_count")
        self.base = 0


class ValueErrorSettings(Good):
    name = "value-error-settings"

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)


ValueErrorSettings.__init__ = lambda self, space, objective, settings=None, seed=None, **kw: (
    Algorithm.__init__(self, space, objective, settings, seed, **kw),
    int(self.settings.get("random_state", "0")),
    setattr(self, "base", 0),
)[-1]


class Unpicklable(Good):
    name = "unpicklable"

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.lock = threading.Lock()


class SameBatch(Good):
    name = "same-batch"

    def suggest(self, trials, count):
        one = super().suggest(trials, 1)[0]
        return [dict(one) for _ in range(count)]


class NoName(Good):
    name = ""


@pytest.mark.parametrize(
    "cls, check, rule",
    [
        (OutOfSpace, check_in_space, "check_in_space"),
        (WrongCount, check_exact_count, "check_exact_count"),
        (ExhaustsEarly, check_exact_count, "check_exact_count"),
        (Unseeded, check_deterministic, "check_deterministic"),
        (HiddenState, check_rebuild_same_answer, "check_rebuild_same_answer"),
        (ChokesOnNaN, check_history_with_failed_nan_running_earlystopped, "check_history_with_failed_nan_running_earlystopped"),
        (AcceptsAnything, check_rejects_junk_settings, "check_rejects_junk_settings"),
        (ValueErrorSettings, check_rejects_junk_settings, "check_rejects_junk_settings"),
        (Unpicklable, check_pickles, "check_pickles"),
        (SameBatch, check_batch, "check_batch"),
        (NoName, check_declaration, "check_declaration"),
    ],
    ids=lambda x: getattr(x, "__name__", str(x)),
)
def test_each_check_fails_its_broken_algorithm(cls, check, rule):
    with pytest.raises(AssertionError) as info:
        check(cls, **FAST)
    assert f"[{rule}]" in str(info.value)


def test_messages_say_what_broke():
    with pytest.raises(AssertionError, match="Katib's message|unknown setting"):
        check_rejects_junk_settings(AcceptsAnything)
    with pytest.raises(AssertionError, match="expected SettingsError, got ValueError"):
        check_rejects_junk_settings(ValueErrorSettings)
    with pytest.raises(AssertionError, match="repeated assignments"):
        check_batch(SameBatch)
    with pytest.raises(AssertionError, match="never suggested"):
        check_exact_count(ExhaustsEarly, **FAST)


def test_the_good_algorithm_passes_every_check():
    check_algorithm(Good, **FAST)


def test_settings_are_passed_to_every_check():
    for name, call in checks_for(Good, settings={"random_state": "3"}, max_examples=3):
        call()
    with pytest.raises(AssertionError, match="rejected settings"):
        check_in_space(Good, {"random_state": "-1"}, max_examples=2, shrink=False)


def test_skip_marks_expected_failures_with_their_reason():
    mark = parametrize_with_checks([Good, SameBatch], skip={"check_batch": "repeats itself like Katib's TPE"})
    params = mark.args[1]
    ids = mark.kwargs["ids"]
    assert "good-check_in_space" in ids and "same-batch-check_pickles" in ids
    batch = [p for p, i in zip(params, ids) if i.endswith("check_batch")]
    assert len(batch) == 2  # kept, not dropped
    for p in batch:
        (xfail,) = p.marks
        assert xfail.name == "xfail" and xfail.kwargs["reason"] == "repeats itself like Katib's TPE"
    others = [p for p, i in zip(params, ids) if not i.endswith("check_batch")]
    assert all(not p.marks for p in others)
    tiny = {"max_examples": 2, "shrink": False}
    check_algorithm(SameBatch, skip={"check_batch": "known"}, **tiny)  # the expected failure is not raised
    with pytest.raises(AssertionError, match="repeated assignments"):
        check_algorithm(SameBatch, **tiny)
    with pytest.raises(TypeError, match="needs a reason"):
        parametrize_with_checks(Good, skip=["check_batch"])
    with pytest.raises(ValueError, match="unknown check"):
        checks_for(Good, skip={"check_nonsense": "why"})


class SortsHistory(Good):
    name = "sorts-history"

    def suggest(self, trials, count):
        trials.sort(key=lambda t: t.name, reverse=True)
        return super().suggest(trials, count)


class EditsAssignments(Good):
    name = "edits-assignments"

    def suggest(self, trials, count):
        for t in trials:
            t.assignment.clear()
        return super().suggest(trials, count)


class CopiesWithListMethods(Good):
    name = "copies-with-list-methods"

    def suggest(self, trials, count):
        mine = trials.copy()  # a list method: not on the read-only view
        return super().suggest(mine, count)


def test_history_unchanged_catches_mutation_and_list_only_code():
    check_history_unchanged(Good, **FAST)
    with pytest.raises(AssertionError, match=r"\[check_history_unchanged\] .*reordered"):
        check_history_unchanged(SortsHistory, **FAST)
    with pytest.raises(AssertionError, match="changed the assignment"):
        check_history_unchanged(EditsAssignments, **FAST)
    with pytest.raises(AssertionError, match="AttributeError"):
        check_history_unchanged(CopiesWithListMethods, **FAST)


def test_batch_false_only_needs_count():
    class Serial(SameBatch):
        name = "serial"
        capabilities = Capabilities(batch=False)

    check_batch(Serial)


def test_examples_from_environment(monkeypatch):
    from katibsim.testing import checks

    monkeypatch.setenv("KATIBSIM_KIT_EXAMPLES", "7")
    assert checks.examples() == 7
    assert checks.examples(3) == 3
    monkeypatch.delenv("KATIBSIM_KIT_EXAMPLES")
    assert checks.examples() == checks.DEFAULT_EXAMPLES


# The kit as a third party uses it: one parametrized test.
@parametrize_with_checks(Good, max_examples=5)
def test_kit_in_a_few_lines(check):
    check()
