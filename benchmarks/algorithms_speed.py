"""Time per suggestion of katibsim's Katib-named algorithms, and katibsim's overhead over the library.

For each algorithm in ``REGISTRY`` (name -> (build the katibsim plugin, build a direct driver)),
both are driven over the same history to 10, 50 and 200 observations, then timed on the next
``--calls`` requests of one trial each (every call tells the trial of the previous one, as a
live Katib pod is told). The direct driver calls the library the way Katib's service does, with
no katibsim in between (no history conversion, no host checks); the overhead column is
katibsim's time over the driver's, in the same run. Add an algorithm by adding a registry entry.

    .venv/bin/python benchmarks/algorithms_speed.py [--calls 15] [--sizes 10 50 200]
"""

from __future__ import annotations

import argparse
import logging
import math
import time
import warnings
from collections import defaultdict
from typing import Any, Callable

import hyperopt
import numpy as np
import optuna
from hyperopt import hp

from katibsim.algorithm import ObjectiveInfo, Trial, TrialCondition
from katibsim.suggest_check import checked_suggest
from katibsim.spec.model import FeasibleSpace, ParameterSpec
from katibsim.spec.space import SearchSpace
from katibsim_plugins.katib_hyperopt.plugin import KatibRandom, KatibTpe
from katibsim_plugins.katib_optuna.plugin import KatibGrid, KatibMultivariateTpe

logging.getLogger("optuna").setLevel(logging.ERROR)
warnings.simplefilter("ignore")

SPACE = SearchSpace.from_specs([
    ParameterSpec("lr", "double", FeasibleSpace(min="0.01", max="0.1")),
    ParameterSpec("layers", "int", FeasibleSpace(min="1", max="8")),
    ParameterSpec("optimizer", "categorical", FeasibleSpace(list=("sgd", "adam", "ftrl"))),
])
GRID_SPACE = SearchSpace.from_specs([
    ParameterSpec("lr", "double", FeasibleSpace(min="0.01", max="0.5", step="0.01")),  # 50 values
    ParameterSpec("layers", "int", FeasibleSpace(min="1", max="8")),
    ParameterSpec("optimizer", "categorical", FeasibleSpace(list=("sgd", "adam", "ftrl"))),
])
OBJECTIVE = ObjectiveInfo("loss", maximize=False)
SEED = 3


def loss(a: dict) -> float:
    return (float(a["lr"]) - 0.03) ** 2 * 100 + abs(int(a["layers"]) - 3) + (a["optimizer"] != "adam")


class Plugin:
    """katibsim's side: the whole history each call, through the host's checked_suggest."""

    def __init__(self, alg) -> None:
        self.alg = alg
        self.history: list[Trial] = []

    def step(self) -> dict:
        (a,) = checked_suggest(self.alg, tuple(self.history), 1).assignments
        self.history.append(Trial(f"t{len(self.history)}", a, TrialCondition.SUCCEEDED, loss(a)))
        return a


class HyperoptDriver:
    """hyperopt called as Katib's service does: DONE docs told, one rstate seed per call."""

    def __init__(self, algorithm: str) -> None:
        space = {"lr": hp.uniform("lr", 0.01, 0.1), "layers": hp.quniform("layers", 1.0, 8.0, 1.0),
                 "optimizer": hp.choice("optimizer", ["sgd", "adam", "ftrl"])}
        self.domain = hyperopt.Domain(None, space, pass_expr_memo_ctrl=None)
        self.trials = hyperopt.Trials()
        self.rstate = np.random.RandomState(SEED)
        self.fn = hyperopt.tpe.suggest if algorithm == "tpe" else hyperopt.rand.suggest
        self.algorithm = algorithm
        self.first = True
        self.pending: dict | None = None

    def step(self) -> dict:
        if self.pending is not None:
            a, vals = self.pending
            tid = self.trials.new_trial_ids(1)[0]
            misc = {"tid": tid, "cmd": self.domain.cmd, "workdir": self.domain.workdir,
                    "idxs": {k: [tid] for k in vals}, "vals": vals}
            docs = hyperopt.Trials().new_trial_docs([tid], [{"trial-name": str(tid)}],
                                                    [{"loss": loss(a), "status": "ok"}], [misc])
            docs[0]["state"] = hyperopt.JOB_STATE_DONE
            self.trials.insert_trial_docs(docs)
            self.trials.refresh()
        ids = self.trials.new_trial_ids(1)
        seed = self.rstate.randint(2**31 - 1)
        if self.algorithm == "tpe":
            doc = self.fn(ids, self.domain, self.trials, seed, n_startup_jobs=1)[0]
        else:
            doc = self.fn(ids, self.domain, self.trials, seed)[0]
        v = doc["misc"]["vals"]
        a = {"lr": float(v["lr"][0]), "layers": int(v["layers"][0]),
             "optimizer": ["sgd", "adam", "ftrl"][v["optimizer"][0]]}
        # Katib tells a list parameter by its index in the list, a Python int.
        self.pending = (a, {"lr": [a["lr"]], "layers": [a["layers"]], "optimizer": [int(v["optimizer"][0])]})
        return a


class OptunaDriver:
    """Optuna called as Katib's service does: ask with fixed distributions, tell by number."""

    def __init__(self, sampler, grid: bool) -> None:
        self.study = optuna.create_study(sampler=sampler)
        lr = (optuna.distributions.FloatDistribution(0.01, 0.5, step=0.01) if grid
              else optuna.distributions.FloatDistribution(0.01, 0.1))
        self.dists = {"lr": lr, "layers": optuna.distributions.IntDistribution(1, 8, step=1),
                      "optimizer": optuna.distributions.CategoricalDistribution(["sgd", "adam", "ftrl"])}
        self.pending: tuple[int, dict] | None = None

    def step(self) -> dict:
        if self.pending is not None:
            number, a = self.pending
            try:
                self.study.tell(number, loss(a))
            except RuntimeError:  # the grid's study.stop(): not reached at these sizes
                pass
        trial = self.study.ask(fixed_distributions=self.dists)
        self.pending = (trial.number, dict(trial.params))
        return dict(trial.params)


def grid_combinations() -> dict:
    lr = np.arange(0.01, 0.5 + 0.01, 0.01)
    return {"lr": list(lr[lr <= 0.5]), "layers": list(range(1, 9)), "optimizer": ["sgd", "adam", "ftrl"]}


REGISTRY: dict[str, tuple[Callable[[], Any], Callable[[], Any]]] = {
    "random": (lambda: Plugin(KatibRandom(SPACE, OBJECTIVE, {"random_state": str(SEED)})),
               lambda: HyperoptDriver("random")),
    "tpe": (lambda: Plugin(KatibTpe(SPACE, OBJECTIVE, {"random_state": str(SEED)})),
            lambda: HyperoptDriver("tpe")),
    "grid": (lambda: Plugin(KatibGrid(GRID_SPACE, OBJECTIVE, {"random_state": str(SEED)}, max_trial_count=1200)),
             lambda: OptunaDriver(optuna.samplers.GridSampler(grid_combinations(), seed=SEED), grid=True)),
    "multivariate-tpe": (
        lambda: Plugin(KatibMultivariateTpe(SPACE, OBJECTIVE, {"random_state": str(SEED)})),
        lambda: OptunaDriver(optuna.samplers.TPESampler(seed=SEED, multivariate=True, constant_liar=True),
                             grid=False)),
}


def time_at(runners: list, n: int, calls: int) -> list[float]:
    """Median seconds per suggestion of each runner over ``calls`` requests after ``n``
    observations. The runners take turns call by call, so a busy machine slows both alike; the
    median keeps outliers out; the history grows by one trial per request."""
    for _ in range(n):
        for r in runners:
            r.step()
    times: list[list[float]] = [[] for _ in runners]
    for _ in range(calls):
        for r, t in zip(runners, times):
            t0 = time.perf_counter()
            r.step()
            t.append(time.perf_counter() - t0)
    return [float(np.median(t)) for t in times]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=15)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 50, 200])
    parser.add_argument("--algorithms", nargs="+", default=list(REGISTRY))
    args = parser.parse_args(argv)
    print(f"{'algorithm':<18} {'observations':>12} {'katibsim ms':>12} {'direct ms':>10} {'overhead':>9}")
    for name in args.algorithms:
        build_plugin, build_direct = REGISTRY[name]
        for n in args.sizes:
            ours, direct = time_at([build_plugin(), build_direct()], n, args.calls)
            print(f"{name:<18} {n:>12} {ours * 1e3:>12.2f} {direct * 1e3:>10.2f} {ours / direct - 1:>+9.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
