"""checked_suggest: the host's verification of every answer, and the duplicate count."""

from __future__ import annotations

import numpy as np
import pytest

from katibsim.algorithm import (
    Algorithm,
    ObjectiveInfo,
    SettingsError,
    Trial,
    TrialCondition,
    convert_setting,
    random_state_setting,
)
from katibsim.errors import ContractError, SearchSpaceExhausted, SuggestionServiceFailure
from katibsim.suggest_check import SuggestResult, checked_suggest

OBJ = ObjectiveInfo("accuracy", maximize=True)


class Scripted(Algorithm):
    """Answers whatever the test scripted."""

    name = "scripted"

    def __init__(self, space, answer, **kw):
        super().__init__(space, OBJ, {}, 0)
        self.answer = answer

    def suggest(self, trials, count):
        if isinstance(self.answer, BaseException):
            raise self.answer
        return self.answer(trials, count) if callable(self.answer) else self.answer


def ok(**kw):
    return {"lr": 0.02, "layers": 2, "opt": "adam", **kw}


def test_good_answer_is_coerced_and_frozen(mixed_space):
    alg = Scripted(mixed_space, [ok(lr=np.float64(0.03), layers=np.int64(3)), ok(layers=2.0)])
    res = checked_suggest(alg, [], 2)
    assert isinstance(res, SuggestResult)
    assert res.assignments == ({"lr": 0.03, "layers": 3, "opt": "adam"}, {"lr": 0.02, "layers": 2, "opt": "adam"})
    assert type(res.assignments[0]["lr"]) is float and type(res.assignments[0]["layers"]) is int
    assert type(res.assignments[1]["layers"]) is int
    assert res.duplicates == 0 and not res.exhausted and res.message is None
    with pytest.raises(AttributeError):
        res.duplicates = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    "answer, fragment",
    [
        ([ok()], "asked for 2 assignments, got 1"),
        ([ok(), ok(), ok()], "asked for 2 assignments, got 3"),
        ([ok(), ok(lr=0.5)], "assignment 2 of 2"),
        ([ok(), ok(lr=0.015)], "not on the step"),
        ([ok(), ok(layers=1.5)], "not an integer"),
        ([ok(), ok(opt="nadam")], "is not one of"),
        ([ok(), ok(opt=1)], "expected a string"),
        ([ok(), ok(lr="0.02")], "expected a number"),
        ([ok(), ok(lr=True)], "expected a number"),
        ([ok(), ok(lr=float("nan"))], "not finite"),
        ([ok(), {"lr": 0.02, "layers": 2}], "parameter opt is missing"),
        ([ok(), ok(extra=1)], "unknown parameter extra"),
        ([ok(), "lr=0.02"], "not a mapping"),
        ({"lr": 0.02}, "must return a list"),
        (None, "must return a list"),
        (RuntimeError("boom"), "suggest() raised RuntimeError: boom"),
        (SettingsError("late validation"), "suggest() raised SettingsError"),
    ],
)
def test_broken_answers_name_plugin_and_algorithm(mixed_space, answer, fragment):
    alg = Scripted(mixed_space, answer)
    with pytest.raises(ContractError) as info:
        checked_suggest(alg, [], 2, plugin="my-plugin")
    msg = str(info.value)
    assert "plugin my-plugin (algorithm scripted) broke the suggestion contract" in msg
    assert fragment in msg
    assert info.value.plugin == "my-plugin" and info.value.algorithm == "scripted"


def test_plugin_name_defaults_to_module(mixed_space):
    with pytest.raises(ContractError, match=f"plugin {__name__} "):
        checked_suggest(Scripted(mixed_space, []), [], 1)


def test_the_engine_names_the_registered_plugin():
    """checked_suggest does not look the owner up (that was an import cycle): the engine knows
    which plugin registered the algorithm it built, and passes it."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
    from engine_helpers import Line, make_experiment

    from katibsim import plugins
    from katibsim.engine.run import simulate

    class Broken(Algorithm):
        name = "broken-for-naming"

        def suggest(self, trials, count):
            return []

    class Plugin:
        @staticmethod
        def katibsim_register_algorithms(register):
            register(Broken)

    from katibsim.hookspecs import hookimpl

    Plugin.katibsim_register_algorithms = hookimpl(Plugin.katibsim_register_algorithms)
    plugins.pm.register(Plugin, name="naming-test-plugin")
    try:
        exp = make_experiment({"algorithm": {"algorithmName": "broken-for-naming"}})
        with pytest.raises(ContractError, match="plugin naming-test-plugin \\(algorithm broken-for-naming\\)"):
            simulate(exp, Line(), seed=0)
    finally:
        plugins.pm.unregister(name="naming-test-plugin")


def test_exhaustion_returns_remaining(mixed_space):
    alg = Scripted(mixed_space, SearchSpaceExhausted("all used", [ok()]))
    res = checked_suggest(alg, [], 3)
    assert res.exhausted and res.message == "all used" and res.assignments == (ok(),)


def test_exhaustion_with_too_many_is_broken(mixed_space):
    alg = Scripted(mixed_space, SearchSpaceExhausted("all used", [ok(), ok(), ok()]))
    with pytest.raises(ContractError, match="got 3 \\(with SearchSpaceExhausted\\)"):
        checked_suggest(alg, [], 2)


def test_exhausted_assignments_are_checked_too(mixed_space):
    alg = Scripted(mixed_space, SearchSpaceExhausted("all used", [ok(lr=9.0)]))
    with pytest.raises(ContractError, match="outside"):
        checked_suggest(alg, [], 2)


def test_duplicates_against_history_and_within_batch(mixed_space):
    history = [
        Trial("t0", ok(), TrialCondition.SUCCEEDED, 0.5),
        Trial("t1", ok(lr=0.05), TrialCondition.RUNNING),
        Trial("t2", ok(layers=1), TrialCondition.FAILED),
    ]
    answer = [ok(), ok(lr=0.05), ok(layers=1), ok(lr=0.04), ok(lr=0.04)]
    res = checked_suggest(Scripted(mixed_space, answer), history, 5)
    # ok() / lr=0.05 (running) / layers=1 (failed) repeat history; the 2nd lr=0.04 repeats the batch.
    assert res.duplicates == 4


def test_duplicates_are_by_katib_string(mixed_space):
    history = [Trial("t0", {"lr": 0.03, "layers": 3, "opt": "sgd"}, TrialCondition.SUCCEEDED, 1.0)]
    res = checked_suggest(Scripted(mixed_space, [{"lr": np.float32(0.03).item(), "layers": np.int8(3), "opt": "sgd"}]), history, 1)
    # float32(0.03) is 0.029999999329447746: a different Katib string, so not the same trial.
    assert res.duplicates == 0
    res = checked_suggest(Scripted(mixed_space, [{"lr": 0.03, "layers": np.int8(3), "opt": "sgd"}]), history, 1)
    assert res.duplicates == 1


def test_duplicate_cache_follows_growing_and_unrelated_histories(mixed_space):
    alg = Scripted(mixed_space, lambda trials, count: [ok()] * count)
    h1 = [Trial("t0", ok(lr=0.01), TrialCondition.SUCCEEDED, 1.0)]
    assert checked_suggest(alg, h1, 1).duplicates == 0
    h2 = h1 + [Trial("t1", ok(), TrialCondition.RUNNING)]
    assert checked_suggest(alg, h2, 1).duplicates == 1
    # Same names, different assignments: an unrelated history must not reuse the cache.
    h3 = [Trial("t0", ok(lr=0.01), TrialCondition.SUCCEEDED, 1.0), Trial("t1", ok(lr=0.05), TrialCondition.RUNNING)]
    assert checked_suggest(alg, h3, 1).duplicates == 0
    # Shrunk history.
    assert checked_suggest(alg, [], 2).duplicates == 1


def test_history_with_foreign_values_does_not_break_counting(mixed_space):
    history = [Trial("t0", {"lr": "junk"}, TrialCondition.SUCCEEDED, 1.0)]
    assert checked_suggest(Scripted(mixed_space, [ok()]), history, 1).duplicates == 0


@pytest.mark.parametrize("count", [-1, 1.0, True, "2"])
def test_host_must_ask_for_a_count(mixed_space, count):
    with pytest.raises(ValueError):
        checked_suggest(Scripted(mixed_space, []), [], count)


def test_zero_count(mixed_space):
    assert checked_suggest(Scripted(mixed_space, []), [], 0).assignments == ()


def test_katib_setting_messages():
    assert random_state_setting(None) is None
    assert random_state_setting("0") == 0
    with pytest.raises(SettingsError) as info:
        random_state_setting("-1")
    assert info.value.message == "random_state should be great or equal than zero"
    assert info.value.setting == "random_state"
    with pytest.raises(SettingsError) as info:
        random_state_setting("abc")
    assert info.value.message == "failed to validate random_state(abc): invalid literal for int() with base 10: 'abc'"
    assert convert_setting("gamma", "0.5", float) == 0.5


def test_a_katib_service_failure_passes_through_unwrapped(mixed_space):
    failure = SuggestionServiceFailure("ValueError: boom", why="the library refuses it", fix="change it")
    with pytest.raises(SuggestionServiceFailure) as info:
        checked_suggest(Scripted(mixed_space, failure), [], 1)
    assert info.value is failure and not isinstance(info.value, ContractError)


def test_a_plugin_that_sorts_the_history_breaks_the_contract(mixed_space):
    from katibsim.engine.history import History

    class Sorter(Algorithm):
        name = "sorter"

        def suggest(self, trials, count):
            trials.sort(key=lambda t: t.name)
            return [ok()] * count

    h = History()
    h.add(Trial("b", ok(), TrialCondition.RUNNING))
    h.add(Trial("a", ok(), TrialCondition.RUNNING))
    with pytest.raises(ContractError, match="AttributeError"):
        checked_suggest(Sorter(mixed_space, OBJ), h.compact(), 1)
    assert [t.name for t in h.view] == ["b", "a"]
    plain = [Trial("b", ok(), TrialCondition.RUNNING), Trial("a", ok(), TrialCondition.RUNNING)]
    with pytest.raises(ContractError):
        checked_suggest(Sorter(mixed_space, OBJ), plain, 1)  # handed a tuple copy: cannot sort it either
    assert [t.name for t in plain] == ["b", "a"]
