"""``katibsim-bo`` (katibsim's own GP-BO) against Optuna GPSampler, skopt, bayes_opt and random search.

Katib's own ``bayesianoptimization`` has no row: it makes every double log-uniform, and every
domain here contains 0 or negative numbers, so Katib's service cannot run any of them (its
corrected form is skopt's ``Optimizer`` asked one point at a time: the ``skopt`` row).

Same seeds, same budget (``--evals`` evaluations, the first ``--init`` from each library's own
initial design), one thread each, one process. Prints, per function, the median / mean / 90th
percentile simple regret after the budget and the median time per suggestion made with 30-39
observations; then the time of one cold suggestion after 200 random observations on Hartmann6.

    .venv-bench/bin/python benchmarks/bo_vs_peers.py                 # the full table (30 seeds)
    .venv-bench/bin/python benchmarks/bo_vs_peers.py --seeds 5 --functions branin hartmann6
    make bench-bo

``--cache FILE`` keeps one JSON line per (method, function, seed) run so an interrupted or
repeated run only computes what is missing (delete the file after changing a method).
Needs the ``bench`` extra: ``pip install -c constraints.txt -e '.[bench]'`` (torch for GPSampler).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Callable  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from katibsim.algorithm import ObjectiveInfo, Trial, TrialCondition  # noqa: E402
from katibsim.spec.space import Parameter, ParameterType, SearchSpace  # noqa: E402
from katibsim_plugins.katibsim_bo.plugin import KatibsimBO  # noqa: E402
from katibsim_plugins.objectives import functions as F  # noqa: E402


@dataclass(frozen=True)
class Problem:
    name: str
    fn: Callable[[np.ndarray], np.ndarray]  # minimised, vectorised
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    fmin: float


def _neg_seed(X):
    return -F.seed_1d(X)


PROBLEMS = {
    p.name: p
    for p in (
        # Optimal values to full precision (L-BFGS-B polished from the known minimisers): the
        # seed function's regrets reach 1e-9, so a rounded f* would dominate them.
        Problem("branin", F.branin, (-5.0, 0.0), (10.0, 15.0), 0.39788735772973816),
        Problem("hartmann6", F.hartmann6, (0.0,) * 6, (1.0,) * 6, -3.3223680114155147),
        Problem("ackley5", F.ackley, (-32.768,) * 5, (32.768,) * 5, 0.0),
        Problem("levy4", F.levy, (-10.0,) * 4, (10.0,) * 4, 0.0),
        Problem("rosenbrock4", F.rosenbrock, (-5.0,) * 4, (10.0,) * 4, 0.0),
        Problem("styblinski_tang4", F.styblinski_tang, (-5.0,) * 4, (5.0,) * 4, -39.166165703771412 * 4),
        Problem("seed1d", _neg_seed, (-2.0,), (10.0,), -1.4018971812898668),
    )
}


class Recorder:
    """Wraps the objective: values, and the gap before each evaluation (= the suggestion time).

    Gaps are kept in wall time and in this process's CPU time: every library runs on one thread,
    so CPU time is the suggestion's cost even when other work shares the machine (wall time then
    is not).
    """

    def __init__(self, problem: Problem):
        self.problem = problem
        self.values: list[float] = []
        self.gaps: list[float] = []
        self.cpu_gaps: list[float] = []
        self.start()

    def start(self) -> None:
        self._last = time.perf_counter()
        self._last_cpu = time.process_time()

    def __call__(self, x) -> float:
        start, start_cpu = time.perf_counter(), time.process_time()
        self.gaps.append(start - self._last)
        self.cpu_gaps.append(start_cpu - self._last_cpu)
        v = float(self.problem.fn(np.asarray(x, dtype=float)[None, :])[0])
        self.values.append(v)
        self._last, self._last_cpu = time.perf_counter(), time.process_time()
        return v


# -- methods ----------------------------------------------------------------------------------------
def run_katibsim(p: Problem, seed: int, evals: int, init: int, settings: dict[str, str]) -> Recorder:
    d = len(p.lower)
    space = SearchSpace(tuple(Parameter(f"x{i}", ParameterType.DOUBLE, min=p.lower[i], max=p.upper[i]) for i in range(d)))
    algo = KatibsimBO(space, ObjectiveInfo("f", maximize=False), {"n_initial_points": str(init), **settings}, seed=seed)
    rec = Recorder(p)
    trials: list[Trial] = []
    for i in range(evals):
        a = algo.suggest(trials, 1)[0]
        v = rec([a[f"x{j}"] for j in range(d)])
        trials.append(Trial(f"t{i}", a, TrialCondition.SUCCEEDED, value=v))
    return rec


def run_optuna(p: Problem, seed: int, evals: int, init: int) -> Recorder:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    rec = Recorder(p)
    d = len(p.lower)

    def objective(trial):
        x = [trial.suggest_float(f"x{i}", p.lower[i], p.upper[i]) for i in range(d)]
        return rec(x)

    study = optuna.create_study(sampler=optuna.samplers.GPSampler(seed=seed, n_startup_trials=init))
    rec.start()
    study.optimize(objective, n_trials=evals)
    return rec


def run_skopt(p: Problem, seed: int, evals: int, init: int) -> Recorder:
    from skopt import gp_minimize

    rec = Recorder(p)
    rec.start()
    gp_minimize(rec, list(zip(p.lower, p.upper)), n_calls=evals, n_initial_points=init, random_state=seed)
    return rec


def run_bayes_opt(p: Problem, seed: int, evals: int, init: int) -> Recorder:
    from bayes_opt import BayesianOptimization as BO

    rec = Recorder(p)
    d = len(p.lower)
    bo = BO(
        f=lambda **kw: -rec([kw[f"x{i}"] for i in range(d)]),
        pbounds={f"x{i}": (p.lower[i], p.upper[i]) for i in range(d)},
        random_state=seed,
        verbose=0,
        allow_duplicate_points=True,
    )
    rec.start()
    bo.maximize(init_points=init, n_iter=evals - init)
    return rec


def run_random(p: Problem, seed: int, evals: int, init: int) -> Recorder:
    rng = np.random.default_rng(seed)
    rec = Recorder(p)
    for _ in range(evals):
        rec(rng.uniform(p.lower, p.upper))
    return rec


METHODS = {
    "katibsim-bo": None,  # needs settings; dispatched below
    "optuna_gp": run_optuna,
    "skopt": run_skopt,
    "bayes_opt": run_bayes_opt,
    "random": run_random,
}


def run_one(method: str, p: Problem, seed: int, evals: int, init: int, settings: dict[str, str]) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "katibsim-bo":
            rec = run_katibsim(p, seed, evals, init, settings)
        else:
            rec = METHODS[method](p, seed, evals, init)
    vals = np.array(rec.values[:evals])
    return {
        "method": method,
        "function": p.name,
        "seed": seed,
        "best": float(vals.min()),
        "best_20": float(vals[:20].min()),
        "gaps": rec.gaps[:evals],
        "cpu_gaps": rec.cpu_gaps[:evals],
    }


# -- 200 observations --------------------------------------------------------------------------------
def latency_200(method: str, reps: int, settings: dict[str, str]) -> list[float]:
    p = PROBLEMS["hartmann6"]
    out = []
    for rep in range(reps):
        rng = np.random.default_rng(1000 + rep)
        X = rng.uniform(0, 1, (200, 6))
        y = p.fn(X)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if method == "katibsim-bo":
                space = SearchSpace(tuple(Parameter(f"x{i}", ParameterType.DOUBLE, min=0.0, max=1.0) for i in range(6)))
                trials = [
                    Trial(f"t{i}", {f"x{j}": float(X[i, j]) for j in range(6)}, TrialCondition.SUCCEEDED, value=float(y[i]))
                    for i in range(200)
                ]
                algo = KatibsimBO(space, ObjectiveInfo("f", False), settings, seed=rep)
                t0 = time.process_time()
                algo.suggest(trials, 1)
            elif method == "optuna_gp":
                import optuna

                optuna.logging.set_verbosity(optuna.logging.ERROR)
                dists = {f"x{j}": optuna.distributions.FloatDistribution(0.0, 1.0) for j in range(6)}
                study = optuna.create_study(sampler=optuna.samplers.GPSampler(seed=rep, n_startup_trials=10))
                study.add_trials(
                    [optuna.trial.create_trial(params={f"x{j}": float(X[i, j]) for j in range(6)}, distributions=dists, value=float(y[i])) for i in range(200)]
                )
                t0 = time.process_time()
                tr = study.ask()
                for j in range(6):
                    tr.suggest_float(f"x{j}", 0.0, 1.0)
            elif method == "skopt":
                from skopt import Optimizer

                opt = Optimizer([(0.0, 1.0)] * 6, base_estimator="GP", n_initial_points=10, acq_func="gp_hedge", acq_optimizer="auto", random_state=rep)
                t0 = time.process_time()
                opt.tell(X.tolist(), y.tolist())
                opt.ask()
            elif method == "bayes_opt":
                from bayes_opt import BayesianOptimization as BO

                bo = BO(f=None, pbounds={f"x{j}": (0.0, 1.0) for j in range(6)}, random_state=rep, verbose=0, allow_duplicate_points=True)
                for i in range(200):
                    bo.register(params={f"x{j}": float(X[i, j]) for j in range(6)}, target=-float(y[i]))
                t0 = time.process_time()
                bo.suggest()
            else:
                continue
            out.append(time.process_time() - t0)
    return out


# -- report ------------------------------------------------------------------------------------------
def summarise(rows: list[dict], methods: list[str], functions: list[str], init: int) -> dict:
    table: dict = {}
    for fn in functions:
        for m in methods:
            rs = [r for r in rows if r["method"] == m and r["function"] == fn]
            if not rs:
                continue
            fmin = PROBLEMS[fn].fmin
            reg = np.array([r["best"] - fmin for r in rs])
            gaps = [g for r in rs for g in r["gaps"][30:40]]  # evaluations 31-40: 30-39 observations
            cpu = [g for r in rs for g in r["cpu_gaps"][30:40]]
            table[(fn, m)] = {
                "n": len(rs),
                "median": float(np.median(reg)),
                "mean": float(np.mean(reg)),
                "p90": float(np.percentile(reg, 90)),
                "median_20": float(np.median([r["best_20"] - fmin for r in rs])),
                "time_ms": float(np.median(gaps) * 1000) if gaps and m != "random" else float("nan"),
                "cpu_ms": float(np.median(cpu) * 1000) if cpu and m != "random" else float("nan"),
            }
    return table


def render(table: dict, methods: list[str], functions: list[str]) -> str:
    lines = [
        "| function | method | seeds | median regret | mean regret | p90 regret | median @20 | CPU ms/suggestion (30-39 obs) | wall ms |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for fn in functions:
        for m in methods:
            t = table.get((fn, m))
            if t is None:
                continue
            ms = "–" if math.isnan(t["time_ms"]) else f"{t['time_ms']:.1f}"
            cms = "–" if math.isnan(t["cpu_ms"]) else f"{t['cpu_ms']:.1f}"
            lines.append(f"| {fn} | {m} | {t['n']} | {t['median']:.3g} | {t['mean']:.3g} | {t['p90']:.3g} | {t['median_20']:.3g} | {cms} | {ms} |")
    return "\n".join(lines)


def verdict(table: dict, functions: list[str], peers: list[str]) -> str:
    lines = ["| function | katibsim-bo / best peer, median | mean | CPU time vs optuna_gp |", "|---|---|---|---|"]
    for fn in functions:
        k = table.get((fn, "katibsim-bo"))
        if k is None:
            continue
        ps = [table[(fn, m)] for m in peers if (fn, m) in table and m not in ("katibsim-bo", "random")]
        if not ps:
            continue
        bm = min(p["median"] for p in ps)
        bmean = min(p["mean"] for p in ps)
        o = table.get((fn, "optuna_gp"))
        speed = f"{k['cpu_ms'] / o['cpu_ms']:.2f}x" if o and o["cpu_ms"] > 0 else "–"
        lines.append(f"| {fn} | {k['median']:.3g} / {bm:.3g} | {k['mean']:.3g} / {bmean:.3g} | {speed} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=30, help="number of seeds (0..N-1)")
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--evals", type=int, default=40)
    ap.add_argument("--init", type=int, default=10)
    ap.add_argument("--functions", nargs="*", default=list(PROBLEMS))
    ap.add_argument("--methods", nargs="*", default=list(METHODS))
    ap.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="katibsim-bo settings")
    ap.add_argument("--latency-reps", type=int, default=5, help="repetitions of the 200-observation timing (0: skip)")
    ap.add_argument("--cache", type=Path, default=None, help="JSON-lines file of finished runs (resume)")
    ap.add_argument("--json", type=Path, default=None, help="write the summary here")
    args = ap.parse_args(argv)
    settings = dict(s.split("=", 1) for s in args.set)

    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover - GPSampler then fails with its own message
        pass

    done: dict = {}
    if args.cache and args.cache.exists():
        for line in args.cache.read_text().splitlines():
            r = json.loads(line)
            done[(r["method"], r["function"], r["seed"])] = r
    rows = []
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    t_start = time.time()
    for fn in args.functions:
        p = PROBLEMS[fn]
        for m in args.methods:
            for s in seeds:
                key = (m, fn, s)
                if key in done:
                    rows.append(done[key])
                    continue
                r = run_one(m, p, s, args.evals, args.init, settings)
                rows.append(r)
                if args.cache:
                    with args.cache.open("a") as fh:
                        fh.write(json.dumps(r) + "\n")
            print(f"# {fn} {m} done ({time.time() - t_start:.0f} s)", file=sys.stderr, flush=True)

    table = summarise(rows, args.methods, args.functions, args.init)
    print(f"# machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cpu, Python {platform.python_version()}; one thread per library")
    print(f"# {args.seeds} seeds x {args.evals} evaluations ({args.init} initial); katibsim-bo settings {settings or 'defaults'}\n")
    print(render(table, args.methods, args.functions))
    print()
    print(verdict(table, args.functions, args.methods))
    lat = {}
    if args.latency_reps > 0:
        print("\n| one suggestion after 200 observations, Hartmann6 | median CPU s | min..max |\n|---|---|---|")
        for m in args.methods:
            ts = latency_200(m, args.latency_reps, settings)
            if ts:
                lat[m] = ts
                print(f"| {m} | {np.median(ts):.3f} | {min(ts):.3f}..{max(ts):.3f} |")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "settings": settings,
                    "table": {f"{fn}|{m}": v for (fn, m), v in table.items()},
                    "latency_200": lat,
                },
                indent=1,
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
