"""The engine's fast paths give what the general code gives (they exist for the engine benchmark)."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from katibsim.backends.sim import SimBackend
from katibsim.engine.arithmetic import TrialsDecision, observe_metric, reconcile_trials
from katibsim.engine.clock import EventQueue
from katibsim.engine.controller import _metric, _observe_logs
from katibsim.engine.run import simulate

from engine_helpers import Line, make_experiment


def test_pop_next_is_pop_next_instant_without_due_objects():
    a: EventQueue[str] = EventQueue()
    b: EventQueue[str] = EventQueue()
    for q in (a, b):
        for t, k in [(5.0, "a"), (1.0, "b"), (5.0, "c"), (3.0, "d"), (1.0, "e")]:
            q.push(t, k, k + str(t))
        q.cancel("d")
    while True:
        due = a.pop_next_instant()
        t, pairs = b.pop_next()
        assert [(d.time, d.key, d.payload) for d in due] == [(t, k, p) for k, p in pairs]
        if not due:
            assert t is None
            break
    assert b.pop_next(until=0.0) == (None, [])


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 70), st.one_of(st.none(), st.integers(0, 200)), st.integers(0, 80), st.integers(0, 200))
def test_reconcile_trials_shared_answers_equal_fresh_ones(parallel, max_trials, active, completed):
    d = reconcile_trials(parallel, max_trials, active, completed)
    if active > parallel:
        assert d == TrialsDecision(delete=active - parallel)
    else:
        required = parallel if max_trials is None else min(parallel, max_trials - completed)
        assert d == TrialsDecision(add=max(0, required - active))


floats = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.0, -0.0, 1e-300, 0.1]))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(floats, st.sampled_from(["unavailable", "0.97", "abc"])), min_size=1, max_size=4))
def test_observe_logs_fast_paths_equal_observe_metric(values):
    logs = tuple((i + 1, v) for i, v in enumerate(values))
    fast = _observe_logs("loss", logs)
    assert fast == observe_metric("loss", values)
    m = _metric(fast)
    for got, s in ((m.min, fast.min), (m.max, fast.max), (m.latest, fast.latest)):
        try:
            want = None if s == "unavailable" else float(s)
        except ValueError:
            want = None
        assert got == want or (got is not None and want is not None and math.isnan(got) and math.isnan(want))


class EchoingBackend(SimBackend):
    """Hands out every event twice, as a real backend may (a late duplicate after a watch restart)."""

    def wait(self, deadline=None):
        events = super().wait(deadline)
        return events + events


def test_late_duplicate_events_are_ignored():
    exp = make_experiment({"parallelTrialCount": 3, "maxTrialCount": 12})
    plain = simulate(exp, Line(), seed=4, algorithm="random")
    echoed = simulate(exp, Line(), seed=4, algorithm="random", backend=EchoingBackend())
    assert echoed.to_dict() == plain.to_dict()
