"""The kind backend: each trial runs as its own Job, TFJob (or any kind) on a Kubernetes cluster.

``--backend kind``. For every trial the controller starts, the rendered trial template
(``docs/katib-behaviour.md`` §7.1) is made ready by :func:`katibsim.k8s.manifests.prepare_trial` (Katib's
experiment and trial labels, the namespace, katibsim's run label, the shared metrics folder)
and created on the cluster. :meth:`KindBackend.wait` then polls — one LIST of the run's trial
objects per cycle, with capped exponential back-off, a watch on the same selection only to wake
up early — and decides each trial's end the way Katib's trial controller does (§3.9): the
``failureCondition`` first, then the ``successCondition`` (Katib's defaults per kind, §1.2).

Metrics are read by the Experiment's collector (:func:`katibsim.collectors.collect.collect`)
from the primary pod (``primaryPodLabels``): its primary container's log for StdOut, or the
files it wrote into the folder shared with the kind node for File and TensorFlowEvent. Early-
stopping rules are applied to the log while the trial runs, as Katib's collector sidecar does.

Every object carries the label ``katibsim/run=<run id>``; a trial's object is deleted (with a
propagation policy, so its pods go too) as soon as its metrics are read, and :meth:`close` —
called at the end, after an error and on Ctrl-C or SIGTERM — deletes whatever of the run is left
and waits until the API server no longer lists it.

Options come from :class:`KindOptions`, whose defaults read ``KATIBSIM_KUBE_CONTEXT`` (default
``kind-katibsim``; an empty value means the kubeconfig's current context), ``KUBECONFIG``,
``KATIBSIM_NAMESPACE``, ``KATIBSIM_SHARED_DIR`` (default ``/tmp/katibsim-shared``),
``KATIBSIM_TRIAL_TIMEOUT`` (seconds), ``KATIBSIM_POLL_INTERVAL`` (seconds, default 1) and ``KATIBSIM_KEEP`` (1: leave the objects for debugging).
"""

from __future__ import annotations

import logging
import os
import posixpath
import shutil
import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, ClassVar, Mapping

from katibsim.backends.base import Backend, Outcome, RunContext, TrialEvent, TrialLaunch
from katibsim.errors import InputError, SpecError, FieldError

log = logging.getLogger("katibsim.kind")

UNAVAILABLE = "unavailable"


def _env_float(name: str) -> float | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise InputError(f"{name}={raw!r}: expected a number of seconds") from None


def _env_context() -> str | None:
    raw = os.environ.get("KATIBSIM_KUBE_CONTEXT")
    if raw is None:
        return "kind-katibsim"
    return raw.strip() or None


@dataclass(frozen=True)
class KindOptions:
    """How the kind backend reaches the cluster and paces itself (see the module docstring)."""

    context: str | None = field(default_factory=_env_context)
    kubeconfig: str | None = field(default_factory=lambda: None)
    namespace: str | None = field(default_factory=lambda: os.environ.get("KATIBSIM_NAMESPACE") or None)
    shared_host_dir: str = field(default_factory=lambda: os.environ.get("KATIBSIM_SHARED_DIR") or "/tmp/katibsim-shared")
    shared_node_dir: str = "/katibsim-shared"
    poll_interval: float = field(default_factory=lambda: _env_float("KATIBSIM_POLL_INTERVAL") or 1.0)
    poll_max: float = 5.0
    trial_timeout: float | None = field(default_factory=lambda: _env_float("KATIBSIM_TRIAL_TIMEOUT"))
    image_pull_grace: float = 20.0  # the kubelet retries pulls; a registry hiccup is not a broken image
    watch: bool = True
    cleanup_timeout: float = 60.0
    keep: bool = field(default_factory=lambda: os.environ.get("KATIBSIM_KEEP", "") in ("1", "true", "yes"))
    handle_signals: bool = True
    retry: Any = None  # a katibsim.k8s.client.RetryPolicy; None: its defaults


@dataclass
class _Trial:
    launch: TrialLaunch
    prepared: Any  # PreparedTrial
    created: float
    running_at: float | None = None
    pull_since: float | None = None
    seen: bool = False


class KindBackend(Backend):
    """Trials as objects on a Kubernetes cluster (``--backend kind``); see the module docstring."""

    name: ClassVar[str] = "kind"
    simulated: ClassVar[bool] = False

    def __init__(self, options: KindOptions | None = None, *, kube: Any = None,
                 sleep: Callable[[float], None] = time.sleep, **overrides: Any) -> None:
        opts = options or KindOptions()
        if overrides:
            opts = replace(opts, **overrides)
        self.options = opts
        self.kube = kube
        self._own_kube = kube is None
        self.sleep = sleep
        self._trials: dict[str, _Trial] = {}
        self._t0 = time.monotonic()
        self._res = None
        self._rv: str | None = None
        self._interval = opts.poll_interval
        self.guard: Any = None  # a SignalGuard while a run is open (Ctrl-C, SIGTERM, SIGHUP)
        self.interrupted: str | None = None
        self.run_id = "ks-" + uuid.uuid4().hex[:10]
        self.created: list[str] = []  # every trial object created, in order
        self.warnings: list[str] = []
        self.leftovers: list[str] = []  # what close() could not remove (also logged)
        self._closed = False

    # -- set-up ---------------------------------------------------------------------------------------
    def open(self, context: RunContext) -> None:
        super().open(context)
        from katibsim.k8s import conditions
        from katibsim.k8s.client import KubeClient
        from katibsim.k8s.manifests import SharedFolder, collector_mount
        from katibsim.spec.model import MetricsCollectorSpec

        self._t0 = time.monotonic()
        exp = context.experiment
        self.namespace = self.options.namespace or exp.namespace or "default"
        self.collector = exp.spec.metrics_collector_spec or MetricsCollectorSpec()
        collector_mount(self.collector)  # refuses collectors the backend cannot read, before any trial
        self.metric_names = tuple(context.metric_names)
        tt = exp.spec.trial_template
        self.primary_pod_labels = dict(tt.primary_pod_labels or {}) if tt is not None else {}
        self.shared = SharedFolder(self.options.shared_host_dir, self.options.shared_node_dir)

        spec = tt.trial_spec if tt is not None and isinstance(tt.trial_spec, Mapping) else None
        self.kind = str(spec.get("kind")) if spec and spec.get("kind") else None
        self.api_version = str(spec.get("apiVersion")) if spec and spec.get("apiVersion") else None
        self.success = (tt.success_condition if tt is not None else None) or None
        self.failure = (tt.failure_condition if tt is not None else None) or None
        if self.kind is not None:
            self._conditions_for(self.kind, exp.source_file)
        for fld, expr in (("successCondition", self.success), ("failureCondition", self.failure)):
            if expr:
                conditions.parse(expr, field=f"spec.trialTemplate.{fld}")

        if self.kube is None:
            extra = {"retry": self.options.retry} if self.options.retry is not None else {}
            self.kube = KubeClient.from_kubeconfig(context=self.options.context, config_file=self.options.kubeconfig,
                                                   **extra)
        self.kube.server_version()  # ApiUnreachable before anything else
        if self.kube.namespace_exists(self.namespace) is False:
            from katibsim.k8s.errors import NamespaceMissing

            raise NamespaceMissing(self.namespace)
        if self.kind is not None and self.api_version is not None:
            self._res = self.kube.resource(self.api_version, self.kind)  # CrdMissing before any trial
        if self.options.handle_signals:
            from katibsim.backends.process import SignalGuard

            # A signal ends the run at the next poll (wait() returns, close() deletes what is
            # left); a second one raises KeyboardInterrupt, and close() still runs.
            self.guard = SignalGuard()
            if not self.guard.install():
                self.guard = None

    def _conditions_for(self, kind: str, file: str | None) -> None:
        from katibsim.k8s.conditions import DEFAULT_CONDITIONS

        default = DEFAULT_CONDITIONS.get(kind)
        if self.success is None and default:
            self.success = default[0]
        if self.failure is None and default:
            self.failure = default[1]
        if self.success is None or self.failure is None:
            raise SpecError(FieldError(
                "spec.trialTemplate.successCondition", "successCondition and failureCondition must be specified "
                f"for a trial of kind {kind} (Katib has no defaults for it)", file=file, kind="required"))

    # -- the Backend interface ----------------------------------------------------------------------------
    def now(self) -> float:
        return time.monotonic() - self._t0

    @property
    def active(self) -> int:
        return len(self._trials)

    def start(self, launch: TrialLaunch) -> None:
        from katibsim.k8s.manifests import RUN_LABEL, prepare_trial
        from katibsim.spec.templates import primary_container, render_trial

        exp = self.context.experiment
        manifest = launch.run_spec
        if manifest is None:
            manifest = render_trial(exp, launch.name, dict(launch.parameter_assignments))
        kind, api_version = str(manifest.get("kind") or ""), str(manifest.get("apiVersion") or "")
        if self._res is None or self.kind != kind:
            self.kind, self.api_version = kind, api_version
            self._conditions_for(kind, exp.source_file)
            self._res = self.kube.resource(api_version, kind)
        container = primary_container(manifest, exp)
        prepared = prepare_trial(
            manifest, experiment=exp.name, trial=launch.name, namespace=self.namespace, run_id=self.run_id,
            collector=self.collector, primary_container=str(container.get("name") or ""), shared=self.shared,
        )
        for w in prepared.warnings:
            if w not in self.warnings:
                self.warnings.append(w)
                log.warning(w)
        self.kube.create(prepared.manifest, owner=(RUN_LABEL, self.run_id))
        self.created.append(launch.name)
        self._trials[launch.name] = _Trial(launch, prepared, self.now())
        self._interval = self.options.poll_interval

    def _interrupt_seen(self) -> bool:
        if self.guard is not None and self.guard.received and self.interrupted is None:
            self.interrupted = (f"the run was interrupted by {self.guard.name()} with {len(self._trials)} trial(s) "
                                "running; their objects were deleted from the cluster")
        return self.interrupted is not None

    def wait(self, deadline: float | None = None) -> list[TrialEvent]:
        while self._trials:
            if self._interrupt_seen():
                return []
            events = self._poll()
            if events:
                self._interval = self.options.poll_interval
                return events
            now = self.now()
            if deadline is not None and now >= deadline:
                return []
            pause = self._interval
            if deadline is not None:
                pause = min(pause, deadline - now)
            if self.options.trial_timeout is not None:
                soonest = min(t.created for t in self._trials.values()) + self.options.trial_timeout
                pause = min(pause, max(0.0, soonest - now))
            self._idle(max(pause, 0.0))
            self._interval = min(self.options.poll_max, self._interval * 2)
        return []

    def stop(self, name: str, reason: str = "") -> TrialEvent | None:
        trial = self._trials.pop(name, None)
        if trial is None:
            return None
        reports: Mapping[str, tuple] = {}
        try:
            pods = self._pods()
            reports = self._collect(trial, pods)[0]
        except Exception as exc:  # noqa: BLE001 - a killed trial's partial metrics are best effort
            log.debug("reading metrics of killed trial %s: %s", name, exc)
        self._delete(trial)
        return TrialEvent(name=name, time=self.now(), outcome=Outcome.KILLED, reports=reports,
                          started=trial.running_at, reason="TrialKilled", message=reason)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if self.kube is not None and self._res is not None and not self.options.keep:
                self._cleanup()
            if not self.options.keep and hasattr(self, "shared"):
                # The run's event files; root-owned files that cannot be removed are left (logged at debug).
                shutil.rmtree(posixpath.join(self.shared.host_dir, self.run_id), ignore_errors=True)
        finally:
            if self.guard is not None:
                self.guard.restore()
            if self._own_kube and self.kube is not None:
                self.kube.close()

    # -- polling --------------------------------------------------------------------------------------------
    def _selector(self) -> str:
        from katibsim.k8s.manifests import run_selector

        return run_selector(self.run_id)

    def _pods(self) -> list[dict]:
        from katibsim.k8s.client import POD

        return self.kube.list(POD, self.namespace, self._selector())[0]

    def _idle(self, seconds: float) -> None:
        if seconds <= 0:
            return
        if self.options.watch and seconds >= 1.0 and self._res is not None:
            result = self.kube.wait_changes(self._res, self.namespace, self._selector(), self._rv, seconds)
            if result.outcome == "event":
                self._rv = result.resource_version or self._rv
                self._interval = self.options.poll_interval
            elif result.outcome == "gone":
                self._rv = None  # 410: the next LIST gives a fresh resourceVersion
            return
        end = time.monotonic() + seconds
        while not self._interrupt_seen():  # slices, so a signal is seen within a fraction of a second
            left = end - time.monotonic()
            if left <= 0:
                return
            self.sleep(min(left, 0.25))

    def _poll(self) -> list[TrialEvent]:
        from katibsim.k8s import status as st
        from katibsim.k8s.errors import ImagePullError
        from katibsim.k8s.manifests import TRIAL_LABEL

        items, rv = self.kube.list(self._res, self.namespace, self._selector())
        self._rv = rv or self._rv
        by_name = {str((o.get("metadata") or {}).get("name")): o for o in items}
        pods = self._pods()
        pods_of: dict[str, list[dict]] = {}
        for p in pods:
            trial = ((p.get("metadata") or {}).get("labels") or {}).get(TRIAL_LABEL)
            pods_of.setdefault(str(trial), []).append(p)
        now = self.now()
        events: list[TrialEvent] = []
        for name, trial in list(self._trials.items()):
            obj = by_name.get(name)
            trial_pods = pods_of.get(name, [])
            if trial.running_at is None and any(st.pod_started(p) for p in trial_pods):
                trial.running_at = now
            if obj is None:
                if trial.seen or now - trial.created > 30.0:
                    events.append(self._end(trial, Outcome.FAILED, trial_pods, "ObjectDeleted",
                                            f"the trial's {self.kind} was deleted outside katibsim"))
                continue
            trial.seen = True
            job = st.job_status(obj, self.success, self.failure)
            if job.phase == st.Phase.FAILED:
                events.append(self._end(trial, Outcome.FAILED, trial_pods, job.reason, job.message))
                continue
            if job.phase == st.Phase.SUCCEEDED:
                events.append(self._end(trial, Outcome.SUCCEEDED, trial_pods, job.reason, job.message))
                continue
            problem = next((pr for pr in map(st.image_pull_problem, trial_pods) if pr is not None), None)
            if problem is None:
                trial.pull_since = None
            else:
                trial.pull_since = trial.pull_since if trial.pull_since is not None else now
                if problem.reason == "InvalidImageName" or now - trial.pull_since >= self.options.image_pull_grace:
                    raise ImagePullError(name, problem.pod, problem.container, problem.image, problem.reason,
                                         problem.message)
            if trial.launch.rules and trial.running_at is not None:
                stopped = self._early_stop(trial, trial_pods)
                if stopped is not None:
                    events.append(stopped)
                    continue
            timeout = self.options.trial_timeout
            if timeout is not None and now - trial.created >= timeout:
                events.append(self._end(trial, Outcome.FAILED, trial_pods, "DeadlineExceeded",
                                        f"the trial did not finish within {timeout:g} s (KATIBSIM_TRIAL_TIMEOUT)"))
        return events

    # -- metrics ------------------------------------------------------------------------------------------------
    def _collect(self, trial: _Trial, pods: list[dict]) -> tuple[dict[str, tuple], Any]:
        """(reports for the TrialEvent, the CollectionResult) from the trial's primary pod."""
        from katibsim.collectors.collect import collect
        from katibsim.k8s import status as st

        primary = st.primary_pods(pods, self.primary_pod_labels)
        pod = primary[-1] if primary else None
        prepared = trial.prepared
        if self.collector.kind == "StdOut":
            text = ""
            if pod is not None:
                text = self.kube.pod_log(st.pod_name(pod), self.namespace, prepared.primary_container) or ""
                self._save_log(trial.launch.name, text)
            result = collect(self.collector, self.metric_names, text=text)
        else:
            where = prepared.host_file(st.pod_name(pod)) if pod is not None else None
            if where is None:
                where = prepared.host_file("no-primary-pod") or "/nonexistent"
            result = collect(self.collector, self.metric_names, path=Path(where), katib_path=prepared.collector_path)
        return _reports(result), result

    def _save_log(self, trial: str, text: str) -> None:
        out = self.context.output_dir if hasattr(self, "context") else None
        if not out:
            return
        try:
            d = Path(out) / "trials" / trial
            d.mkdir(parents=True, exist_ok=True)
            (d / "pod.log").write_text(text, encoding="utf-8")
        except OSError as exc:  # the log copy is a convenience
            log.debug("cannot keep the log of %s: %s", trial, exc)

    def _early_stop(self, trial: _Trial, pods: list[dict]) -> TrialEvent | None:
        from katibsim.early_stopping import collector_stop_index

        reports, _ = self._collect(trial, pods)
        metric = self.metric_names[0]
        logs = [(metric, v) for _, v in reports.get(metric, ()) if not isinstance(v, str)]
        if not logs:
            return None
        stop_after = collector_stop_index(trial.launch.rules, logs, objective_metric=metric,
                                          maximize=self.context.maximize)
        if stop_after is None:
            return None
        self._trials.pop(trial.launch.name, None)
        self._delete(trial)
        cut = {metric: reports[metric][:stop_after]}
        return TrialEvent(trial.launch.name, self.now(), Outcome.EARLY_STOPPED, cut, started=trial.running_at,
                          stopped_at=stop_after)

    def _end(self, trial: _Trial, outcome: Outcome, pods: list[dict], reason: str, message: str) -> TrialEvent:
        from katibsim.k8s import status as st

        name = trial.launch.name
        self._trials.pop(name, None)
        reports: Mapping[str, tuple] = {}
        try:
            reports, result = self._collect(trial, pods)
            if outcome == Outcome.SUCCEEDED and not result.reported:
                outcome = Outcome.METRICS_UNAVAILABLE
                message = "; ".join(x for x in (message, result.collector_error or "") if x)
        except Exception as exc:  # noqa: BLE001 - a lost log must not lose the trial's end
            if outcome == Outcome.SUCCEEDED:
                outcome = Outcome.METRICS_UNAVAILABLE
            message = "; ".join(x for x in (message, f"metrics could not be read: {exc}") if x)
        if outcome == Outcome.FAILED:
            why = "; ".join(filter(None, (st.pod_failure(p) for p in st.primary_pods(pods, self.primary_pod_labels))))
            if why:
                message = f"{message}; {why}" if message else why
        self._delete(trial)
        return TrialEvent(name=name, time=self.now(), outcome=outcome, reports=reports,
                          started=trial.running_at, reason=reason, message=message)

    # -- cleanup ---------------------------------------------------------------------------------------------------
    def _delete(self, trial: _Trial) -> None:
        if self.options.keep:
            return
        try:
            self.kube.delete(self._res, trial.launch.name, self.namespace, propagation="Background")
        except Exception as exc:  # noqa: BLE001 - close() sweeps what is left
            log.debug("deleting %s: %s", trial.launch.name, exc)

    def _cleanup(self) -> None:
        from katibsim.k8s.client import POD

        deadline = time.monotonic() + self.options.cleanup_timeout
        selector = self._selector()
        pause = 0.2
        while True:
            try:
                objs = self.kube.list(self._res, self.namespace, selector)[0]
                pods = self.kube.list(POD, self.namespace, selector)[0]
                for o in objs:
                    self.kube.delete(self._res, str(o["metadata"]["name"]), self.namespace, propagation="Foreground")
                if not objs:
                    # Pods left after their owner went (orphaned, or still terminating) go one by one.
                    for p in pods:
                        self.kube.delete(POD, str(p["metadata"]["name"]), self.namespace)
                if not objs and not pods:
                    self._trials.clear()
                    return
                left = [f"{self.kind}/{o['metadata']['name']}" for o in objs] + [f"pod/{p['metadata']['name']}" for p in pods]
            except KeyboardInterrupt:
                left = ["(cleanup interrupted)"]
                break
            except Exception as exc:  # noqa: BLE001 - report below
                left = [f"(cleanup failed: {exc})"]
                if time.monotonic() + pause > deadline:
                    break
            if time.monotonic() + pause > deadline:
                break
            self.sleep(pause)
            pause = min(2.0, pause * 2)
        self.leftovers = left
        log.warning("katibsim could not remove everything it created: %s; remove it with `kubectl delete %s,pods "
                    "-n %s -l %s`", ", ".join(left), self._res.plural if self._res else "jobs", self.namespace, selector)


def _reports(result: Any) -> dict[str, tuple]:
    """The collector's metric logs as TrialEvent reports: ``{metric: ((step, value), ...)}``."""
    out: dict[str, list] = {}
    for m in result.logs if result.reported else ():
        logs = out.setdefault(m.name, [])
        step = m.step if m.step is not None else len(logs) + 1
        number = m.number
        logs.append((int(step), float(number) if number is not None else str(m.value)))
    return {k: tuple(v) for k, v in out.items()}


__all__ = ["KindBackend", "KindOptions"]
