"""The engine's history and HistoryKeys: a versioned history is read incrementally, and the keys are
always exactly those of the trials it holds."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from katibsim.algorithm import HistoryKeys, Trial, TrialCondition
from katibsim.engine.controller import History
from katibsim.spec.space import Parameter, ParameterType, SearchSpace

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
    assert h.epoch != e and [t.name for t in h] == ["t0"]
    e = h.epoch
    h.compact()  # nothing to remove
    assert h.epoch == e


def test_versioned_history_is_read_incrementally_and_rebuilt_after_a_removal():
    key = CountingKey()
    keys = HistoryKeys(SPACE, key=key)
    h = History()
    for i in range(100):
        h.add(trial(i, i))
    assert keys.update(h) is False and key.calls == 100
    h.put(trial(50, 50, TrialCondition.SUCCEEDED))
    h.add(trial(100, 100))
    assert keys.update(h) is False and key.calls == 101  # only the new trial
    h.drop("t3")
    h.compact()
    assert keys.update(h) is True and key.calls == 101 + 100  # a removal: rebuilt from scratch
    assert ("3",) not in keys.keys and len(keys.keys) == 100
    # Another sequence (a copy of the same trials) is probed, not trusted by identity.
    assert keys.update(list(h)) is True  # the last update was versioned: no probes to compare with
    assert keys.update(list(h) + [trial(200, 200)]) is False
    assert keys.keys == {SPACE.key(t.assignment) for t in h} | {("200",)}


def test_a_different_history_object_is_not_mistaken_for_the_one_seen():
    keys = HistoryKeys(SPACE)
    a, b = History(), History()
    for i in range(5):
        a.add(trial(i, i))
        b.add(trial(i, 10 + i))
    keys.update(a)
    assert keys.update(b) is True  # same epoch, same length, another object
    assert keys.keys == {(str(10 + i),) for i in range(5)}


ops = st.lists(st.tuples(st.sampled_from(["add", "put", "drop", "update"]), st.integers(0, 30)), max_size=60)


@settings(max_examples=80, deadline=None)
@given(ops)
def test_keys_are_always_those_of_the_history(steps):
    h = History()
    keys = HistoryKeys(SPACE)
    probed = HistoryKeys(SPACE)  # the same history seen as plain tuples (the probing path)
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
            h.compact()
            keys.update(h)
            probed.update(tuple(h))
            want = {SPACE.key(t.assignment) for t in h}
            assert keys.keys == want and probed.keys == want


def test_final_put_forgets_the_position_and_compaction_keeps_the_others():
    h = History()
    for i in range(4):
        h.add(trial(i, i))
    h.put(trial(1, 1, TrialCondition.SUCCEEDED), final=True)
    h.drop("t0")
    h.compact()
    assert [t.name for t in h] == ["t1", "t2", "t3"] and h[0].condition == TrialCondition.SUCCEEDED
    h.put(trial(3, 3, TrialCondition.FAILED), final=True)  # positions of running trials survive compaction
    h.drop("t2")
    h.compact()
    assert [(t.name, t.condition) for t in h] == [("t1", TrialCondition.SUCCEEDED), ("t3", TrialCondition.FAILED)]
    assert h._pos == {}
