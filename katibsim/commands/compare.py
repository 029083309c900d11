"""``katibsim compare SCENARIO... [--out DIR] [--jobs N] [--resume] [--seeds N] [--scheduler ADDRESS]``: run scenarios, write reports, give a verdict.

Exit 0 when every assertion of every scenario holds, 1 when one fails, 2 on bad input (an
unreadable or invalid scenario, an unknown algorithm or objective, a bad setting). Progress goes
to stderr: a bar on a terminal, one plain line per run otherwise; the verdicts go to stdout.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any, Sequence

from katibsim import __version__
from katibsim.errors import FieldError, InputError, KatibsimError, SpecError

NAME = "compare"
HELP = "Run scenarios (algorithm variants x paired seeds) on the simulator and write comparison reports with a verdict."

_PACKAGES = ("numpy", "scipy", "matplotlib", "pluggy", "PyYAML")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="scenario YAML files (see docs/scenarios.md)")
    parser.add_argument("--out", default="reports", metavar="DIR", help="where results and reports go (default: reports)")
    parser.add_argument("--jobs", "-j", type=int, default=None, metavar="N", help="worker processes (default: every core)")
    parser.add_argument("--resume", action="store_true", help="reuse the stored result of every run that already finished")
    parser.add_argument("--seeds", type=int, default=None, metavar="N", help="run N seeds instead of the scenario's count")
    parser.add_argument("--no-png", action="store_true", help="skip the figures (faster; the HTML then has no images)")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="run on the Dask cluster of this scheduler, e.g. tcp://127.0.0.1:8786 (default: $KATIBSIM_SCHEDULER; "
                             "none: a local process pool); needs katibsim[dask], see docs/scale.md")


class _BadInput(KatibsimError):
    exit_code = 2


def _load(paths: Sequence[str], seeds: int | None):
    from katibsim.scenario import check_scenario, load_scenarios

    scenarios = []
    errors: list[FieldError] = []
    for p in paths:
        try:
            for sc in load_scenarios(p):
                if seeds is not None:
                    sc = sc.with_seed_count(seeds)
                check_scenario(sc)
                scenarios.append(sc)
        except SpecError as err:
            errors.extend(err.errors)
    names: dict[str, str] = {}
    for sc in scenarios:
        if sc.name in names:
            errors.append(FieldError("name", f"scenario {sc.name!r} is also defined in {names[sc.name]}; reports would collide", sc.file, sc.name))
        names.setdefault(sc.name, sc.file or "?")
    if errors:
        for e in errors:
            print(e.render(), file=sys.stderr)
        raise _BadInput(f"{len(errors)} problem(s) in the scenario file(s); nothing was run")
    return scenarios


class _Progress:
    """A bar on a terminal, plain lines otherwise (CI logs)."""

    def __init__(self, stream=None):
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty()
        self.t0 = time.perf_counter()
        self.ran = 0
        self.reused = 0

    def __call__(self, ev) -> None:
        if ev.kind == "start":
            self.t0 = time.perf_counter()
            return
        if ev.kind == "skip":
            self.reused += 1
        else:
            self.ran += 1
        elapsed = time.perf_counter() - self.t0
        label = ev.task.label if ev.task else ""
        if self.tty:
            width = 30
            filled = int(width * ev.done / max(1, ev.total))
            eta = ""
            if self.ran and ev.done < ev.total:
                eta = f" eta {elapsed / self.ran * (ev.total - ev.done):.0f}s"
            if ev.workers is not None:
                eta += f" {ev.workers} workers"
            line = f"\r[{'#' * filled}{'.' * (width - filled)}] {ev.done}/{ev.total} {elapsed:5.1f}s{eta} {label[:50]:<50}"
            self.stream.write(line)
            if ev.done == ev.total:
                self.stream.write("\n")
        else:
            word = "reused" if ev.kind == "skip" else f"done in {ev.seconds:.2f}s"
            if ev.workers is not None:
                word += f" ({ev.workers} workers)"
            self.stream.write(f"[{ev.done}/{ev.total}] {label} {word}\n")
        self.stream.flush()


def _provenance(sc, command: str):
    from katibsim import plugins
    from katibsim.report.model import Provenance

    packages = {}
    for name in _PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    used = {}
    for v in sc.variants:
        algo = (sc.experiment_for(v)["spec"].get("algorithm") or {}).get("algorithmName")
        reg = plugins.registration("algorithms", algo) if algo else None
        if reg is not None:
            used[f"algorithm {algo}"] = f"plugin {reg.plugin}, {reg.distribution or reg.source} {reg.version or ''}".strip()
    reg = plugins.registration("objectives", sc.objective.name)
    if reg is not None:
        used[f"objective {sc.objective.name}"] = f"plugin {reg.plugin}, {reg.distribution or reg.source} {reg.version or ''}".strip()
    return Provenance(
        katibsim=__version__,
        python=platform.python_version(),
        packages=packages,
        plugins=used,
        scenario_file=sc.file,
        scenario_hash=sc.content_hash(),
        experiment_file=sc.experiment_file,
        objective=sc.objective.name,
        master_seed=sc.seeds.master,
        seeds=tuple(sc.seeds.seeds()),
        command=command,
    )


def build_model(sc, tasks, command: str):
    """Read a scenario's results and build its report model (assertions, introspection included)."""
    from katibsim.assertions import evaluate_all
    from katibsim.report.build import build_report
    from katibsim.report.introspect import choose_run, introspect_run
    from katibsim.runner import collect

    runs, envelopes, warnings = collect(tasks)
    results = evaluate_all(sc, runs)
    intro = None
    chosen = choose_run(sc)
    if chosen is not None:
        variant, seed_index = chosen
        env = next((envelopes[t.path] for t in tasks if t.variant == variant and t.seed_index == seed_index and t.path in envelopes), None)
        if env is not None:
            try:
                intro = introspect_run(sc, env)
            except KatibsimError as err:
                warnings.append(f"no step-by-step pictures: {err}")
    metric = (sc.experiment.get("spec", {}).get("objective") or {}).get("objectiveMetricName") or "objective"
    return build_report(sc, runs, results, _provenance(sc, command), introspection=intro, metric_name=metric, warnings=warnings)


def _report_one(work) -> Any:
    """Build, render and write one scenario's report; returns its model (for the index)."""
    from katibsim.report.write import write_report

    sc, tasks, command, directory, png = work
    m = build_model(sc, tasks, command)
    write_report(m, directory, png=png)
    return m


def run(args: argparse.Namespace) -> int:
    from katibsim.executors import SCHEDULER_ENV, open_runs
    from katibsim.report.write import write_index
    from katibsim.runner import plan, run_tasks, scenario_dir

    if args.jobs is not None and args.jobs < 1:
        raise InputError("--jobs must be at least 1")
    if args.seeds is not None and args.seeds < 1:
        raise InputError("--seeds must be at least 1")
    scenarios = _load(args.scenarios, args.seeds)
    command = "katibsim " + shlex.join(sys.argv[1:]) if sys.argv and Path(sys.argv[0]).name == "katibsim" else "katibsim compare " + shlex.join(args.scenarios)
    plans = {sc.name: plan(sc, args.out) for sc in scenarios}
    all_tasks = [t for sc in scenarios for t in plans[sc.name]]
    progress = _Progress()
    t0 = time.perf_counter()
    with open_runs(args.scheduler or os.environ.get(SCHEDULER_ENV), all_tasks) as runs:
        run_tasks(all_tasks, jobs=args.jobs, resume=args.resume, on_event=progress, executor=runs.executor, workers=runs.workers)
    t_runs = time.perf_counter() - t0
    jobs = args.jobs or os.cpu_count() or 1
    work = [(sc, plans[sc.name], command, str(scenario_dir(args.out, sc)), not args.no_png) for sc in scenarios]
    if jobs > 1 and len(work) > 1:
        # Figures take seconds per scenario; draw them side by side like the runs.
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=min(jobs, len(work))) as pool:
            models = list(pool.map(_report_one, work))
    else:
        models = [_report_one(w) for w in work]
    write_index(models, args.out)
    t_all = time.perf_counter() - t0
    print(
        f"{progress.ran} runs in {t_runs:.1f}s ({runs.where if runs.executor else f'{jobs} jobs'})"
        + (f", {progress.reused} reused" if progress.reused else "")
        + f"; reports in {t_all - t_runs:.1f}s",
        file=sys.stderr,
    )
    for m in models:
        held = sum(a.passed for a in m.assertions)
        print(f"{'PASS' if m.passed else 'FAIL'} {m.scenario}: {held}/{len(m.assertions)} assertions hold -> {Path(args.out) / m.scenario / 'report.html'}")
        for a in m.assertions:
            if not a.passed:
                print(f"  FAIL {a.name}: {a.outcome}")
        for w in m.warnings:
            print(f"  warning: {w}")
    print(f"summary: {Path(args.out) / 'index.md'} (JUnit: {Path(args.out) / 'junit.xml'})")
    return 0 if all(m.passed for m in models) else 1
