"""random and tpe answer what hyperopt 0.2.5 answers when called step by step the way Katib's service calls it.

The reference driver below is written from Katib's ``base_service.py`` directly on hyperopt, not
from katibsim's model: one ``FMinIter`` per pod, told trials inserted as DONE docs, one
``rstate.randint`` seed per call, tpe's first call batched with ``n_startup_jobs`` = count.
"""

from __future__ import annotations

import math

import hyperopt
import numpy as np
import pytest
from hyperopt import hp

from katibsim.suggest_check import checked_suggest
from katibsim_plugins.katib_hyperopt.plugin import KatibRandom, KatibTpe
from helpers import MAXIMIZE, MINIMIZE, MIXED, Katib, drive

COUNTS = [3, 2, 1, 3, 2, 4, 1]


class ReferencePod:
    """Katib's hyperopt pod on the MIXED space, written out by hand."""

    LISTS = {"batch": ["16", "32", "64"], "optimizer": ["sgd", "adam", "ftrl"]}

    def __init__(self, algorithm: str, random_state: int, maximize: bool, **tpe_settings):
        self.algorithm = algorithm
        self.maximize = maximize
        self.settings = tpe_settings
        self.space = {
            "lr": hp.uniform("lr", 0.01, 0.1),
            "decay": hp.loguniform("decay", math.log(0.0001), math.log(0.1)),
            "layers": hp.quniform("layers", 1.0, 5.0, 1.0),
            "batch": hp.choice("batch", self.LISTS["batch"]),
            "optimizer": hp.choice("optimizer", self.LISTS["optimizer"]),
        }
        self.domain = hyperopt.Domain(None, self.space, pass_expr_memo_ctrl=None)
        self.trials = hyperopt.Trials()
        self.rstate = np.random.RandomState(random_state)
        self.first = True
        self.seen: set[str] = set()

    def call(self, told: list[tuple[str, dict, float]], count: int) -> list[dict]:
        docs = []
        for name, a, value in told:
            if name in self.seen:
                continue
            self.seen.add(name)
            tid = self.trials.new_trial_ids(1)[0]
            vals = {"lr": [float(str(a["lr"]))], "decay": [float(str(a["decay"]))], "layers": [int(a["layers"])],
                    "batch": [self.LISTS["batch"].index(str(a["batch"]))],
                    "optimizer": [self.LISTS["optimizer"].index(a["optimizer"])]}
            misc = {"tid": tid, "cmd": self.domain.cmd, "workdir": self.domain.workdir,
                    "idxs": {k: [tid] for k in vals}, "vals": vals}
            docs.append((tid, {"trial-name": name}, {"loss": -value if self.maximize else value, "status": "ok"}, misc))
        if told:
            new = hyperopt.Trials().new_trial_docs(tids=[d[0] for d in docs], specs=[d[1] for d in docs],
                                                   results=[d[2] for d in docs], miscs=[d[3] for d in docs])
            for d in new:
                d["state"] = hyperopt.JOB_STATE_DONE
            self.trials.insert_trial_docs(new)
            self.trials.refresh()
        ids = self.trials.new_trial_ids(count)
        seed = self.rstate.randint(2**31 - 1)
        if self.algorithm == "random":
            out = hyperopt.rand.suggest(ids, self.domain, self.trials, seed)
        elif self.first:
            out = hyperopt.tpe.suggest(ids, self.domain, self.trials, seed, n_startup_jobs=count, **self.settings)
            self.first = False
        else:
            out = [hyperopt.tpe.suggest([ids[i]], self.domain, self.trials, seed, n_startup_jobs=count,
                                        **self.settings)[0] for i in range(count)]
        answers = []
        for doc in out:
            v = doc["misc"]["vals"]
            # What Katib's trial runs: str() of the service's value, parsed.
            answers.append({"lr": float(str(v["lr"][0])), "decay": float(str(v["decay"][0])),
                            "layers": int(v["layers"][0]), "batch": int(self.LISTS["batch"][v["batch"][0]]),
                            "optimizer": self.LISTS["optimizer"][v["optimizer"][0]]})
        return answers


@pytest.mark.parametrize("cls, settings", [
    (KatibRandom, {"random_state": "7"}),
    (KatibTpe, {"random_state": "7"}),
    (KatibTpe, {"random_state": "11", "gamma": "0.4", "n_EI_candidates": "8", "prior_weight": "0.5"}),
])
@pytest.mark.parametrize("objective", [MINIMIZE, MAXIMIZE])
def test_same_suggestions_as_the_library_called_like_katib(cls, settings, objective):
    tpe_settings = {k: (float(v) if k in ("gamma", "prior_weight") else int(v))
                    for k, v in settings.items() if k != "random_state"}
    ref = ReferencePod(cls.name, int(settings["random_state"]), objective.maximize, **tpe_settings)
    alg = cls(MIXED, objective, settings, seed=999)
    ours = drive(lambda h, c: list(checked_suggest(alg, h, c).assignments), COUNTS, Katib())
    katib = Katib()
    theirs = drive(lambda h, c: ref.call(katib.told(), c), COUNTS, katib)
    assert ours == theirs
    assert alg.moved == 0


def test_the_run_seed_seeds_the_library_when_random_state_is_unset():
    a = KatibRandom(MIXED, MINIMIZE, {}, seed=7)
    b = KatibRandom(MIXED, MINIMIZE, {"random_state": "7"}, seed=123)
    assert a.suggest((), 5) == b.suggest((), 5)
    assert KatibRandom(MIXED, MINIMIZE, {}, seed=8).suggest((), 5) != a.suggest((), 5)


def test_a_live_pod_keeps_its_random_state_a_restarted_one_starts_again():
    live = KatibRandom(MIXED, MINIMIZE, {"random_state": "3"})
    katib = Katib()
    first = live.suggest((), 2)
    katib.add(first)
    second = live.suggest(tuple(katib.history), 2)
    restarted = KatibRandom(MIXED, MINIMIZE, {"random_state": "3"})
    # The restarted pod re-learns the history but its RandomState is back at the first seed.
    assert restarted.suggest(tuple(katib.history), 2) != second
    assert restarted.suggest((), 2) != first  # its second call: the live pod's second seed, not its first
    # Under --corrected the seed of a call follows from the history: a restart changes nothing.
    fixed_live = KatibRandom(MIXED, MINIMIZE, {"random_state": "3"})
    fixed_live.corrected = True
    k2 = Katib()
    k2.add(fixed_live.suggest((), 2))
    again = fixed_live.suggest(tuple(k2.history), 2)
    fixed_restarted = KatibRandom(MIXED, MINIMIZE, {"random_state": "3"})
    fixed_restarted.corrected = True
    assert fixed_restarted.suggest(tuple(k2.history), 2) == again
