"""Which mean model ``from-trials`` uses: the Gaussian process against the random forest, measured.

Cross-validates both candidates (10 folds, fixed; see ``plugins/from_trials/quality.py``) on the
shipped real trials (``examples/workload/trials.yaml``, 80 runs of the tiny MNIST-style trainer)
and on three synthetic tables with known structure and noise: Branin with heavy noise, Branin with
few trials, and a 4-D quadratic with a categorical offset. Prints Spearman, RMSE, MAE and the
80%/95% interval coverage of held-out trials per table and model; ``docs/surrogate.md`` records the
numbers and the choice.

    .venv/bin/python benchmarks/surrogate_choice.py
    .venv/bin/python benchmarks/surrogate_choice.py --trials path/to/trials.yaml --experiment exp.yaml
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from katibsim.spec.space import Parameter, ParameterType, SearchSpace  # noqa: E402
from katibsim.workload.table import ObservedTrial, TrialTable  # noqa: E402
from katibsim_plugins.from_trials.quality import cross_validate  # noqa: E402
from katibsim_plugins.from_trials.surrogate import fit_table  # noqa: E402


def branin(x: np.ndarray, _: str) -> float:
    a, b = 15 * x[0] - 5, 15 * x[1]
    return (b - 5.1 / (4 * math.pi ** 2) * a ** 2 + 5 / math.pi * a - 6) ** 2 + 10 * (1 - 1 / (8 * math.pi)) * math.cos(a) + 10


def quadratic(x: np.ndarray, c: str) -> float:
    return float(np.sum((x - 0.3) ** 2)) * 10 + {"a": 0.0, "b": 1.0, "c": 2.5}[c]


def synthetic(name: str, f, n: int, d: int, noise: float, seed: int, categorical: bool = False) -> TrialTable:
    rng = np.random.default_rng(seed)
    params = [Parameter(f"x{i}", ParameterType.DOUBLE, 0.0, 1.0) for i in range(d)]
    if categorical:
        params.append(Parameter("opt", ParameterType.CATEGORICAL, values=("a", "b", "c")))
    trials = []
    for k in range(n):
        x = rng.random(d)
        c = "abc"[int(rng.integers(3))] if categorical else "a"
        assignment = {f"x{i}": repr(float(x[i])) for i in range(d)}
        if categorical:
            assignment["opt"] = c
        trials.append(ObservedTrial(f"t{k}", assignment, "Succeeded", float(f(x, c) + noise * rng.standard_normal())))
    return TrialTable(name, "y", "minimize", SearchSpace(tuple(params)), tuple(trials))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", default=str(ROOT / "examples/workload/trials.yaml"))
    parser.add_argument("--experiment", default=str(ROOT / "examples/workload/experiment.yaml"))
    args = parser.parse_args(argv)
    from katibsim.workload.readers import read_trials

    experiment = args.experiment if Path(args.experiment).exists() else None
    tables = [
        read_trials(args.trials, experiment=experiment),
        synthetic("branin, 60 trials, noise sd 5", branin, 60, 2, 5.0, 1),
        synthetic("branin, 30 trials, noise sd 1", branin, 30, 2, 1.0, 3),
        synthetic("4-D quadratic + categorical, 80 trials, noise sd 0.3", quadratic, 80, 4, 0.3, 2, categorical=True),
    ]
    print(f"{'table':55s} {'model':6s} {'n':>3s} {'spearman':>8s} {'rmse':>9s} {'mae':>9s} {'cov80':>5s} {'cov95':>5s}  seconds")
    for table in tables:
        s = fit_table(table, "forest")
        for kind in ("gp", "forest"):
            t0 = time.process_time()
            q = cross_validate(s.X, s.y, kind)
            name = table.source if table is not tables[0] else f"real trials: {Path(args.trials).name}"
            print(f"{name:55s} {kind:6s} {q.trials:3d} {q.spearman:8.3f} {q.rmse:9.4g} {q.mae:9.4g} "
                  f"{q.coverage80:5.2f} {q.coverage95:5.2f}  {time.process_time() - t0:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
