"""The engine's history and HistoryKeys: a versioned history is read incrementally, anything else is
read from scratch, and the keys are always exactly those of the history last given."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from katibsim.engine.history import History
from katibsim.history_keys import HistoryKeys
from katibsim.spec.space import Parameter, ParameterType, SearchSpace
from katibsim.trial import ReadOnlyHistory, Trial, TrialCondition

SPACE = SearchSpace((Parameter("x", ParameterType.INT, 0, 1000),))


def trial(i: int, x: int, condition=TrialCondition.RUNNING) -> Trial:
    return Trial(f"t{i}", {"x": x}, condition)


class CountingKey:
    """SPACE.key, counting its calls (how many trials an update looked at)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, assignment):
        self.calls += 1
        return SPACE.key(assignment)


def test_epoch_changes_only_when_a_trial_leaves():
    h = History()
    h.add(trial(0, 1))
    h.add(trial(1, 2))
    e = h.epoch
    h.put(trial(0, 1, TrialCondition.SUCCEEDED))
    assert h.epoch == e
    h.drop("t1")
    assert h.epoch != e
    e = h.epoch
    h.compact()
    assert h.epoch != e and [t.name for t in h.view] == ["t0"]
    e = h.epoch
    h.compact()  # nothing to remove
    assert h.epoch == e


def test_the_view_is_read_only_and_follows_the_history():
    h = History()
    h.add(trial(0, 5))
    view = h.compact()
    assert isinstance(view, ReadOnlyHistory) and view is h.view and view.epoch == h.epoch
    for mutate in (lambda v: v.sort(key=lambda t: t.name), lambda v: v.append(trial(9, 9)),
                   lambda v: v.__setitem__(0, trial(9, 9)), lambda v: v.__delitem__(0), lambda v: v.reverse()):
        with pytest.raises((AttributeError, TypeError)):
            mutate(view)
    own = view[:]
    own.append(trial(1, 6))  # a slice is the plugin's own list
    assert len(view) == 1
    h.add(trial(1, 7))
    assert [t.assignment["x"] for t in view] == [5, 7] and view[-1].name == "t1"


def test_versioned_history_is_read_incrementally_and_rebuilt_after_a_removal():
    key = CountingKey()
    keys = HistoryKeys(SPACE, key=key)
    h = History()
    for i in range(100):
        h.add(trial(i, i))
    assert keys.update(h.compact()) is False and key.calls == 100
    h.put(trial(50, 50, TrialCondition.SUCCEEDED))
    h.add(trial(100, 100))
    assert keys.update(h.compact()) is False and key.calls == 101  # only the new trial
    h.drop("t3")
    assert keys.update(h.compact()) is True and key.calls == 101 + 100  # a removal: rebuilt from scratch
    assert ("3",) not in keys.keys and len(keys.keys) == 100


def test_a_plain_sequence_is_read_from_scratch_every_time():
    key = CountingKey()
    keys = HistoryKeys(SPACE, key=key)
    first = [trial(i, i) for i in range(5)]
    keys.update(first)
    grown = first + [trial(5, 5)]
    assert keys.update(grown) is True and key.calls == 5 + 6


def test_a_changed_middle_trial_is_never_kept():
    """[0,1,2,3,4] then [0,99,2,3,4,5]: first, middle and last probes would have matched the prefix;
    the stale key of trial 1 must go and trial 99 must come in."""
    keys = HistoryKeys(SPACE)
    keys.update([trial(i, i) for i in range(5)])
    second = [trial(0, 0), Trial("t1", {"x": 99}, TrialCondition.RUNNING)] + [trial(i, i) for i in (2, 3, 4, 5)]
    keys.update(second)
    assert keys.keys == {(str(x),) for x in (0, 99, 2, 3, 4, 5)}


def test_a_different_history_object_is_not_mistaken_for_the_one_seen():
    keys = HistoryKeys(SPACE)
    a, b = History(), History()
    for i in range(5):
        a.add(trial(i, i))
        b.add(trial(i, 10 + i))
    keys.update(a.compact())
    assert keys.update(b.compact()) is True  # same epoch, same length, another object
    assert keys.keys == {(str(10 + i),) for i in range(5)}


ops = st.lists(st.tuples(st.sampled_from(["add", "put", "drop", "update"]), st.integers(0, 30)), max_size=60)


@settings(max_examples=80, deadline=None)
@given(ops)
def test_keys_are_always_those_of_the_history(steps):
    h = History()
    keys = HistoryKeys(SPACE)
    plain = HistoryKeys(SPACE)  # the same history seen as plain tuples
    n = 0
    for op, v in steps:
        names = [t.name for t in h if t is not None]
        if op == "add":
            h.add(trial(n, v))
            n += 1
        elif op == "put" and names:
            t = next(t for t in h if t is not None and t.name == names[v % len(names)])
            h.put(Trial(t.name, t.assignment, TrialCondition.SUCCEEDED, float(v)))
        elif op == "drop" and names:
            h.drop(names[v % len(names)])
        else:
            view = h.compact()
            keys.update(view)
            plain.update(tuple(view))
            want = {SPACE.key(t.assignment) for t in view}
            assert keys.keys == want and plain.keys == want


def test_final_put_forgets_the_position_and_compaction_keeps_the_others():
    h = History()
    for i in range(4):
        h.add(trial(i, i))
    h.put(trial(1, 1, TrialCondition.SUCCEEDED), final=True)
    h.drop("t0")
    view = h.compact()
    assert [t.name for t in view] == ["t1", "t2", "t3"] and view[0].condition == TrialCondition.SUCCEEDED
    h.put(trial(3, 3, TrialCondition.FAILED), final=True)  # positions of running trials survive compaction
    h.drop("t2")
    h.compact()
    assert [(t.name, t.condition) for t in view] == [("t1", TrialCondition.SUCCEEDED), ("t3", TrialCondition.FAILED)]
    assert h._pos == {}


def test_a_history_keys_user_rebuilt_or_reused_gives_the_same_answer_after_a_changed_middle_trial():
    """The design's rule "same answer when rebuilt from the same history", for an algorithm that
    keeps a HistoryKeys between calls (as a plugin author may): an instance that saw [0,1,2,3,4]
    and is then given [0,99,2,3,4,5] answers like one built fresh for the second history."""
    from katibsim.algorithm import Algorithm, ObjectiveInfo

    class FirstUnused(Algorithm):
        name = "first-unused"

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.keys = HistoryKeys(self.space)

        def suggest(self, trials, count):
            self.keys.update(trials)
            out = []
            for x in range(0, 101):
                key = self.space.key({"x": x})
                if key not in self.keys.keys:
                    out.append({"x": x})
                    if len(out) == count:
                        return out
            return out

    space = SearchSpace((Parameter("x", ParameterType.INT, 0, 100),))
    obj = ObjectiveInfo("score", True)
    first = [Trial(f"t{i}", {"x": i}, TrialCondition.SUCCEEDED, float(i)) for i in range(5)]
    second = [first[0], Trial("t1", {"x": 99}, TrialCondition.SUCCEEDED, 1.0)] + first[2:] + [
        Trial("t5", {"x": 5}, TrialCondition.SUCCEEDED, 5.0)]
    reused = FirstUnused(space, obj, {}, 0)
    reused.suggest(first, 1)
    fresh = FirstUnused(space, obj, {}, 0)
    answer = reused.suggest(second, 3)
    assert answer == fresh.suggest(second, 3) == [{"x": 1}, {"x": 6}, {"x": 7}]
