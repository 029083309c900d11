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
import threading
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
    from katibsim.scenario.work import DEFAULT_MAX_WORK

    parser.add_argument("--max-work", type=int, default=DEFAULT_MAX_WORK, metavar="N",
                        help=f"refuse to start when the scenarios may create more than N trials in all "
                             f"(variants x seeds x maxTrialCount; default {DEFAULT_MAX_WORK:,})")
    parser.add_argument("--no-limit", action="store_true", help="no limit on the work (see --max-work)")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="run on the Dask cluster of this scheduler, e.g. tcp://127.0.0.1:8786 (default: $KATIBSIM_SCHEDULER; "
                             "none: a local process pool); needs katibsim[dask], see docs/scale.md")
    parser.add_argument("-o", "--output", choices=("text", "json"), default="text",
                        help="verdicts on stdout as text (default) or as one JSON document")
    parser.add_argument("--quiet", "-q", action="store_true",
                        help="no progress and no timing on stderr (CI logs): only the verdicts and errors")


class _BadInput(KatibsimError):
    exit_code = 2


def _load(paths: Sequence[str], seeds: int | None, max_work: int | None):
    """Every scenario of ``paths``, checked; every problem of every file is printed at once.

    The work estimate comes before the pre-flight, which builds every variant's Experiment and
    algorithm: a sweep of a million values is refused in a second instead of validated for an hour.
    """
    from katibsim.scenario import problems, read
    from katibsim.scenario.work import estimate, refusal

    loaded = []
    errors: list[FieldError] = []
    unreadable: list[str] = []
    for p in paths:
        _announce(p)
        try:
            found_scenarios, found = read(p)
        except InputError as err:
            unreadable.append(str(err))
            continue
        for sc in found_scenarios:
            if seeds is not None:
                try:
                    sc = sc.with_seed_count(seeds)
                except SpecError as err:
                    found = found + err.errors
            loaded.append((sc, found))
        errors.extend(found)
    refused = None
    if max_work is not None and loaded:
        works = [estimate(sc, seeds_field="--seeds" if seeds is not None else "seeds.count") for sc, _ in loaded]
        refused = refusal(works, max_work)
    if refused is None:
        for sc, found in loaded:
            errors.extend(problems(sc, found))
    names: dict[str, str] = {}
    for sc, _ in loaded:
        # Two documents of one file with one name are the reader's to report; one file given
        # twice, or two files with one name, would write to the same report folder.
        if sc.name in names and (sc.file != names[sc.name] or paths.count(str(sc.file)) > 1):
            errors.append(FieldError("name", f"scenario {sc.name!r} is also defined in {names[sc.name]}; reports would collide", sc.file, sc.name))
        names.setdefault(sc.name, sc.file or "?")
    # Warnings (a goal only noise can reach) are printed and do not stop the comparison.
    for e in [e for e in errors if e.severity == "warning"]:
        print(e.render(), file=sys.stderr)
    errors = [e for e in errors if e.severity != "warning"]
    if errors or unreadable or refused is not None:
        for text in unreadable:
            print(f"error: {text}", file=sys.stderr)
        for e in errors:
            print(e.render(), file=sys.stderr)
        if refused is not None:
            print(refused.render(), file=sys.stderr)
            raise _BadInput("the comparison is too big to start (see above); nothing was run")
        if unreadable and not errors:
            raise _BadInput(f"{plural(len(unreadable), 'scenario file')} could not be read; nothing was run")
        raise _BadInput(f"{plural(len(errors) + len(unreadable), 'problem')} in the scenario {'file' if len(paths) == 1 else 'files'}; nothing was run")
    return [sc for sc, _ in loaded]


def _announce(path: str) -> None:
    """Say so before reading a big file: YAML reads about a megabyte in a few seconds."""
    try:
        size = Path(path).stat().st_size
    except OSError:
        return
    if size > 1_000_000:
        print(f"reading {path} ({size / 1e6:.0f} MB)...", file=sys.stderr, flush=True)


class _Progress:
    """A bar on a terminal, plain lines otherwise (CI logs).

    The bar is drawn as soon as the plan is known (0/N) and redrawn every second while a run is
    under way, so a long first run does not look like a hang.
    """

    def __init__(self, stream=None, *, tick: float = 1.0):
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty()
        self.t0 = time.perf_counter()
        self.ran = 0
        self.reused = 0
        self.done = 0
        self.total = 0
        self.label = ""
        self.workers: int | None = None  # connected Dask workers (None: the local pool)
        self.tick = tick
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def __call__(self, ev) -> None:
        with self._lock:
            self.done, self.total = ev.done, ev.total
            self.workers = getattr(ev, "workers", None)
            if ev.kind == "rerun":
                # said on its own line, terminal or not: a stored result is being replaced
                self.stream.write(f"{'' if not self.tty else chr(10)}note: {ev.task.label}: the stored result cannot be "
                                  f"used ({ev.reason}); running it again\n")
                self.stream.flush()
                return
            if ev.kind == "start":
                self.t0 = time.perf_counter()
                if self.tty:
                    self._draw()
                    self._start_ticker()
                else:
                    self.stream.write(f"[0/{ev.total}] starting {plural(ev.total, 'run')}\n")
                    self.stream.flush()
                return
            if ev.kind == "skip":
                self.reused += 1
            else:
                self.ran += 1
            self.label = ev.task.label if ev.task else ""
            if self.tty:
                self._draw()
                if ev.done == ev.total:
                    self.stream.write("\n")
                    self._stop.set()
            else:
                word = "reused" if ev.kind == "skip" else f"done in {ev.seconds:.2f}s"
                if self.workers is not None:
                    word += f" ({self.workers} workers)"
                self.stream.write(f"[{ev.done}/{ev.total}] {self.label} {word}\n")
            self.stream.flush()

    def _draw(self) -> None:
        elapsed = time.perf_counter() - self.t0
        width = 30
        filled = int(width * self.done / max(1, self.total))
        eta = ""
        if self.ran and self.done < self.total:
            eta = f" eta {elapsed / self.ran * (self.total - self.done):.0f}s"
        if self.workers is not None:
            eta += f" {self.workers} workers"
        line = f"\r[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} {elapsed:5.1f}s{eta} {self.label[:50]:<50}"
        self.stream.write(line)
        self.stream.flush()

    def _start_ticker(self) -> None:
        if self._ticker is not None or self.done >= self.total:
            return

        def loop() -> None:
            while not self._stop.wait(self.tick):
                with self._lock:
                    if self.done < self.total:
                        self._draw()

        self._ticker = threading.Thread(target=loop, name="katibsim-progress", daemon=True)
        self._ticker.start()

    def close(self) -> None:
        """Stop redrawing (the comparison ended, or was interrupted)."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=2)


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
    from katibsim.report.katib_failures import katib_service_failures
    from katibsim.runner import collect
    from katibsim.scenario import objective_remarks

    chosen = choose_run(sc)
    # Only the run drawn step by step is kept whole; the others are read into the report's view.
    runs, envelopes, warnings = collect(tasks, keep=lambda t: chosen is not None and (t.variant, t.seed_index) == chosen)
    results = evaluate_all(sc, runs)
    intro = None
    if chosen is not None:
        variant, seed_index = chosen
        env = next((envelopes.get(t.path) for t in tasks if (t.variant, t.seed_index) == chosen), None)
        if env is not None:
            try:
                intro = introspect_run(sc, env)
            except KatibsimError as err:
                warnings.append(f"no step-by-step pictures: {err}")
    return build_report(sc, runs, results, _provenance(sc, command), introspection=intro, metric_name=sc.metric_name,
                        warnings=warnings, katib_failures=katib_service_failures(envelopes.values()),
                        objective_remarks=objective_remarks(sc))


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
    if args.max_work is not None and args.max_work < 1:
        raise InputError("--max-work must be at least 1 (or use --no-limit)")
    scenarios = _load(args.scenarios, args.seeds, None if args.no_limit else args.max_work)
    command = "katibsim " + shlex.join(sys.argv[1:]) if sys.argv and Path(sys.argv[0]).name == "katibsim" else "katibsim compare " + shlex.join(args.scenarios)
    plans = {sc.name: plan(sc, args.out) for sc in scenarios}
    all_tasks = [t for sc in scenarios for t in plans[sc.name]]
    _warn_undecidable(scenarios)
    progress = _Progress(_Null() if getattr(args, "quiet", False) else None)
    t0 = time.perf_counter()
    try:
        with open_runs(args.scheduler or os.environ.get(SCHEDULER_ENV), all_tasks) as runs:
            run_tasks(all_tasks, jobs=args.jobs, resume=args.resume, on_event=progress, executor=runs.executor,
                      workers=runs.workers)
    finally:
        progress.close()
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
    if not getattr(args, "quiet", False):
        print(
            f"{plural(progress.ran, 'run')} in {t_runs:.1f}s ({runs.where if runs.executor else plural(jobs, 'job')})"
            + (f", {progress.reused} reused" if progress.reused else "")
            + f"; reports in {t_all - t_runs:.1f}s",
            file=sys.stderr,
        )
    if getattr(args, "output", "text") == "json":
        _print_json(models, args.out)
    else:
        _print_verdicts(models, args.out)
    return 0 if all(m.passed for m in models) else 1


class _Null:
    """A stream that swallows the progress (``--quiet``)."""

    def write(self, _text: str) -> int:
        return 0

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _warn_undecidable(scenarios) -> None:
    """Before any run: the assertions the seed count cannot decide (they will not pass)."""
    from katibsim.assertions import undecidable_all

    for sc in scenarios:
        for a, why in undecidable_all(sc):
            print(f"warning: {sc.name}: assertion {a.name!r} {why}; it will be reported as undecided, not passed",
                  file=sys.stderr)


def _verdict_word(a) -> str:
    if not getattr(a, "decided", True):
        return "CANNOT DECIDE"
    return "PASS" if a.passed else "FAIL"


def _print_verdicts(models, out: str) -> None:
    for m in models:
        held = sum(a.passed for a in m.assertions)
        print(f"{'PASS' if m.passed else 'FAIL'} {m.scenario}: {held}/{len(m.assertions)} assertions hold -> {Path(out) / m.scenario / 'report.html'}")
        for a in m.assertions:
            if not a.passed:
                print(f"  {_verdict_word(a)} {a.name}: {a.outcome}")
        for w in m.warnings:
            print(f"  warning: {w}")
    print(f"summary: {Path(out) / 'index.md'} (JUnit: {Path(out) / 'junit.xml'})")


def _print_json(models, out: str) -> None:
    import json

    from katibsim.report.model import plain

    doc = {
        "passed": all(m.passed for m in models),
        "index": str(Path(out) / "index.md"),
        "junit": str(Path(out) / "junit.xml"),
        "scenarios": [
            {
                "name": m.scenario,
                "passed": m.passed,
                "report": str(Path(out) / m.scenario / "report.html"),
                "summary": str(Path(out) / m.scenario / "summary.json"),
                "assertions": [dict(plain(a), verdict=_verdict_word(a)) for a in m.assertions],
                "warnings": list(m.warnings),
            }
            for m in models
        ],
    }
    print(json.dumps(doc, indent=1, ensure_ascii=False, allow_nan=False))
