"""The ``local`` backend: each trial is a real process on this machine, on real time.

A trial's rendered template (``TrialLaunch.run_spec``) gives its primary container (Katib's rules,
:func:`katibsim.spec.templates.primary_container`); :mod:`katibsim.backends.mapping` turns that
container into a command line with the user's image and path mappings. Each trial then runs, with
no shell, in its own folder ``OUT/trials/<trial name>/`` (its working directory, where the
collector's folder is mapped), with ``KATIB_TRIAL_NAME`` set, stdout and stderr together in
``output.log``, in a process group of its own. The controller keeps at most ``parallelTrialCount``
running at once.

When a process ends, Katib's collector for the experiment's ``metricsCollectorSpec`` reads its
output (``katibsim.collectors.collect``: StdOut reads ``output.log``, File the mapped file,
TensorFlowEvent the mapped folder), and the trial ends the way Katib's trial controller would end
it (``docs/katib-behaviour.md`` §3.9, §6.4): a non-zero exit is **Failed** (no metrics), an objective the
collector never found is **MetricsUnavailable**, otherwise **Succeeded**. With early-stopping rules
and a StdOut or File collector, the collector's live check (§6.5, :class:`CollectorEarlyStopper`)
reads the output as it is written and stops the process group once every rule holds: the trial
is **EarlyStopped** with what it had reported. A trial past ``timeout`` seconds is stopped and
Failed (reason ``DeadlineExceeded``).

Every finished trial leaves ``trial.json`` (:mod:`katibsim.backends.records`); with
``resume=True`` the finished trials of an earlier, interrupted run in the same folder are replayed
in their original order instead of being run again. SIGINT, SIGTERM and SIGHUP stop every running
process group and end the run (``interrupted``), so nothing is left running.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, ClassVar, Mapping, Sequence

import numpy as np

from katibsim.backends.base import Backend, Outcome, RunContext, TrialEvent, TrialLaunch
from katibsim.backends.mapping import CommandPlan, LocalMap, MapEntry, plan_command
from katibsim.backends.process import SignalGuard, Tail, inside, last_lines, monotonic, reap_group, spawn
from katibsim.backends.records import TrialRecord, load_records, write_json_atomic, write_record
from katibsim.errors import InputError, KatibsimError
from katibsim.spec.model import MetricsCollectorSpec

OUTPUT_FILE = "output.log"
COMMAND_FILE = "command.json"
SUPPORTED_COLLECTORS = ("StdOut", "File", "TensorFlowEvent")

Progress = Callable[[str, str, str], None]


@dataclass
class _Running:
    """A trial whose process is running (or being stopped)."""

    launch: TrialLaunch
    plan: CommandPlan
    proc: Any
    trial_dir: Path
    output: Path
    started: float
    deadline: float | None  # monotonic
    tail: Tail | None = None
    stopper: Any = None
    collector_crash: str | None = None
    stopping: str | None = None  # "early" | "timeout" | "stop" once a stop was decided
    stop_time: float | None = None  # backend time the stop was decided
    stop_sent: float | None = None  # monotonic time SIGTERM was sent
    extra: dict = field(default_factory=dict)


class LocalBackend(Backend):
    """Real trials as local processes (``katibsim run EXPERIMENT --backend local``); see the module docstring.

    ``mapping``: ``--map`` entries (strings ``KEY=VALUE`` relative to the current directory, or
    :class:`MapEntry`); ``out_dir``: the run's folder (else ``RunContext.output_dir``);
    ``timeout``: seconds per trial (None: no limit); ``resume``: re-use the finished trials found
    in ``out_dir``; ``progress(kind, trial, text)`` is called on "start", "reuse" and "end";
    ``handle_signals``: turn SIGINT/SIGTERM/SIGHUP into a clean stop (main thread only).
    """

    name: ClassVar[str] = "local"
    simulated: ClassVar[bool] = False

    def __init__(
        self,
        *,
        out_dir: str | Path | None = None,
        mapping: Sequence[str | MapEntry] = (),
        timeout: float | None = None,
        resume: bool = False,
        progress: Progress | None = None,
        handle_signals: bool = True,
        poll_interval: float = 0.05,
        kill_grace: float = 3.0,
        tail_lines: int = 20,
    ) -> None:
        if timeout is not None and not timeout > 0:
            raise InputError(f"timeout must be a number of seconds > 0, not {timeout!r}")
        self._out_arg = out_dir
        self._map_args = tuple(mapping)
        self.timeout = timeout
        self.resume = resume
        self.progress = progress
        self.handle_signals = handle_signals
        self.poll_interval = poll_interval
        self.kill_grace = kill_grace
        self.tail_lines = tail_lines
        self.guard = SignalGuard(raise_on_second=False)  # a second Ctrl-C skips the grace period
        self.interrupted = None
        self._running: dict[str, _Running] = {}
        self._ready: list[TrialEvent] = []
        self._replaying: dict[str, TrialRecord] = {}
        self._cache: dict[str, TrialRecord] = {}
        self._unspawned: set[str] = set()
        self._notes: dict[str, str] = {}
        self._assignments: dict[str, tuple[tuple[str, str], ...]] = {}
        self._batch = 0
        self._reused = 0
        self._rerun = 0
        self._t0 = monotonic()
        self._offset = 0.0
        self._replay_time: float | None = None
        self.out: Path | None = None
        self.local_map = LocalMap()

    # -- setup ------------------------------------------------------------------------------------------
    def open(self, context: RunContext) -> None:
        super().open(context)
        exp = context.experiment
        out = self._out_arg or context.output_dir
        if not out:
            raise InputError("the local backend needs a folder for the trials' files (--out DIR)")
        self.out = Path(out).resolve()
        self.trials_dir = self.out / "trials"
        self.metric_names = tuple(context.metric_names)
        self.objective_type = "maximize" if context.maximize else "minimize"
        self.collector = exp.spec.metrics_collector_spec or MetricsCollectorSpec()
        if self.collector.kind not in SUPPORTED_COLLECTORS:
            raise InputError(
                f"{exp.source_file or exp.name}: spec.metricsCollectorSpec.collector.kind: the local backend runs "
                f"Katib's {', '.join(SUPPORTED_COLLECTORS)} collectors; {self.collector.kind} needs a cluster "
                "(Push: the trial writes to Katib's DB; Custom / PrometheusMetric: a sidecar or a scrape)"
            )
        self.local_map = LocalMap.build(exp, self._map_args)
        self._preflight()
        records = load_records(self.trials_dir) if self.trials_dir.is_dir() else {}
        if records and not self.resume:
            raise InputError(f"{self.out} already holds {len(records)} finished trial(s) of an earlier run; resume it "
                             "(--resume) or choose another --out")
        self._cache = dict(records)
        if records:
            self._replay_time = 0.0
            self._offset = max(r.event.time for r in records.values())
        self.trials_dir.mkdir(parents=True, exist_ok=True)
        self._t0 = monotonic()
        if self.handle_signals:
            self.guard.install()

    def _preflight(self) -> None:
        """Render one trial and plan its command, so an unmapped image or path is an error before
        any trial starts."""
        from katibsim.spec.templates import primary_container, render_trial

        exp = self.context.experiment
        space = exp.search_space()
        assignment = space.format(space.sample(np.random.default_rng(0)))
        name = f"{exp.name}-preflight"
        manifest = render_trial(exp, name, assignment)
        container = primary_container(manifest, exp)
        plan = plan_command(container, trial_name=name, trial_dir=self.trials_dir / name, local_map=self.local_map,
                            collector=self.collector, label=_label(container, manifest))
        if plan.notes:
            self._notes["local-container"] = "; ".join(plan.notes)
        if _runs_more_than_primary(manifest):
            self._notes["local-primary-only"] = (
                f"the {manifest.get('kind')} trial has more than one container or replica; the local backend runs only "
                "the primary container, once (no distributed training, no sidecars)")
        if self.context.experiment.spec.early_stopping is not None and self.collector.kind == "TensorFlowEvent":
            self._notes["local-tfevent-no-early-stopping"] = (
                "early-stopping rules were not applied: Katib's TensorFlowEvent collector has no early stopping "
                "(docs/katib-behaviour.md §6.3), and neither has the local backend with it")

    # -- the clock ------------------------------------------------------------------------------------------
    def now(self) -> float:
        if self._replay_time is not None:
            return self._replay_time
        return self._offset + (monotonic() - self._t0)

    @property
    def active(self) -> int:
        return len(self._running) + len(self._replaying) + len(self._unspawned) + len(self._ready)

    # -- starting ---------------------------------------------------------------------------------------------
    def start(self, launch: TrialLaunch) -> None:
        name = launch.name
        self._assignments[name] = tuple(launch.parameter_assignments)
        if self.guard.received:
            self._unspawned.add(name)  # Ctrl-C came while the algorithm was thinking: never started
            return
        cached = self._cache.pop(name, None)
        if cached is not None:
            if cached.assignment == tuple(launch.parameter_assignments):
                self._replaying[name] = cached
                self._reused += 1
                self._report("reuse", name, f"re-used from {self.trials_dir / name}")
                return
            self._rerun += 1  # the run took another path than the interrupted one
        now = self.now()
        trial_dir = self.trials_dir / name
        if trial_dir.exists():
            shutil.rmtree(trial_dir)  # an unfinished attempt of an interrupted run
        trial_dir.mkdir(parents=True)
        output = trial_dir / OUTPUT_FILE
        output.touch()
        try:
            plan = self._plan(launch, trial_dir)
        except KatibsimError as exc:
            self._fail_now(launch, now, "CannotStart", str(exc), output)
            return
        write_json_atomic(trial_dir / COMMAND_FILE, {"trial": name, **plan.to_dict()})
        for d in plan.make_dirs:
            Path(d).mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env.update(plan.env)
        # Katib's wrapper does not do this; it only makes Python print metric lines as they happen,
        # so the live early-stopping check sees them when a real pod's log would.
        env.setdefault("PYTHONUNBUFFERED", "1")
        exe = plan.argv[0] if "/" in plan.argv[0] else (shutil.which(plan.argv[0], path=env.get("PATH")) or plan.argv[0])
        try:
            proc = spawn(plan.argv, executable=exe, cwd=trial_dir, env=env, output=output)
        except OSError as exc:
            self._fail_now(launch, now, "CannotStart", f"cannot start {plan.argv[0]}: {exc.strerror or exc}", output)
            return
        run = _Running(launch=launch, plan=plan, proc=proc, trial_dir=trial_dir, output=output, started=now,
                       deadline=None if self.timeout is None else monotonic() + self.timeout)
        if launch.rules and self.collector.kind in ("StdOut", "File"):
            run.stopper, run.tail = self._stopper(launch, plan, output)
        self._running[name] = run
        self._report("start", name, " ".join(f"{k}={v}" for k, v in launch.parameter_assignments) + f" (pid {proc.pid})")

    def _plan(self, launch: TrialLaunch, trial_dir: Path) -> CommandPlan:
        from katibsim.spec.templates import primary_container, render_trial

        exp = self.context.experiment
        manifest = launch.run_spec
        if manifest is None:
            manifest = render_trial(exp, launch.name, dict(launch.parameter_assignments))
        container = primary_container(manifest, exp)
        return plan_command(container, trial_name=launch.name, trial_dir=trial_dir, local_map=self.local_map,
                            collector=self.collector, label=_label(container, manifest))

    def _stopper(self, launch: TrialLaunch, plan: CommandPlan, output: Path):
        from katibsim.collectors import CollectorEarlyStopper, StopRule, file_format

        rules = [StopRule(name=r.metric, value=str(r.to_katib()["value"]), comparison=r.comparison.value,
                          start_step=r.start_step) for r in launch.rules]
        fmt = file_format(self.collector)
        stopper = CollectorEarlyStopper(rules, self.metric_names, self.objective_type, file_format=fmt,
                                        filters=self.collector.metrics_format)
        source = output if self.collector.kind == "StdOut" else Path(plan.collector_path or output)
        return stopper, Tail(source, root=output.parent if _under(source, output.parent) else None)

    def _fail_now(self, launch: TrialLaunch, now: float, reason: str, message: str, output: Path) -> None:
        output.write_text(message + "\n", encoding="utf-8")
        self._ready.append(TrialEvent(name=launch.name, time=now, outcome=Outcome.FAILED, started=now, reason=reason,
                                      message=message, output_tail=tuple(message.splitlines()[-self.tail_lines:]),
                                      output_path=str(output)))

    # -- waiting ------------------------------------------------------------------------------------------------
    def wait(self, deadline: float | None = None) -> list[TrialEvent]:
        if self._replaying:
            return self._replay()
        self._replay_time = None  # the replay is over (or never was): real time from here on
        while True:
            if self.guard.received:
                self._interrupt()
                return []
            events = self._ready + self._poll()
            self._ready = []
            if events:
                return self._emit(events)
            if not self._running:
                return []
            now = self.now()
            if deadline is not None and now >= deadline:
                return []
            pause = self.poll_interval
            if deadline is not None:
                pause = min(pause, max(deadline - now, 0.0))
            time.sleep(pause)

    def _poll(self) -> list[TrialEvent]:
        out: list[TrialEvent] = []
        mono = monotonic()
        for name, run in list(self._running.items()):
            rc = run.proc.poll()
            if run.stopping is not None:
                if rc is None and mono < (run.stop_sent or mono) + self.kill_grace:
                    continue
                reap_group(run.proc)
                rc = run.proc.wait()
                out.append(self._finish(run, run.stopping, rc))
                continue
            if rc is not None:
                reap_group(run.proc)  # a container's other processes die with its main process
                out.append(self._finish(run, "exit", rc))
                continue
            if run.stopper is not None and run.collector_crash is None:
                decision = run.stopper.feed_lines(run.tail.lines())
                if decision.stop:
                    self._begin_stop(run, "early")
                    continue
                if decision.crash:
                    run.collector_crash = decision.crash
            if run.deadline is not None and mono >= run.deadline:
                self._begin_stop(run, "timeout")
        return out

    def _begin_stop(self, run: _Running, why: str) -> None:
        import signal

        run.stopping = why
        run.stop_time = self.now()
        run.stop_sent = monotonic()
        try:
            os.killpg(run.proc.pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass

    def _emit(self, events: list[TrialEvent]) -> list[TrialEvent]:
        events.sort(key=lambda e: e.time)
        self._batch += 1
        for i, ev in enumerate(events):
            self._running.pop(ev.name, None)
            rec = TrialRecord(ev, self._assignments.get(ev.name, ()), self._batch, i)
            if ev.outcome != Outcome.KILLED:
                write_record(self.trials_dir / ev.name, rec)
            self._report("end", ev.name, _describe_end(ev, self.metric_names[0]))
        return events

    def _replay(self) -> list[TrialEvent]:
        batch = min(r.batch for r in self._replaying.values())
        recs = sorted((r for r in self._replaying.values() if r.batch == batch), key=lambda r: r.order)
        for r in recs:
            del self._replaying[r.name]
        if self._replay_time is not None:
            self._replay_time = max([self._replay_time] + [r.event.time for r in recs])
            events = [r.event for r in recs]
        else:  # re-used after real trials ran: it ends now
            now = self.now()
            events = [replace(r.event, time=now) for r in recs]
        self._batch += 1
        for i, (r, ev) in enumerate(zip(recs, events)):
            write_record(self.trials_dir / r.name, TrialRecord(ev, r.assignment, self._batch, i))
        return events

    # -- ending a trial --------------------------------------------------------------------------------------------
    def _finish(self, run: _Running, how: str, rc: int | None) -> TrialEvent:
        event = self._end(run, how, rc)
        if event.outcome == Outcome.SUCCEEDED and not event.message:
            # The tail explains failures; a run's results stay small without it (output.log keeps all).
            event = replace(event, output_tail=())
        return event

    def _end(self, run: _Running, how: str, rc: int | None) -> TrialEvent:
        name = run.launch.name
        end = run.stop_time if run.stop_time is not None else self.now()
        tail = last_lines(run.output, self.tail_lines)
        base = dict(name=name, time=end, started=run.started, output_tail=tail, output_path=str(run.output))
        collected, why_not = self._collect(run)
        reports = _reports(collected) if collected is not None and collected.reported else {}
        if how == "timeout":
            return TrialEvent(outcome=Outcome.FAILED, reports=reports, reason="DeadlineExceeded",
                              message=f"the trial ran longer than the timeout of {self.timeout:g} s; its process group "
                                      "was stopped", **base)
        if how == "stop":
            return TrialEvent(outcome=Outcome.KILLED, reports=reports, reason="TrialKilled",
                              message=run.extra.get("reason", ""), **base)
        if how == "early":
            stopped_at = _reports_up_to(collected, self.metric_names[0], run.stopper.stopped_at) if collected else None
            return TrialEvent(outcome=Outcome.EARLY_STOPPED, reports=reports, stopped_at=stopped_at or None, **base)
        if rc != 0:
            return TrialEvent(outcome=Outcome.FAILED, reports=reports, reason="Error",
                              message=_exit_message(rc, tail), **base)
        if run.collector_crash is not None:
            return TrialEvent(outcome=Outcome.SUCCEEDED, reports={},
                              message=f"Katib's collector would crash while checking the early-stopping rules "
                                      f"({run.collector_crash}) and report nothing", **base)
        if collected is None or not collected.reported:
            return TrialEvent(outcome=Outcome.SUCCEEDED, reports={},
                              message=f"Katib's collector would report nothing: {why_not}", **base)
        if collected.condition_hint == "MetricsUnavailable":
            why = collected.warnings[0] if collected.warnings else f"{self.metric_names[0]} was never reported"
            return TrialEvent(outcome=Outcome.METRICS_UNAVAILABLE, reports=reports, message=why, **base)
        return TrialEvent(outcome=Outcome.SUCCEEDED, reports=reports, **base)

    def _collect(self, run: _Running):
        """Katib's collector over the trial's output: (result, why it reported nothing)."""
        from katibsim.collectors import collect

        spec = self.collector
        if spec.kind == "StdOut":
            source = run.output
        elif spec.kind == "TensorFlowEvent":
            source = Path(run.plan.collector_path or run.trial_dir)
        else:
            source = Path(run.plan.collector_path or run.output)
        if _under(source, run.trial_dir) and not inside(source, run.trial_dir):
            # The trainer replaced part of the path by a symbolic link out of its folder: Katib's
            # collector would read its own emptyDir; katibsim reads nothing rather than a host file.
            return None, (f"{source} resolves to {os.path.realpath(source)}, outside the trial's folder (a symbolic "
                          "link?); katibsim does not read it")
        try:
            if spec.kind == "TensorFlowEvent":
                katib_path = spec.file_system_path.path if spec.file_system_path else None
                res = collect(spec, self.metric_names, path=source, katib_path=katib_path, all_lines=False)
            else:
                res = collect(spec, self.metric_names, path=source, all_lines=False)
        except KatibsimError as exc:
            return None, str(exc)
        return res, res.collector_error or ""

    # -- stopping ------------------------------------------------------------------------------------------------
    def stop(self, name: str, reason: str = "") -> TrialEvent | None:
        run = self._running.get(name)
        if run is None:
            rec = self._replaying.pop(name, None)
            if rec is None:
                return None
            now = self.now()
            return TrialEvent(name=name, time=now, outcome=Outcome.KILLED, started=rec.event.started,
                              reason="TrialKilled", message=reason)
        from katibsim.backends.process import stop_group

        run.stop_time = self.now()
        run.extra["reason"] = reason
        rc = stop_group(run.proc, self.kill_grace)
        event = self._finish(run, "stop", rc)
        self._running.pop(name, None)
        return event

    def _stop_all(self) -> list[str]:
        """SIGTERM every running group at once, give them the grace period together, SIGKILL the rest."""
        import signal

        from katibsim.backends.process import stop_group

        names = list(self._running)
        runs = list(self._running.values())
        for run in runs:
            try:
                os.killpg(run.proc.pid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                pass
        end = monotonic() + self.kill_grace
        # A second Ctrl-C (guard.forced) cuts the grace period short.
        while runs and monotonic() < end and not self.guard.forced and any(r.proc.poll() is None for r in runs):
            time.sleep(0.02)
        for run in runs:
            stop_group(run.proc, 0.0)
        self._running.clear()
        return names

    def _interrupt(self) -> None:
        names = self._stop_all()
        self._unspawned.clear()
        self._replaying.clear()
        self._ready.clear()
        running = f"stopped {len(names)} running trial(s) ({', '.join(names)}) with their process groups" if names \
            else "no trial was running"
        self.interrupted = (f"the run was interrupted by {self.guard.name()}: {running}; finished trials are kept in "
                            f"{self.out}; continue with --resume --out {self.out}")

    def close(self) -> None:
        try:
            self._stop_all()
        finally:
            self.guard.restore()

    # -- notes ----------------------------------------------------------------------------------------------------
    def notes(self) -> tuple[tuple[str, str], ...]:
        out = list(self._notes.items())
        if self._reused or self._rerun:
            out.append(("local-resumed", f"resumed from {self.out}: {self._reused} finished trial(s) re-used, "
                                         f"{self._rerun} earlier trial(s) re-run because the run asked for a different "
                                         "assignment under the same name"))
        return tuple(out)

    def describe(self) -> str:
        return self.local_map.describe()

    def _report(self, kind: str, name: str, text: str) -> None:
        if self.progress is not None:
            self.progress(kind, name, text)


# -- helpers ----------------------------------------------------------------------------------------------------------
def _under(path: Path, folder: Path) -> bool:
    """Whether ``path`` is written as a path inside ``folder`` (before links are resolved)."""
    p, f = os.path.normpath(path), os.path.normpath(folder)
    return p == f or p.startswith(f.rstrip(os.sep) + os.sep)


def _label(container: Mapping[str, Any], manifest: Mapping[str, Any]) -> str:
    return f"container {container.get('name')!r} of the {manifest.get('kind', 'trial')}"


def _runs_more_than_primary(manifest: Mapping[str, Any]) -> bool:
    """More than one container, or a replica count above 1, anywhere in the manifest."""
    containers = 0
    replicas = 0

    def walk(x: Any) -> None:
        nonlocal containers, replicas
        if isinstance(x, Mapping):
            for k, v in x.items():
                if k == "containers" and isinstance(v, list):
                    containers += len(v)
                elif k == "replicas" and isinstance(v, int) and not isinstance(v, bool):
                    replicas = max(replicas, v)
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(manifest)
    return containers > 1 or replicas > 1


def _reports(collected) -> dict[str, tuple[tuple[int, str], ...]]:
    """The collector's logs per metric in Katib's DB order, as ``(step, value string)``; the step is
    the event's step (TensorFlow events) or the report's number (text logs)."""
    from katibsim.collectors.observation import db_order

    by: dict[str, list[tuple[int, str]]] = {}
    for log in db_order(collected.logs):
        seq = by.setdefault(log.name, [])
        seq.append((log.step if log.step is not None else len(seq) + 1, log.value))
    return {m: tuple(v) for m, v in by.items()}


def _reports_up_to(collected, metric: str, line: int | None) -> int:
    """How many reports of ``metric`` the collector had read when it stopped the trial at ``line``
    (the process may print a little more before the signal reaches it)."""
    count = 0
    for log in collected.logs:
        if log.name != metric:
            continue
        where = log.where or ""
        if line is not None and where.startswith("line "):
            try:
                if int(where.split()[1]) > line:
                    continue
            except (IndexError, ValueError):
                pass
        count += 1
    return count


def _exit_message(rc: int | None, tail: Sequence[str]) -> str:
    import signal

    if rc is None:
        what = "the process could not be stopped"
    elif rc < 0:
        try:
            what = f"killed by {signal.Signals(-rc).name}"
        except ValueError:
            what = f"killed by signal {-rc}"
    else:
        what = f"exit code {rc}"
    last = next((line.strip() for line in reversed(tail) if line.strip()), "")
    return f"{what}: {last}" if last else what


def _describe_end(ev: TrialEvent, objective: str) -> str:
    values = [v for _, v in ev.reports.get(objective, ())]
    value = f" {objective}={values[-1]} (last report)" if values else ""
    extra = f" ({ev.reason}: {ev.message})" if ev.outcome == Outcome.FAILED else (
        f" ({ev.message})" if ev.message and ev.outcome != Outcome.SUCCEEDED else "")
    return f"{ev.outcome.value}{value}{extra}"


__all__ = ["LocalBackend", "OUTPUT_FILE", "COMMAND_FILE", "SUPPORTED_COLLECTORS"]
