"""Engine speed: simulated trials per second of `random` on a trivial objective, and how it grows.

Runs the experiment controller with the built-in ``random`` algorithm on a trivial objective
(a 2-D quadratic with a duration that varies by trial, so trials end one at a time) for 10,000 and
100,000 trials with ``parallelTrialCount: 10``, and prints trials per second for each and the
growth ratio of the times. Targets (issue 4): >= 10,000 simulated trials/s, and the 100,000-trial
run taking less than 12 x the 10,000-trial run (linear growth).

    .venv/bin/python benchmarks/engine_speed.py            # both sizes
    .venv/bin/python benchmarks/engine_speed.py --sizes 1000 --profile   # a cProfile of one run

Rates are measured on this process's CPU time (the engine's own cost; the fastest of
``--repeat`` runs for the smallest size) and also shown on wall time, which on a shared machine
counts everything else it runs. With ``--check`` the exit status is 1 when a target is missed (on CPU
time); without it the benchmark only reports, so ``make bench`` goes on to the other benchmarks.
"""

from __future__ import annotations

import argparse
import os
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


def run(n: int, seed: int = 0) -> tuple[float, float, int]:
    """One run of ``n`` trials: (wall seconds, CPU seconds of this process, trials)."""
    exp = experiment(n)
    w0, c0 = time.perf_counter(), time.process_time()
    result = simulate(exp, Trivial(), seed=seed)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    assert len(result.trials) == n, (len(result.trials), n)
    assert result.max_concurrent <= 10
    return wall, cpu, len(result.trials)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3, help="runs of the smallest size; the fastest counts (default 3)")
    parser.add_argument("--profile", action="store_true", help="cProfile the first size and print the top entries")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed (default: report only)")
    args = parser.parse_args(argv)
    if args.profile:
        import cProfile
        import pstats

        run(500)  # warm-up outside the profile: imports and plugin loading are not the engine's cost
        prof = cProfile.Profile()
        prof.enable()
        run(args.sizes[0])
        prof.disable()
        pstats.Stats(prof).sort_stats("tottime").print_stats(30)
        return 0
    run(500)  # warm-up: imports, plugin loading
    sizes = sorted(args.sizes)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"engine speed: random, trivial objective, parallelTrialCount 10 (target >= {TARGET_RATE:,.0f} trials/s); "
          f"{os.cpu_count()} CPUs, load average {load:.1f}")
    print("  CPU time is this process's own (what the engine costs); wall time also counts whatever else "
          "the machine runs")
    cpu_times: dict[int, float] = {}
    ok = True
    for n in sizes:
        runs = [run(n) for _ in range(args.repeat if n == sizes[0] else 1)]
        wall, cpu, trials = min(runs, key=lambda r: r[1])
        cpu_times[n] = cpu
        rate, wall_rate = trials / cpu, trials / wall
        ok &= rate >= TARGET_RATE
        print(f"  {trials:>8,} trials  CPU {cpu:7.2f} s = {rate:8,.0f} trials/s   wall {wall:7.2f} s = {wall_rate:8,.0f} trials/s"
              f"   {'ok' if rate >= TARGET_RATE else 'BELOW TARGET'}")
    if len(cpu_times) >= 2:
        small, large = sizes[0], sizes[-1]
        ratio = cpu_times[large] / cpu_times[small]
        scale = large / small
        limit = TARGET_GROWTH * scale / 10
        ok &= ratio < limit
        print(f"  growth: {large:,} trials took {ratio:.2f} x the CPU time of {small:,} "
              f"(linear would be {scale:g} x; target < {limit:g} x)  {'ok' if ratio < limit else 'ABOVE TARGET'}")
    return 0 if ok or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
