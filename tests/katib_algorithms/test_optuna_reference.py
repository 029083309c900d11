"""grid and multivariate-tpe answer what Optuna 3.3.0 answers when called the way Katib's service calls it.

The reference driver is written from Katib's optuna ``base_service.py`` directly on Optuna: one
study per pod, each asked trial keyed by its sorted ``name:value`` string, only Succeeded /
EarlyStopped trials told (failed ones stay RUNNING in the study).
"""

from __future__ import annotations

import logging
import warnings
from collections import defaultdict

import numpy as np
import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from katibsim.suggest_check import checked_suggest
from katibsim_plugins.katib_optuna.plugin import KatibGrid, KatibMultivariateTpe
from helpers import MAXIMIZE, MINIMIZE, MIXED, Katib, drive, space

logging.getLogger("optuna").setLevel(logging.ERROR)

GRID_SPACE = space(
    ("lr", "double", {"min": "0.01", "max": "0.05", "step": "0.01"}),
    ("layers", "int", {"min": "1", "max": "3"}),
    ("optimizer", "categorical", {"list": ["sgd", "adam"]}),
)  # 5 * 3 * 2 = 30 combinations


class ReferencePod:
    def __init__(self, sampler, distributions, maximize: bool):
        self.study = optuna.create_study(sampler=sampler, direction="maximize" if maximize else "minimize")
        self.distributions = distributions
        self.numbers: dict[str, list[int]] = defaultdict(list)
        self.seen: set[str] = set()

    @staticmethod
    def key(a: dict) -> str:
        return ",".join(f"{k}:{a[k]}" for k in sorted(a))

    def call(self, told, count: int) -> list[dict]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for name, a, value in told:
                if name in self.seen:
                    continue
                self.seen.add(name)
                strings = {k: str(v) for k, v in a.items()}
                self.study.tell(self.numbers[self.key(strings)].pop(0), value)
            out = []
            for _ in range(count):
                trial = self.study.ask(fixed_distributions=self.distributions)
                self.numbers[self.key(trial.params)].append(trial.number)
                out.append(dict(trial.params))
        return out


def typed(answers, ints=(), discrete=()):
    return [{k: (int(v) if k in discrete else v) for k, v in a.items()} for a in answers]


@pytest.mark.parametrize("objective", [MINIMIZE, MAXIMIZE])
def test_grid_equals_gridsampler_called_like_katib(objective):
    combos = {"lr": list(np.arange(0.01, 0.05 + 0.01, 0.01)), "layers": list(range(1, 4)), "optimizer": ["sgd", "adam"]}
    if combos["lr"][-1] > 0.05:
        combos["lr"] = combos["lr"][:-1]
    dists = {"lr": FloatDistribution(0.01, 0.05, step=0.01), "layers": IntDistribution(1, 3, step=1),
             "optimizer": CategoricalDistribution(["sgd", "adam"])}
    ref = ReferencePod(optuna.samplers.GridSampler(combos, seed=5), dists, objective.maximize)
    alg = KatibGrid(GRID_SPACE, objective, {"random_state": "5"}, seed=1, max_trial_count=20)
    counts = [3, 2, 1, 3, 2, 4, 1]
    ours = drive(lambda h, c: list(checked_suggest(alg, h, c).assignments), counts, Katib())
    katib = Katib()
    theirs = drive(lambda h, c: ref.call(katib.told(), c), counts, katib)
    assert ours == theirs
    assert ours[0][0]["lr"] in combos["lr"]  # the arange value itself, artefacts included


@pytest.mark.parametrize("objective", [MINIMIZE, MAXIMIZE])
@pytest.mark.parametrize("settings", [{"random_state": "4"}, {"random_state": "9", "n_startup_trials": "3",
                                                               "n_ei_candidates": "6"}])
def test_multivariate_tpe_equals_tpesampler_called_like_katib(objective, settings):
    import math
    dists = {"lr": FloatDistribution(0.01, 0.1), "decay": FloatDistribution(0.0001, 0.1, log=True),
             "layers": IntDistribution(1, 5, step=1), "batch": CategoricalDistribution(["16", "32", "64"]),
             "optimizer": CategoricalDistribution(["sgd", "adam", "ftrl"])}
    kw = {k: int(v) for k, v in settings.items() if k != "random_state"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sampler = optuna.samplers.TPESampler(seed=int(settings["random_state"]), multivariate=True,
                                             constant_liar=True, **kw)
    ref = ReferencePod(sampler, dists, objective.maximize)
    alg = KatibMultivariateTpe(MIXED, objective, settings, seed=1)
    counts = [3, 2, 1, 3, 2, 4, 1, 2]
    ours = drive(lambda h, c: list(checked_suggest(alg, h, c).assignments), counts, Katib())
    katib = Katib()
    theirs = drive(lambda h, c: [{**a, "batch": int(a["batch"])} for a in ref.call(katib.told(), c)], counts, katib)
    assert ours == theirs
    assert not math.isnan(ours[-1][0]["lr"])
