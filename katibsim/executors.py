"""Where a comparison's runs execute: the local process pool, or a Dask cluster (``--scheduler``).

:func:`open_runs` gives the runner what it needs: an executor (None = the runner's own process
pool) and a count of connected workers for progress. On a Dask cluster (``distributed``, the
``katibsim[dask]`` extra) it connects to the scheduler, then asks every worker what it would run
with (katibsim's version and code, the numeric libraries, and who provides each plugin the
scenarios need) and refuses a cluster that differs from this client before the first run: a
comparison must not mix code. Each run checks the same again on its worker, so a worker that
joins later cannot slip in. Workers only compute; the client writes every result file
(``katibsim.runner``), so the files are the same bytes as on the local pool.

Faults: a worker that dies mid-run costs nothing (Dask runs its task again elsewhere; a run is
a pure function of its task, so the result is the same); a scheduler that goes away ends the
comparison with :class:`SchedulerLost`, every finished run already on disk for ``--resume``.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
from concurrent.futures import CancelledError, Executor, Future
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

from katibsim.errors import InputError, KatibsimError

__all__ = [
    "SCHEDULER_ENV",
    "ClusterError",
    "ClusterExecutor",
    "Runs",
    "SchedulerLost",
    "WorkerMismatch",
    "differences",
    "environment",
    "needed_plugins",
    "open_runs",
]

SCHEDULER_ENV = "KATIBSIM_SCHEDULER"

# The libraries whose numbers end up in a result file: a cluster mixing their versions would
# give results that differ from a local run's.
_NUMERIC = ("numpy", "scipy")

# Client-side loggers that print tracebacks when a scheduler goes away; katibsim says it once.
_QUIET = ("distributed", "tornado")


class ClusterError(KatibsimError):
    """The Dask cluster cannot run this comparison: no scheduler there, no worker, or workers
    that lack katibsim or a plugin, or run other versions (exit 2; nothing was run)."""


class SchedulerLost(KatibsimError):
    """The scheduler went away mid-comparison; the runs that finished are on disk (exit 2)."""


class WorkerMismatch(KatibsimError):
    """Raised on a worker whose environment differs from the client's (a late joiner)."""


# --------------------------------------------------------------------------------------------
# What a process would run with
# --------------------------------------------------------------------------------------------
def needed_plugins(tasks: Sequence[Any]) -> list[tuple[str, str]]:
    """(registry kind, name) of every plugin the runs need: each variant's algorithm and
    early-stopping algorithm, and each scenario's objective; sorted, without repeats."""
    need: set[tuple[str, str]] = set()
    seen: set[tuple[str, str]] = set()
    for t in tasks:
        sc = t.scenario
        if (sc.name, t.variant) in seen:
            continue
        seen.add((sc.name, t.variant))
        spec = sc.experiment_for(sc.variant(t.variant)).get("spec") or {}
        algo = (spec.get("algorithm") or {}).get("algorithmName")
        if algo:
            need.add(("algorithms", algo))
        stop = (spec.get("earlyStopping") or {}).get("algorithmName")
        if stop:
            need.add(("early_stopping", stop))
        need.add(("objectives", sc.objective.name))
    return sorted(need)


_DIGESTS: dict[str, str] = {}


def _code_digest(package: str) -> str:
    """A hash of an installed package's files (paths and bytes; caches left out): the same
    version number with edited code must not pass for the same code."""
    if package not in _DIGESTS:
        import importlib

        _DIGESTS[package] = digest_tree(Path(importlib.import_module(package).__file__ or "").parent)
    return _DIGESTS[package]


def digest_tree(root: Path) -> str:
    """The digest of a package directory: its ``.py`` files and its ``data/`` files (what a
    wheel installs), by relative path; hidden files and caches are left out, so a source
    checkout and an installed copy of the same code agree."""
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if not p.is_file() or any(part.startswith(".") or part == "__pycache__" for part in rel.parts):
            continue
        if p.suffix == ".py" or rel.parts[0] == "data":
            h.update(rel.as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def environment(needs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """What this process would run a comparison with (JSON-safe): katibsim's version and code,
    the numeric libraries' versions, and for each needed plugin who provides it (None: nobody)."""
    import sys

    import katibsim
    from katibsim import plugins

    env: dict[str, Any] = {
        "katibsim": katibsim.__version__,
        "code": {pkg: _code_digest(pkg) for pkg in ("katibsim", "katibsim_plugins")},
        "python": ".".join(map(str, sys.version_info[:2])),
    }
    for name in _NUMERIC:
        try:
            env[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            env[name] = None
    provided: dict[str, Any] = {}
    for kind, name in needs:
        reg = plugins.registration(kind, name)
        provided[f"{kind}:{name}"] = None if reg is None else {
            "plugin": reg.plugin, "distribution": reg.distribution, "version": reg.version}
    env["plugins"] = provided
    return env


def _who(reg: Mapping[str, Any] | None) -> str:
    if reg is None:
        return "none"
    dist = f"{reg['distribution']} {reg['version'] or ''}".strip() if reg.get("distribution") else "no distribution"
    return f"plugin {reg['plugin']} ({dist})"


def differences(client: Mapping[str, Any], worker: Mapping[str, Any]) -> list[str]:
    """How a worker's environment differs from the client's, one sentence each (empty: same)."""
    if worker.get("error"):
        return [str(worker["error"])]
    out = []
    if worker.get("katibsim") != client.get("katibsim"):
        out.append(f"katibsim {worker.get('katibsim')} there, {client.get('katibsim')} here")
    elif worker.get("code") != client.get("code"):
        changed = sorted(k for k in client.get("code", {}) if (worker.get("code") or {}).get(k) != client["code"][k])
        out.append(f"katibsim {client.get('katibsim')} on both sides but different files in {', '.join(changed)} "
                   "(an edited checkout or another build)")
    for key in ("python", *_NUMERIC):
        if worker.get(key) != client.get(key):
            out.append(f"{key} {worker.get(key)} there, {client.get(key)} here")
    theirs = worker.get("plugins") or {}
    other_katibsim = worker.get("katibsim") != client.get("katibsim")
    for need, mine in sorted((client.get("plugins") or {}).items()):
        kind, name = need.split(":", 1)
        what = f"{kind.replace('_', ' ').rstrip('s')} plugin {name!r}"
        other = theirs.get(need)
        if mine is None:
            continue  # the client lacks it too: the scenario check reports that
        if other is None:
            out.append(f"no {what} there (here: {_who(mine)})")
        elif other_katibsim and mine.get("distribution") == other.get("distribution") == "katibsim":
            continue  # a built-in plugin: the katibsim line above says it
        elif other != mine:
            out.append(f"{what} is {_who(other)} there, {_who(mine)} here")
    return out


# The probe runs on workers that may not have katibsim at all, so it is sent by value (its
# module is not importable, so cloudpickle ships its code) and imports katibsim only inside.
_PROBE_SOURCE = '''
def katibsim_probe(needs):
    import os, socket
    where = {"host": socket.gethostname(), "pid": os.getpid()}
    try:
        from katibsim.executors import environment
    except Exception as err:
        return {**where, "error": "katibsim cannot be imported there (%s: %s)" % (type(err).__name__, err)}
    try:
        return {**where, **environment(needs)}
    except Exception as err:
        return {**where, "error": "katibsim fails there (%s: %s)" % (type(err).__name__, err)}
'''


def _probe() -> Callable[[list[tuple[str, str]]], dict[str, Any]]:
    namespace: dict[str, Any] = {"__name__": "katibsim_worker_probe"}
    exec(compile(_PROBE_SOURCE, "<katibsim worker probe>", "exec"), namespace)  # noqa: S102 - our own constant
    return namespace["katibsim_probe"]


# --------------------------------------------------------------------------------------------
# On a worker
# --------------------------------------------------------------------------------------------
_WORKER_READY = False
_WORKER_ENV: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}


def run_on_worker(fn: Callable[..., Any], expected: Mapping[str, Any], needs: Sequence[tuple[str, str]], *args: Any) -> Any:
    """Run ``fn(*args)`` on a Dask worker after checking that this worker runs what the client
    does (:class:`WorkerMismatch` otherwise). The first call limits BLAS to one thread: the
    cluster's parallelism is its workers."""
    global _WORKER_READY
    if not _WORKER_READY:
        try:
            from threadpoolctl import threadpool_limits

            threadpool_limits(1)
        except ImportError:  # pragma: no cover - threadpoolctl is a dependency
            pass
        _WORKER_READY = True
    key = tuple(tuple(n) for n in needs)
    if key not in _WORKER_ENV:
        _WORKER_ENV[key] = environment(list(key))
    problems = differences(expected, _WORKER_ENV[key])
    if problems:
        import socket

        raise WorkerMismatch(f"worker on {socket.gethostname()} (pid {os.getpid()}) differs from the client: " + "; ".join(problems))
    return fn(*args)


# --------------------------------------------------------------------------------------------
# The client side
# --------------------------------------------------------------------------------------------
def _label(args: Sequence[Any]) -> str:
    return str(getattr(args[0], "label", "a run")) if args else "a run"


class ClusterExecutor(Executor):
    """A ``concurrent.futures.Executor`` over a Dask client's executor that checks every worker
    (:func:`run_on_worker`) and turns the cluster's failures into katibsim errors naming the run.

    A watchdog notices a client that lost its scheduler and fails every outstanding future with
    :class:`SchedulerLost` (Dask cancels them, and an in-flight gather may never return)."""

    def __init__(self, client: Any, address: str, expected: Mapping[str, Any], needs: Sequence[tuple[str, str]]):
        self._client = client
        self._address = address
        self._inner = client.get_executor(pure=False)
        self._expected = dict(expected)
        self._needs = [tuple(n) for n in needs]
        self._outstanding: set[Future] = set()
        self._lock = threading.Lock()
        self._closing = False
        self._lost = threading.Event()
        self._watchdog = threading.Thread(target=self._watch, name="katibsim-scheduler-watchdog", daemon=True)
        self._watchdog.start()

    def _lost_error(self) -> SchedulerLost:
        return SchedulerLost(
            f"lost the Dask scheduler at {self._address}; the runs that finished are on disk: "
            "run the same command again with --resume once the scheduler is back (or without --scheduler)")

    def _watch(self) -> None:
        while not self._closing:
            status = getattr(self._client, "status", "running")
            if status not in ("running", "newly-created") and not self._closing:
                self._lost.set()
                with self._lock:
                    stuck = list(self._outstanding)
                for f in stuck:
                    _settle(f, exc=self._lost_error())
                return
            self._lost.wait(0.25)

    def submit(self, fn, /, *args, **kwargs):  # type: ignore[override]
        if self._lost.is_set():
            raise self._lost_error()
        outer: Future = Future()
        inner = self._inner.submit(run_on_worker, fn, self._expected, self._needs, *args, **kwargs)
        label = _label(args)
        with self._lock:
            self._outstanding.add(outer)

        def relay(done: Future) -> None:
            with self._lock:
                self._outstanding.discard(outer)
            if outer.done():
                return
            if done.cancelled():
                _settle(outer, exc=self._lost_error() if not self._closing else CancelledError())
                return
            err = done.exception()
            if err is None:
                _settle(outer, result=done.result())
            else:
                _settle(outer, exc=self._translate(err, label))

        def cancel_inner(f: Future) -> None:
            if f.cancelled():
                inner.cancel()

        outer.add_done_callback(cancel_inner)
        inner.add_done_callback(relay)
        return outer

    def _translate(self, err: BaseException, label: str) -> BaseException:
        if isinstance(err, KatibsimError):
            return err
        name = type(err).__name__
        if name == "KilledWorker":
            return ClusterError(
                f"{label}: every worker that ran it died ({err}); Dask gives up after "
                "distributed.scheduler.allowed-failures deaths: look for a worker running out of memory")
        if self._lost.is_set() or getattr(self._client, "status", "running") != "running":
            return self._lost_error()
        return ClusterError(f"{label}: failed on the Dask cluster: {name}: {err}")

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._closing = True
        self._lost.set()
        with self._lock:
            left = list(self._outstanding)
        if cancel_futures:
            for f in left:
                f.cancel()
        with contextlib.suppress(Exception):  # a client without its scheduler may refuse to cancel
            self._inner.shutdown(wait=wait)

    def workers(self) -> int | None:
        """Workers connected to the scheduler now (None once it is gone)."""
        if self._lost.is_set() and not self._closing:
            return None
        try:
            return int(self._client.scheduler_info(n_workers=0).get("n_workers", 0))
        except Exception:  # noqa: BLE001 - progress must not fail the comparison
            return None


def _settle(f: Future, *, result: Any = None, exc: BaseException | None = None) -> None:
    """Finish ``f`` unless it is already finished (two sources may race to settle it)."""
    from concurrent.futures import InvalidStateError

    try:
        if exc is not None:
            f.set_exception(exc)
        else:
            f.set_result(result)
    except InvalidStateError:
        pass


@dataclass
class Runs:
    """Where runs go: ``executor`` None means the runner's local process pool."""

    executor: Executor | None = None
    workers: Callable[[], int | None] | None = None
    where: str = "local"


def _connect(address: str) -> tuple[Any, float]:
    """A client of the scheduler at ``address``, and the connect timeout it used (Dask's
    ``distributed.comm.timeouts.connect``, e.g. ``DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT=5s``)."""
    try:
        from distributed import Client
    except ImportError:
        raise InputError("--scheduler needs Dask's distributed package: pip install 'katibsim[dask]'") from None
    timeout = _connect_timeout()
    try:
        return Client(address, timeout=timeout, set_as_default=False), timeout
    except (OSError, TimeoutError) as err:
        raise ClusterError(
            f"cannot reach a Dask scheduler at {address} within {timeout:g}s ({type(err).__name__}: {err}); "
            "start one (docs/scale.md) or leave out --scheduler to run on this machine") from None
    except ValueError as err:
        raise InputError(f"--scheduler {address!r}: not a scheduler address ({err}); expected e.g. tcp://127.0.0.1:8786") from None


def _connect_timeout() -> float:
    import dask.config
    from dask.utils import parse_timedelta

    return float(parse_timedelta(dask.config.get("distributed.comm.timeouts.connect"), default="s"))


def check_workers(client: Any, expected: Mapping[str, Any], needs: Sequence[tuple[str, str]], *, timeout: float) -> int:
    """Wait for a worker, then probe every connected worker; :class:`ClusterError` naming each
    worker that differs from the client and how. Returns the number of workers."""
    try:
        client.wait_for_workers(1, timeout=timeout)
    except Exception:  # noqa: BLE001 - distributed raises its own TimeoutError type
        raise ClusterError(f"no Dask worker connected to the scheduler within {timeout:g}s; start some (docs/scale.md)") from None
    answers = client.run(_probe(), list(needs), on_error="return")
    try:
        names = {a: str(w.get("name", a)) for a, w in client.scheduler_info(n_workers=-1)["workers"].items()}
    except Exception:  # noqa: BLE001 - names only make the message friendlier
        names = {}
    problems = []
    for address, env in sorted(answers.items(), key=lambda kv: (names.get(kv[0], kv[0]), kv[0])):
        name = names.get(address, address)
        who = f"worker {name} ({address}" if name != address else f"worker {address} ("
        if isinstance(env, BaseException):
            problems.append(f"{who}): the check failed there ({type(env).__name__}: {env})")
            continue
        for diff in differences(expected, env):
            problems.append(f"{who}{', ' if name != address else ''}host {env.get('host')}): {diff}")
    if problems:
        raise ClusterError(
            "the Dask cluster cannot run this comparison; a comparison must not mix code, so nothing was run:\n  "
            + "\n  ".join(problems)
            + "\ninstall on every worker the same katibsim and plugins as here (docs/scale.md)")
    return len(answers)


@contextlib.contextmanager
def _quiet_dask() -> Iterator[None]:
    # distributed gives its child loggers levels of their own: quieten each one.
    names = [n for n in list(logging.root.manager.loggerDict) if n.split(".")[0] in {q.split(".")[0] for q in _QUIET}]
    saved = {name: logging.getLogger(name).level for name in {*_QUIET, *names}}
    for name in saved:
        logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


@contextlib.contextmanager
def open_runs(scheduler: str | None, tasks: Sequence[Any]) -> Iterator[Runs]:
    """The executor for ``tasks``: the local pool without ``scheduler``; with it, a checked
    connection to that Dask scheduler, closed on exit (which cancels what is left there)."""
    if not scheduler:
        yield Runs()
        return
    for t in tasks:
        backend = getattr(t.scenario.variant(t.variant), "backend", None)
        if backend is not None and not backend.simulated:
            raise InputError(
                f"{t.scenario.file or t.scenario.name}: variant {t.variant!r} runs its trials on backend "
                f"{backend.name!r}, which writes its trials' files on the machine that runs them; "
                "--scheduler runs simulated variants only: run this scenario without --scheduler")
    needs = needed_plugins(tasks)
    expected = environment(needs)
    try:
        import distributed  # noqa: F401 - its loggers must exist before they are quietened
    except ImportError:
        raise InputError("--scheduler needs Dask's distributed package: pip install 'katibsim[dask]'") from None
    with _quiet_dask():
        client, timeout = _connect(scheduler)
        ex: ClusterExecutor | None = None
        try:
            check_workers(client, expected, needs, timeout=timeout)
            ex = ClusterExecutor(client, scheduler, expected, needs)
            yield Runs(executor=ex, workers=ex.workers, where=f"Dask scheduler {scheduler}")
        finally:
            if ex is not None:
                ex.shutdown(wait=False, cancel_futures=True)
            with contextlib.suppress(Exception):
                client.close(timeout=5)
