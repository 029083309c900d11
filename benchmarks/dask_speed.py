"""Dask speed: the wall time of one sweep on the local process pool and on a local Dask cluster.

One scenario (bayesianoptimization at three kappa values and random search on the seed's 1-D
function, ``--seeds`` paired seeds, ``--trials`` trials each) runs through the runner exactly as
``katibsim compare`` runs it:

- **pool**: the local process pool with ``--workers`` processes, the runner's own kind
  (``ProcessPoolExecutor`` with its worker initializer), started and warmed before the clock
  starts;
- **pool-cold**: the same pool started by the runner inside the timing, as ``katibsim compare
  --jobs N`` does (process start and imports included);
- **dask**: a ``LocalCluster`` of ``--workers`` one-thread worker processes, started once and
  warmed before the clock starts (the way a cluster is used: it outlives comparisons), reached
  through ``open_runs`` (connect, check every worker, submit, write the files here);
- **dask-1**: the same with one worker, for the speed-up of a second worker.

"Warmed" = every worker process has run one small simulation (imports done).

It prints each wall time (the fastest of ``--repeat``), the overhead of Dask over the pool
(target <= 10 %) and the speed-up from 1 to 2 workers (target >= 1.8x on 2 cores), the load
average before and after (the machine may be shared), and checks that every configuration wrote
the same bytes. For the Dask runs it also prints the CPU seconds each worker process used during
the sweep: their split shows whether the work was shared out (the speed-up free cores would give
is total / largest), and total / (wall x workers) is the share of the cores the machine gave
the workers — on a machine busy with other work, the wall-time speed-up is bounded by that.

    .venv/bin/python benchmarks/dask_speed.py                 # 4 variants x 8 seeds x 25 trials
    .venv/bin/python benchmarks/dask_speed.py --seeds 4 --repeat 1

With ``--check`` the exit status is 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from katibsim.executors import open_runs  # noqa: E402
from katibsim.runner import _init_worker, compute, plan, run_tasks  # noqa: E402
from katibsim.scenario import load_scenarios  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TARGET_OVERHEAD = 0.10
TARGET_SPEEDUP = 1.8

SCENARIO = """
name: dask-speed
experiment: {experiment}
objective: seed-1d
budget: {{parallelTrialCount: 1, maxTrialCount: {trials}}}
seeds: {{count: {seeds}, master: 11}}
variants:
  - name: "kappa-{{value}}"
    algorithm: bayesianoptimization
    settings: {{acq_func: LCB, n_initial_points: 3}}
    sweep: {{kappa: [1, 2.5, 5]}}
  - {{name: random, algorithm: random}}
"""


def files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.glob("*/runs/*/*.json"))}


def sweep(scenario, out: Path, *, jobs: int, scheduler: str | None = None, executor=None) -> float:
    tasks = plan(scenario, out)
    t0 = time.perf_counter()
    with open_runs(scheduler, tasks) as runs:
        run_tasks(tasks, jobs=jobs, executor=executor or runs.executor, workers=runs.workers)
    return time.perf_counter() - t0


def _cpu() -> float:
    return time.process_time()


def _warm(task) -> int:
    """One small run, then a pause so that concurrent warm-ups land on distinct processes."""
    compute(task)
    time.sleep(1.0)
    return os.getpid()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--trials", type=int, default=25)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = ap.parse_args(argv)

    from distributed import LocalCluster

    tmp = Path(tempfile.mkdtemp(prefix="katibsim-dask-speed-"))
    (tmp / "s.yaml").write_text(SCENARIO.format(experiment=ROOT / "examples" / "seed-1d-random.yaml", trials=args.trials, seeds=args.seeds))
    scenario = load_scenarios(tmp / "s.yaml")[0]
    runs = len(plan(scenario, tmp))
    print(f"sweep: {len(scenario.variants)} variants x {args.seeds} seeds x {args.trials} trials = {runs} runs; "
          f"{args.workers} workers; load average before {os.getloadavg()[0]:.2f}")

    from concurrent.futures import ProcessPoolExecutor

    from distributed import Client

    warm_task = plan(scenario.with_seed_count(1), tmp / "warm")[0]
    times: dict[str, list[float]] = {"pool": [], "pool-cold": [], "dask": [], "dask-1": []}
    outputs: dict[str, dict[str, bytes]] = {}
    clusters = {"dask": args.workers, "dask-1": 1}
    for name in times:
        cluster = pool = None
        try:
            if name == "pool":
                pool = ProcessPoolExecutor(max_workers=args.workers, initializer=_init_worker)
                pids = {f.result() for f in [pool.submit(_warm, warm_task) for _ in range(args.workers)]}
                assert len(pids) == args.workers, "a pool process was not warmed"
            elif name.startswith("dask"):
                cluster = LocalCluster(n_workers=clusters[name], threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=None)
                with Client(cluster.scheduler_address, set_as_default=False) as c:
                    assert len(c.run(_warm, warm_task)) == clusters[name]
            cpu_lines = []
            for i in range(args.repeat):
                out = tmp / f"{name}-{i}"
                if cluster is not None:
                    with Client(cluster.scheduler_address, set_as_default=False) as c:
                        before = c.run(_cpu)
                times[name].append(sweep(scenario, out, jobs=args.workers, executor=pool,
                                         scheduler=cluster.scheduler_address if cluster else None))
                if cluster is not None:
                    with Client(cluster.scheduler_address, set_as_default=False) as c:
                        used = sorted(t - before[w] for w, t in c.run(_cpu).items())
                    share = sum(used) / (times[name][-1] * len(used))
                    cpu_lines.append(f"            CPU s per worker {', '.join(f'{u:.2f}' for u in used)}: "
                                     f"free-core speed-up {sum(used) / max(used):.2f}x, core share {share:.0%}")
                outputs[name] = files(out)
        finally:
            if cluster is not None:
                cluster.close()
            if pool is not None:
                pool.shutdown()
        print(f"  {name:9s} {min(times[name]):7.2f} s   (each: {', '.join(f'{t:.2f}' for t in times[name])})")
        for line in cpu_lines:
            print(line)

    same = all(o == outputs["pool"] for o in outputs.values()) and len(outputs["pool"]) == runs
    overhead = min(times["dask"]) / min(times["pool"]) - 1
    speedup = min(times["dask-1"]) / min(times["dask"])
    print(f"Dask overhead over the process pool: {overhead:+.1%} (target <= {TARGET_OVERHEAD:.0%})")
    print(f"speed-up 1 -> {args.workers} Dask workers: {speedup:.2f}x (target >= {TARGET_SPEEDUP}x on 2 cores)")
    print(f"result files identical in every configuration: {'yes' if same else 'NO'}")
    print(f"load average after {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    if args.check and (overhead > TARGET_OVERHEAD or speedup < TARGET_SPEEDUP or not same):
        return 1
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
