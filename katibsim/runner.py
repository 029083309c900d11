"""Runs a scenario's variants × seeds on an executor into a resumable results directory.

The executor is a local process pool by default, or any ``concurrent.futures.Executor`` (a Dask
cluster's, see :mod:`katibsim.executors`). Workers only compute: each returns its run's JSON
text, and this process writes it. Layout: ``OUT/<scenario>/runs/<variant>/seed-<index>.json``,
one file per run, written atomically (temporary file + rename) the moment the run's result is back. A file's content depends only on what was run
(the run key hashes the variant's experiment, objective, simulation options, seed and katibsim
version), never on when or in which process, so a comparison that was killed and resumed with
``resume=True`` ends with the same bytes as one that was not. Library code: progress is reported
through a callback, never printed.
"""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from katibsim.atomic import write_atomic
from katibsim.errors import InputError, KatibsimError
from katibsim.report.rundata import RunData, TrialRecord
from katibsim.scenario import Scenario, Variant, build_run

__all__ = [
    "ENVELOPE_VERSION",
    "Event",
    "RunFailed",
    "RunTask",
    "collect",
    "compute",
    "execute",
    "load_envelope",
    "plan",
    "run_data",
    "run_tasks",
    "scenario_dir",
]

ENVELOPE_VERSION = 1


class RunFailed(KatibsimError):
    """A run raised; names the scenario, variant and seed (exit 2)."""


@dataclass(frozen=True)
class RunTask:
    """One run to do: a variant of a scenario on one seed, and where its result goes."""

    scenario: Scenario
    variant: str
    seed_index: int
    seed: int
    path: str
    key: str

    @property
    def label(self) -> str:
        return f"{self.scenario.name}/{self.variant}/seed-{self.seed_index}"


@dataclass(frozen=True)
class Event:
    """Progress: ``kind`` is "skip" (a stored result was reused), "done" (a run finished),
    "start" (the plan is known) or "rerun" (a stored result could not be used and the run goes
    again: ``reason`` says why); ``done``/``total`` count runs over every scenario; ``workers`` is
    how many cluster workers are connected (None on the local pool)."""

    kind: str
    task: RunTask | None
    done: int
    total: int
    seconds: float = 0.0
    workers: int | None = None
    reason: str = ""


def scenario_dir(out: str | Path, scenario: Scenario) -> Path:
    return Path(out) / scenario.name


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "._=+-" else "_" for c in name)


def _plugin_versions(scenario: Scenario, variant: Variant) -> str:
    """Who provides the variant's algorithm and the objective, and at which version: a new
    plugin release must not be mistaken for the runs of the old one on --resume."""
    from katibsim import plugins

    algo = (scenario.experiment_for(variant)["spec"].get("algorithm") or {}).get("algorithmName")
    parts = []
    for kind, name in (("algorithms", algo), ("objectives", scenario.objective.name)):
        reg = plugins.registration(kind, name) if name else None
        if reg is not None:
            parts.append(f"{kind}:{name}:{reg.plugin}:{reg.distribution}:{reg.version}")
    return "|".join(parts)


def plan(scenario: Scenario, out: str | Path) -> list[RunTask]:
    """Every run of ``scenario`` (variants in file order, seeds in index order)."""
    import hashlib

    base = scenario_dir(out, scenario) / "runs"
    tasks = []
    for v in scenario.variants:
        versions = _plugin_versions(scenario, v)
        for i in range(scenario.seeds.count):
            seed = scenario.seeds.seed(i)
            path = base / _safe(v.name) / f"seed-{i:03d}.json"
            key = hashlib.sha256(f"{scenario.run_key(v, seed)}|{versions}".encode()).hexdigest()[:16]
            tasks.append(RunTask(scenario, v.name, i, seed, str(path), key))
    return tasks


# --------------------------------------------------------------------------------------------
# One run (runs in a worker process)
# --------------------------------------------------------------------------------------------
def _out_of_space(space, trials: Iterable[Any]) -> int:
    bad = 0
    for t in trials:
        try:
            values = space.parse(dict(t.assignment))
        except (KeyError, ValueError):
            bad += 1
            continue
        if not space.contains(values):
            bad += 1
    return bad


def _noise_free(space, objective, mapping, trials: Iterable[Any]) -> list[float | None]:
    """The objective's noise-free value at each trial's assignment (None where it cannot be had)."""
    from katibsim.engine.mapping import resolve_mapping

    try:
        link = resolve_mapping(space, objective, mapping)
    except KatibsimError:
        return [None for _ in trials]
    out: list[float | None] = []
    for t in trials:
        try:
            v = float(objective.noise_free(link.apply(space.parse(dict(t.assignment)))))
            out.append(v if v == v and abs(v) != float("inf") else None)
        except Exception:  # noqa: BLE001 - an objective without a noise-free view is not an error
            out.append(None)
    return out


def simulate_envelope(task: RunTask) -> dict[str, Any]:
    """Run ``task`` and return its result file's content (pure apart from the simulation)."""
    from katibsim.engine.run import simulate

    sc = task.scenario
    variant = sc.variant(task.variant)
    exp, objective, mapping, options = build_run(sc, variant)
    backend = getattr(variant, "backend", None)
    if backend is not None and not backend.simulated:
        # A real backend (docs/local.md): the trials run the template; the objective still gives
        # the report its noise-free reference at each assignment.
        from katibsim.backends.scenario_backend import run_real

        result = run_real(exp, backend, seed=task.seed, out_dir=Path(task.path).with_suffix(".trials"),
                          key=task.key, options=options)
    else:
        algorithm = None
        if getattr(variant, "service", None):
            # `service: HOST:PORT`: the variant's algorithm answered by a Katib suggestion service.
            from katibsim.service.client import remote_algorithm

            algorithm, _ = remote_algorithm(exp, variant.service, seed=task.seed)
        result = simulate(
            exp,
            objective,
            seed=task.seed,
            options=options,
            mapping=mapping,
            algorithm=algorithm,
            objective_options=dict(sc.objective.options),
            allow_mismatch=sc.objective.mismatch,
        )
    same_direction = objective.direction == ("maximize" if result.maximize else "minimize")
    return {
        "katibsim_run": ENVELOPE_VERSION,
        "scenario": sc.name,
        "variant": task.variant,
        "seed_index": task.seed_index,
        "seed": task.seed,
        "key": task.key,
        "objective": {
            "name": sc.objective.name,
            "direction": objective.direction,
            # Regret only makes sense when the experiment optimises in the objective's direction.
            "optimum": objective.optimum if same_direction else None,
        },
        "out_of_space": _out_of_space(exp.search_space(), result.trials),
        # Aligned with result.trials: lets reports compute regret without the objective's noise.
        "noise_free": _noise_free(exp.search_space(), objective, mapping, result.trials),
        "result": result.to_dict(),
    }


def dumps_run(envelope: Mapping[str, Any]) -> str:
    """The canonical text of a result file (same envelope, same bytes)."""
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False) + "\n"


def compute(task: RunTask) -> tuple[str, float]:
    """Worker entry point: run, return (the result file's text, real seconds). Workers never
    write result files: the process that submitted the run does, so a worker on another machine
    (or one outliving its parent) cannot leave a file behind."""
    t0 = time.perf_counter()
    _check_parent()
    try:
        envelope = simulate_envelope(task)
    except KatibsimError as err:
        raise RunFailed(f"{task.label}: {err}") from None
    return dumps_run(envelope), time.perf_counter() - t0


def execute(task: RunTask) -> tuple[str, float]:
    """Run in this process and write the result file; return (path, real seconds)."""
    text, secs = compute(task)
    write_atomic(task.path, text)
    return task.path, secs


def _init_worker() -> None:
    # Ctrl-C is the parent's to handle (it cancels what has not started); a worker finishing its
    # run writes a complete result file that --resume will reuse, and prints no traceback.
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    # One BLAS thread per worker: the pool already uses every core.
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        pass


# --------------------------------------------------------------------------------------------
# A pool worker never outlives the comparison that started it
# --------------------------------------------------------------------------------------------
_PARENT_PID: int | None = None  # set in pool workers only


def _die_with_parent() -> None:
    """Make this pool worker end when its parent does, however the parent ends (``kill -9`` too).

    Three layers: Linux's parent-death signal (``prctl(PR_SET_PDEATHSIG, SIGKILL)``); a daemon
    thread that waits on multiprocessing's parent sentinel (a pipe the parent holds; it reads
    end-of-file when the parent is gone) and exits at once, on every platform; and
    :func:`_check_parent` before each run, for the moments in between (workers write no result
    file: the submitting process does).
    """
    global _PARENT_PID
    import multiprocessing
    import signal
    import sys
    import threading

    parent = multiprocessing.parent_process()
    _PARENT_PID = parent.pid if parent is not None and parent.pid else os.getppid()
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            PR_SET_PDEATHSIG = 1
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):  # pragma: no cover - no libc prctl: the other layers remain
            pass
    sentinel = getattr(parent, "sentinel", None) if parent is not None else None
    if sentinel is not None:
        from multiprocessing.connection import wait as wait_for

        def watch() -> None:
            wait_for([sentinel])
            os._exit(1)

        threading.Thread(target=watch, name="katibsim-parent-watch", daemon=True).start()
    _check_parent()


def _parent_gone() -> bool:
    return _PARENT_PID is not None and os.getppid() != _PARENT_PID


def _check_parent() -> None:
    """In a pool worker whose parent is gone: exit now, before anything more is run or written."""
    if _parent_gone():
        os._exit(1)


# --------------------------------------------------------------------------------------------
# Many runs
# --------------------------------------------------------------------------------------------
def load_envelope(path: str | Path) -> dict[str, Any]:
    """A stored result file; InputError when it cannot be read, does not parse or does not match its schema.

    Every such file is treated alike (a truncated file, a stray non-UTF-8 byte, a hand-edited
    file without ``result`` or with ``trials: 5``): the error says what is wrong, and ``--resume``
    runs the run again instead of failing later on it.
    """
    try:
        data = json.loads(Path(path).read_bytes().decode("utf-8"))
    except OSError as err:
        raise InputError(f"{path}: not a readable run result: {err.strerror or err}") from None
    except UnicodeDecodeError as err:
        raise InputError(f"{path}: not a readable run result: not UTF-8 (byte {err.start})") from None
    except (json.JSONDecodeError, RecursionError, ValueError) as err:
        # ValueError also covers an integer literal beyond Python's conversion limit.
        raise InputError(f"{path}: not a readable run result: {err}") from None
    if not isinstance(data, dict) or data.get("katibsim_run") != ENVELOPE_VERSION:
        raise InputError(f"{path}: not a katibsim run result (version {ENVELOPE_VERSION})")
    problem = _envelope_problem(data)
    if problem:
        raise InputError(f"{path}: not a valid run result: {problem}")
    return data


def _envelope_problem(data: Mapping[str, Any]) -> str | None:
    """What makes ``data`` unusable as a result file, or None.

    The check is the readers themselves: the engine's ``RunResult.from_dict`` and the report's
    :func:`run_data` must both accept it, so no later step meets a field of the wrong shape.
    """
    from katibsim.engine.result import RunResult

    for key, kind in (("key", str), ("variant", str), ("result", dict)):
        if not isinstance(data.get(key), kind):
            return f"{key!r} is missing or not a {'string' if kind is str else 'mapping'}"
    for key in ("seed", "seed_index"):
        if isinstance(data.get(key), bool) or not isinstance(data.get(key), int):
            return f"{key!r} is missing or not an integer"
    try:
        RunResult.from_dict(data["result"])
        run_data(data)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as err:
        what = f"field {err.args[0]!r} is missing" if isinstance(err, KeyError) and err.args else f"{type(err).__name__}: {err}"
        return f"its result does not match katibsim's schema ({what})"
    return None


def _reusable(task: RunTask, unusable: dict[str, str] | None = None) -> bool:
    """True when the stored result of ``task`` can be reused; a stored file that cannot (it does not
    parse or fit its schema) is noted in ``unusable`` with the reason."""
    if not Path(task.path).exists():
        return False
    try:
        return load_envelope(task.path).get("key") == task.key
    except InputError as err:
        if unusable is not None:
            unusable[task.path] = str(err)
        return False


def _clean_temporaries(tasks: Sequence[RunTask]) -> None:
    for d in {Path(t.path).parent for t in tasks}:
        if d.is_dir():
            for tmp in d.glob(".*.tmp"):
                tmp.unlink(missing_ok=True)


def run_tasks(
    tasks: Sequence[RunTask],
    *,
    jobs: int | None = None,
    resume: bool = False,
    on_event: Callable[[Event], None] | None = None,
    executor: Executor | None = None,
    workers: Callable[[], int | None] | None = None,
) -> list[RunTask]:
    """Run ``tasks`` on ``executor``, or without one on a local pool of ``jobs`` processes
    (None = every core; 1 = in this process).

    Runs are submitted in plan order; each result is written here as it comes back. The caller
    owns ``executor`` (it is not shut down here); ``workers`` counts its connected workers for
    progress events. With ``resume``, a task whose result file exists with the same run key is
    not run again. Returns the tasks that were run. A failing run stops the comparison with
    :class:`RunFailed` (or whatever error the executor's futures carry).
    """
    emit = on_event or (lambda e: None)
    _clean_temporaries(tasks)
    total = len(tasks)
    unusable: dict[str, str] = {}
    todo = [t for t in tasks if not (resume and _reusable(t, unusable))]
    done = 0
    emit(Event("start", None, 0, total))
    for t in todo:
        if t.path in unusable:
            emit(Event("rerun", t, 0, total, reason=unusable[t.path]))
    for t in tasks:
        if t not in todo:
            done += 1
            emit(Event("skip", t, done, total))
    count = workers or (lambda: None)
    jobs = jobs or os.cpu_count() or 1
    if executor is None and (jobs <= 1 or len(todo) <= 1):
        for t in todo:
            _, secs = execute(t)
            done += 1
            emit(Event("done", t, done, total, secs))
        return list(todo)
    own = executor is None
    pool = executor or ProcessPoolExecutor(max_workers=min(jobs, len(todo)), initializer=_init_worker)
    order = {t.path: i for i, t in enumerate(todo)}
    pending: dict[Future, RunTask] = {pool.submit(compute, t): t for t in todo}
    try:
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in sorted(finished, key=lambda f: order[pending[f].path]):
                t = pending.pop(fut)
                text, secs = fut.result()
                write_atomic(t.path, text)
                done += 1
                emit(Event("done", t, done, total, secs, workers=count()))
    except BaseException:
        for fut in pending:
            fut.cancel()
        if own:
            # Let the runs already under way end, and keep those that succeeded for --resume.
            pool.shutdown(wait=True, cancel_futures=True)
            for fut, t in pending.items():
                if fut.done() and not fut.cancelled() and fut.exception() is None:
                    write_atomic(t.path, fut.result()[0])
        raise
    if own:
        pool.shutdown(wait=True)
    return list(todo)


def run_data(envelope: Mapping[str, Any]) -> RunData:
    """The report's view of one stored run (the single adapter from the engine's RunResult layout)."""
    r = envelope["result"]
    trials = []
    truths = list(envelope.get("noise_free") or [])
    truths += [None] * (len(r["trials"]) - len(truths))
    for t, truth in zip(r["trials"], truths):
        assignment = {a["name"]: a["value"] for a in t["assignment"]}
        trials.append(
            TrialRecord(
                number=int(t["index"]) + 1 if "index" in t else len(trials) + 1,
                name=t["name"],
                assignment=assignment,
                value=t.get("value"),
                condition=t["condition"],
                # A Katib trial holds a parallel slot from its creation (Running while its pod starts).
                start=t.get("created"),
                end=t.get("ended"),
                true_value=truth,
                reason=t.get("reason") or "",
                message=t.get("message") or "",
                output_tail=tuple(t.get("output_tail") or ()),
                output_path=t.get("output_path"),
            )
        )
    status = r.get("status") or {}
    cot = status.get("current_optimal_trial")
    optimal = None
    if cot:
        optimal = {
            "bestTrialName": cot["name"],
            "parameterAssignments": list(cot.get("assignment") or ()),
            "observation": {"metrics": list(cot.get("metrics") or ())},
        }
    obj = envelope.get("objective") or {}
    return RunData(
        variant=envelope["variant"],
        seed_index=int(envelope["seed_index"]),
        seed=int(envelope["seed"]),
        maximize=bool(r.get("maximize")),
        trials=tuple(trials),
        parallel_trial_count=int(r.get("parallel_trial_count") or 1),
        max_trial_count=r.get("max_trial_count"),
        goal=r.get("goal"),
        optimum=obj.get("optimum"),
        optimal_trial=optimal,
        duplicates=int(r.get("duplicates", 0)),
        max_concurrent=int(r.get("max_concurrent", 0)),
        time_to_goal=r.get("time_to_goal"),
        end_time=r.get("time_to_end"),
        reason=r.get("reason") if r.get("outcome") != "Failed" else "ExperimentFailed",
        counts=dict(status.get("counts") or {}),
        out_of_space=int(envelope.get("out_of_space", 0)),
    )


def collect(
    tasks: Sequence[RunTask], *, keep: Callable[[RunTask], bool] | None = None
) -> tuple[dict[str, list[RunData]], dict[str, dict[str, Any]], list[str]]:
    """Read every planned result: ({variant: [RunData]}, {path: envelope} for the tasks ``keep``
    accepts (none by default: an envelope is the whole engine result, the RunData is what the
    report needs), warnings for missing ones)."""
    runs: dict[str, list[RunData]] = {}
    envelopes: dict[str, dict[str, Any]] = {}
    warnings = []
    for t in tasks:
        runs.setdefault(t.variant, [])
        try:
            env = load_envelope(t.path)
        except InputError as err:
            warnings.append(f"missing result for {t.label}: {err}")
            continue
        if env.get("key") != t.key:
            warnings.append(f"{t.path} holds a different run (its key does not match); rerun without --resume")
            continue
        if (keep is not None and keep(t)) or (env.get("result") or {}).get("katib_failures"):
            # Also every run that met a failure of Katib's own service: the report's banner reads them.
            envelopes[t.path] = env
        runs[t.variant].append(run_data(env))
    return runs, envelopes, warnings
