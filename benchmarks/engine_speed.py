"""Engine speed: katibsim's simulated trials per second against Optuna's ask/tell loop, in one run.

katibsim runs the experiment controller (Katib's semantics: buckets, completion checks, the
Suggestion's requests, every answer checked by the host) with the built-in ``random`` algorithm on
a trivial 2-D objective (a quadratic with a duration that varies by trial, so trials end one at a
time), ``parallelTrialCount: 10``. The peer does the same two-parameter work the plain way: an
in-memory Optuna study, ``ask`` / ``tell`` with ``RandomSampler``, evaluating the same quadratic.
It prints both rates and their ratio (katibsim / Optuna: at least 1 is the target), and, with two
sizes, how katibsim's time grows (linear is 10 x for 10 x the trials).

    .venv/bin/python benchmarks/engine_speed.py                 # 10,000 trials
    .venv/bin/python benchmarks/engine_speed.py --sizes 10000 100000 --no-peer
    .venv/bin/python benchmarks/engine_speed.py --sizes 2000 --profile   # a cProfile of one run

Rates are on this process's CPU time (the fastest of ``--repeat`` runs); the machine is shared,
so compare the ratio, measured in the same run, rather than the absolute rates. With ``--check``
the exit status is 1 when the ratio is below 1 or the growth is above 12 x (10 x the trials).
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

TARGET_RATIO = 1.0
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


def optuna_run(n: int, seed: int = 0) -> tuple[float, float, int]:
    """``n`` ask/tell rounds of an in-memory Optuna study with RandomSampler: (wall s, CPU s, trials)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = {
        "x1": optuna.distributions.FloatDistribution(-5.0, 5.0),
        "x2": optuna.distributions.FloatDistribution(-5.0, 5.0),
    }
    w0, c0 = time.perf_counter(), time.process_time()
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed), direction="minimize")
    for _ in range(n):
        trial = study.ask(space)
        a, b = trial.params["x1"], trial.params["x2"]
        study.tell(trial, a * a + b * b)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    return wall, cpu, len(study.trials)


def best(fn, n: int, repeat: int) -> tuple[float, float, int]:
    return min((fn(n) for _ in range(repeat)), key=lambda r: r[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000])
    parser.add_argument("--repeat", type=int, default=3, help="runs per size and side; the fastest counts (default 3)")
    parser.add_argument("--no-peer", action="store_true", help="katibsim only (no Optuna)")
    parser.add_argument("--profile", action="store_true", help="cProfile katibsim at the first size and print the top entries")
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
    if not args.no_peer:
        optuna_run(200)
    sizes = sorted(args.sizes)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"engine speed: random on a trivial 2-D objective, parallelTrialCount 10, against Optuna's in-memory "
          f"ask/tell with RandomSampler; {os.cpu_count()} CPUs, load average {load:.1f}")
    print("  rates on this process's CPU time, fastest of "
          f"{args.repeat}; the machine is shared: the ratio (same run) is what counts")
    cpu_times: dict[int, float] = {}
    ok = True
    for n in sizes:
        wall, cpu, trials = best(run, n, args.repeat)
        cpu_times[n] = cpu
        line = f"  {trials:>8,} trials  katibsim {trials / cpu:8,.0f} trials/s (CPU {cpu:6.2f} s, wall {wall:6.2f} s)"
        if not args.no_peer:
            owall, ocpu, otrials = best(optuna_run, n, args.repeat)
            ratio = (trials / cpu) / (otrials / ocpu)
            ok &= ratio >= TARGET_RATIO
            line += (f"   optuna {otrials / ocpu:8,.0f} trials/s (CPU {ocpu:6.2f} s)   ratio {ratio:5.2f}"
                     f"  {'ok' if ratio >= TARGET_RATIO else 'BELOW 1'}")
        print(line)
    if len(cpu_times) >= 2:
        small, large = sizes[0], sizes[-1]
        growth = cpu_times[large] / cpu_times[small]
        scale = large / small
        limit = TARGET_GROWTH * scale / 10
        ok &= growth < limit
        print(f"  growth: {large:,} trials took {growth:.2f} x the CPU time of {small:,} "
              f"(linear would be {scale:g} x; target < {limit:g} x)  {'ok' if growth < limit else 'ABOVE TARGET'}")
    return 0 if ok or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
