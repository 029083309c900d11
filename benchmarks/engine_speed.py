"""Engine speed: simulated trials per second of `random` on a trivial objective, and how it grows.

Runs the experiment controller with the built-in ``random`` algorithm on a trivial objective
(a 2-D quadratic with a duration that varies by trial, so trials end one at a time) for 10,000 and
100,000 trials with ``parallelTrialCount: 10``, and prints trials per second for each and the
growth ratio of the times. Targets (issue 4): >= 10,000 simulated trials/s, and the 100,000-trial
run taking less than 12 x the 10,000-trial run (linear growth).

    .venv/bin/python benchmarks/engine_speed.py            # both sizes
    .venv/bin/python benchmarks/engine_speed.py --sizes 1000 --profile   # a cProfile of one run

Exit status 0 when both targets are met, 1 otherwise (so CI could gate on it; ``make bench`` runs it).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from katibsim.engine.run import simulate  # noqa: E402
from katibsim.objective import Evaluation, Objective, ObjectiveInput  # noqa: E402
from katibsim.spec.loader import experiment_from_dict  # noqa: E402

TARGET_RATE = 10_000.0
TARGET_GROWTH = 12.0


class Trivial(Objective):
    """x1² + x2², one report per trial, 50–70 simulated seconds depending on x1."""

    name = "trivial"
    metric_name = "loss"
    direction = "minimize"
    inputs = (ObjectiveInput("x1", -5.0, 5.0), ObjectiveInput("x2", -5.0, 5.0))
    optimum = 0.0

    def evaluate(self, x, rng):
        a, b = x["x1"], x["x2"]
        return Evaluation(value=a * a + b * b, duration=60.0 + 2.0 * a)


def experiment(max_trials: int):
    return experiment_from_dict({
        "apiVersion": "kubeflow.org/v1beta1",
        "kind": "Experiment",
        "metadata": {"name": "engine-speed", "namespace": "kubeflow"},
        "spec": {
            "objective": {"type": "minimize", "objectiveMetricName": "loss"},
            "algorithm": {"algorithmName": "random"},
            "parallelTrialCount": 10,
            "maxTrialCount": max_trials,
            "maxFailedTrialCount": 3,
            "parameters": [
                {"name": "x1", "parameterType": "double", "feasibleSpace": {"min": "-5", "max": "5"}},
                {"name": "x2", "parameterType": "double", "feasibleSpace": {"min": "-5", "max": "5"}},
            ],
            "trialTemplate": {
                "primaryContainerName": "objective",
                "trialParameters": [{"name": "x1", "reference": "x1"}, {"name": "x2", "reference": "x2"}],
                "trialSpec": {
                    "apiVersion": "batch/v1",
                    "kind": "Job",
                    "spec": {"template": {"spec": {
                        "containers": [{"name": "objective", "image": "busybox",
                                        "command": ["echo", "${trialParameters.x1}", "${trialParameters.x2}"]}],
                        "restartPolicy": "Never",
                    }}},
                },
            },
        },
    })


def run(n: int, seed: int = 0) -> tuple[float, int]:
    exp = experiment(n)
    t0 = time.perf_counter()
    result = simulate(exp, Trivial(), seed=seed)
    elapsed = time.perf_counter() - t0
    assert len(result.trials) == n, (len(result.trials), n)
    assert result.max_concurrent <= 10
    return elapsed, len(result.trials)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--profile", action="store_true", help="cProfile the first size and print the top entries")
    args = parser.parse_args(argv)
    if args.profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.enable()
        run(args.sizes[0])
        prof.disable()
        pstats.Stats(prof).sort_stats("cumulative").print_stats(30)
        return 0
    run(500)  # warm-up: imports, plugin loading
    times: dict[int, float] = {}
    ok = True
    print(f"engine speed: random, trivial objective, parallelTrialCount 10 (target >= {TARGET_RATE:,.0f} trials/s)")
    for n in args.sizes:
        elapsed, trials = run(n)
        times[n] = elapsed
        rate = trials / elapsed
        ok &= rate >= TARGET_RATE
        print(f"  {trials:>8,} trials  {elapsed:8.2f} s  {rate:10,.0f} trials/s  {'ok' if rate >= TARGET_RATE else 'BELOW TARGET'}")
    if len(times) >= 2:
        small, large = min(times), max(times)
        ratio = times[large] / times[small]
        scale = large / small
        limit = TARGET_GROWTH * scale / 10
        ok &= ratio < limit
        print(f"  growth: {large:,} trials took {ratio:.2f} x the {small:,}-trial run "
              f"(linear would be {scale:.0f} x; target < {limit:.0f} x)  {'ok' if ratio < limit else 'ABOVE TARGET'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
