"""Katib's bayesianoptimization answers exactly what skopt's Optimizer answers when called as Katib calls it.

The reference below is written from Katib's ``base_service.py`` for this test alone: it builds
the Optimizer from Katib's converted space, and on every call tells the Succeeded / EarlyStopped
trials it has not recorded (only when their number grew), then asks ``n_points``. The plugin is
driven through the same rounds — history growing, trials Failed, MetricsUnavailable,
EarlyStopped, still Running — and every answer must be the reference's, string for string.
"""

from __future__ import annotations

import pytest
import skopt
from skopt.space import Categorical, Integer, Real

from katibsim.suggest_check import checked_suggest

from katibsim_plugins.katib_skopt import compat
from skopt_helpers import E, F, M, MIXED, S, build, drive

ROUNDS = [
    (3, [S, F]),           # one told, one failed: the replacement is asked alone
    (2, [S]),
    (1, [M, S, S]),
    (2, [E, S]),
    (3, [F, F, S]),
    (3, [S, S, S]),
    (3, [S, S]),
    (2, [S, F, S]),
    (2, []),
]


class Reference:
    """Katib's BaseSkoptService, re-read for the test (no katibsim code)."""

    def __init__(self, maximize: bool, **kwargs):
        compat.install()  # skopt 0.10.2's GBRT on this numpy / scikit-learn (environment, not logic)
        dims = [Real(0.001, 0.1, "log-uniform", name="lr"), Integer(1, 8, name="layers"),
                Categorical(["sgd", "adam", "ftrl"], name="opt"), Categorical(["16", "32", "64"], name="batch")]
        self.optimizer = skopt.Optimizer(dims, **kwargs)
        self.maximize = maximize
        self.succeeded = 0
        self.names: list[str] = []

    def get_suggestions(self, trials, n):
        good = [t for t in trials if t.condition in (S, E) and t.value is not None]
        if len(good) > self.succeeded or self.succeeded == 0:
            self.succeeded = len(good)
            xs, ys = [], []
            for t in good:
                if t.name in self.names:
                    continue
                self.names.append(t.name)
                a = t.assignment
                xs.append([float(str(a["lr"])), int(str(a["layers"])), str(a["opt"]), str(a["batch"])])
                ys.append(-float(t.value) if self.maximize else float(t.value))
            if xs and ys:
                self.optimizer.tell(xs, ys)
        return [tuple(str(v) for v in point) for point in self.optimizer.ask(n_points=n)]


# skopt's GP refits its kernel (scikit-learn, ~1 s) on every tell and on every lie of ask(n):
# the default suite takes short runs that still reach the model; the long matrix is `slow`.
SHORT = [(2, [S, F]), (1, [S, S]), (2, [M, S]), (1, [S]), (1, [])]
FAST = [
    ({"base_estimator": "GP", "n_initial_points": "2", "acq_func": "EI", "acq_optimizer": "sampling"}, True),
    ({"base_estimator": "RF", "n_initial_points": "2", "acq_func": "LCB"}, False),
    ({"base_estimator": "GBRT", "n_initial_points": "2", "acq_func": "gp_hedge"}, False),
]
CASES = [
    ({}, False),
    ({"base_estimator": "GP", "n_initial_points": "3", "acq_func": "EI"}, True),
    ({"base_estimator": "GP", "n_initial_points": "4", "acq_func": "gp_hedge", "acq_optimizer": "sampling"}, False),
    ({"base_estimator": "RF", "n_initial_points": "3", "acq_func": "LCB"}, False),
    ({"base_estimator": "ET", "n_initial_points": "2", "acq_func": "PI"}, True),
    ({"base_estimator": "GBRT", "n_initial_points": "3"}, False),
]


@pytest.mark.parametrize("settings,maximize", FAST, ids=[s["base_estimator"] for s, _ in FAST])
def test_every_answer_is_the_reference_answer(settings, maximize):
    _compare(settings, maximize, SHORT)


@pytest.mark.slow
@pytest.mark.parametrize("settings,maximize", CASES, ids=[str(s) or "defaults" for s, _ in CASES])
def test_every_answer_is_the_reference_answer_long_runs(settings, maximize):
    _compare(settings, maximize, ROUNDS)


def _compare(settings, maximize, rounds):
    alg = build(settings=settings, seed=11, maximize=maximize)
    plugin_answers, _ = drive(lambda h, n: list(checked_suggest(alg, h, n).assignments), rounds)

    kwargs = {"base_estimator": settings.get("base_estimator", "GP"),
              "n_initial_points": int(settings.get("n_initial_points", 10)),
              "acq_func": settings.get("acq_func", "gp_hedge"),
              "acq_optimizer": settings.get("acq_optimizer", "auto"),
              "random_state": int(settings.get("random_state", 11))}
    ref = Reference(maximize, **kwargs)
    # The reference sees the same histories: replay them from the plugin's own answers.
    ref_answers = []
    it = iter(plugin_answers)

    def ref_suggest(history, n):
        ref_answers.append(ref.get_suggestions(history, n))
        return next(it)

    drive(ref_suggest, rounds)
    got = [[MIXED.key(a) for a in answer] for answer in plugin_answers]
    assert got == ref_answers
    assert sum(len(a) for a in got) == sum(n for n, _ in rounds)
    # The rounds reach the model-based phase for every case with few initial points.
    if int(settings.get("n_initial_points", 10)) <= 4:
        assert alg.service.model_points > 0


def test_random_state_is_skopts_seed_and_unset_uses_the_run_seed():
    a = build(settings={"random_state": "5"}, seed=1)
    b = build(settings={"random_state": "5"}, seed=2)
    c = build(settings={}, seed=5)
    answers = [[MIXED.key(x) for x in alg.suggest((), 3)] for alg in (a, b, c)]
    assert answers[0] == answers[1] == answers[2]
    ref = skopt.Optimizer([Real(0.001, 0.1, "log-uniform"), Integer(1, 8), Categorical(["sgd", "adam", "ftrl"]),
                           Categorical(["16", "32", "64"])], random_state=5)
    assert answers[0] == [tuple(str(v) for v in p) for p in ref.ask(n_points=3)]
