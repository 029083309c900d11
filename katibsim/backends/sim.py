"""The simulated backend: trials are evaluated by a simulated objective on a simulated clock.

When a trial starts, its whole run is decided at once (the Syne Tune simulator's approach,
``docs/prior-art.md#syne-tune-simulator``): the objective gives the final value, the learning curve and
the training time; the simulation model (:class:`~katibsim.engine.options.SimulationOptions`)
adds the start-up delay and decides failures and missing metrics; the early-stopping rules are
applied to the curve the way Katib's collector applies them to live reports. Only the end of the
trial goes on the event queue — nothing outside the trial's pod reacts to its intermediate
reports in Katib, so they need no events of their own — and ``wait()`` jumps straight to it.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import ClassVar

import numpy as np

from katibsim.backends.base import Backend, Outcome, RunContext, TrialEvent, TrialLaunch
from katibsim.early_stopping import collector_stop_index
from katibsim.engine.clock import EventQueue, SimulatedClock
from katibsim.engine.options import SimulationOptions
from katibsim.errors import ContractError, KatibsimError
from katibsim.objective import PARENT_LABEL

UNAVAILABLE = "unavailable"


class _Plan:
    """A started trial's decided future: its event, and its report times (for stop())."""

    __slots__ = ("event", "report_times")

    def __init__(self, event: TrialEvent, report_times: tuple[float, ...]) -> None:
        self.event = event
        self.report_times = report_times


class SimBackend(Backend):
    """Trials on a simulated clock against a simulated objective (``--backend sim``, the default)."""

    name: ClassVar[str] = "sim"
    simulated: ClassVar[bool] = True

    _DRAWS = 3  # uniforms per trial from the failure stream: fails?, where it crashes, metrics lost?
    _BLOCK = 1024

    def __init__(self, options: SimulationOptions | None = None) -> None:
        self._options_override = options
        self.clock = SimulatedClock()
        self.queue: EventQueue[TrialEvent] = EventQueue()
        self._plans: dict[str, _Plan] = {}
        self._udraws: list[list[float]] = []
        self._upos = 0

    # -- Backend ---------------------------------------------------------------------------------
    def open(self, context: RunContext) -> None:
        super().open(context)
        if context.objective is None:
            raise KatibsimError("the sim backend needs a simulated objective (--objective NAME)")
        self.options = self._options_override or context.options
        self.objective = context.objective
        self.mapping = context.mapping
        self.noise_rng = context.noise_rng if context.noise_rng is not None else np.random.default_rng(0)
        self.failure_rng = context.failure_rng if context.failure_rng is not None else np.random.default_rng(1)
        self.metric = context.objective_metric
        self.wanted = set(context.metric_names)
        self.clock = SimulatedClock()
        self.queue = EventQueue()
        self._plans = {}
        # Checkpoints of labelled trials (an algorithm that labels its trials, like PBT, may name
        # one as a later trial's parent); unlabelled trials never become parents, so none is kept.
        self._checkpoints: dict[str, object] = {}

    def now(self) -> float:
        return self.clock.now

    @property
    def active(self) -> int:
        return len(self._plans)

    def start(self, launch: TrialLaunch) -> None:
        plan = self._plan(launch, self.clock.now)
        self._plans[launch.name] = plan
        self.queue.push(plan.event.time, launch.name, plan.event)

    def wait(self, deadline: float | None = None) -> list[TrialEvent]:
        t, due = self.queue.pop_next(until=deadline)
        if due:
            self.clock.advance_to(t)
            plans = self._plans
            out = []
            for key, payload in due:
                plans.pop(key, None)
                out.append(payload)
            return out
        if deadline is not None and deadline > self.clock.now:
            self.clock.advance_to(deadline)
        return []

    def stop(self, name: str, reason: str = "") -> TrialEvent | None:
        plan = self._plans.pop(name, None)
        if plan is None:
            return None
        self.queue.cancel(name)
        now = self.clock.now
        n = sum(1 for t in plan.report_times if t <= now)
        reports = {m: logs[:n] if m == self.metric else () for m, logs in plan.event.reports.items()}
        reports = {m: v for m, v in reports.items() if v}
        return TrialEvent(name=name, time=now, outcome=Outcome.KILLED, reports=reports,
                          started=plan.event.started, reason="TrialKilled", message=reason,
                          extrapolated=plan.event.extrapolated)

    # -- the simulation model --------------------------------------------------------------------------
    def _uniforms(self) -> list[float]:
        if self._upos >= len(self._udraws):
            # Drawn in blocks and kept as Python floats: cheaper per trial than numpy scalars.
            self._udraws = self.failure_rng.random((self._BLOCK, self._DRAWS)).tolist()
            self._upos = 0
        u = self._udraws[self._upos]
        self._upos += 1
        return u

    def _evaluate(self, launch: TrialLaunch):
        x = self.mapping.apply(launch.assignment) if self.mapping is not None else dict(launch.assignment)
        labels = launch.labels
        checkpoint = self._checkpoints.get(labels.get(PARENT_LABEL, "")) if labels else None
        if checkpoint is not None:  # a child trial continues from its parent's checkpoint
            ev = self.objective.resume(x, self.noise_rng, checkpoint)
        else:
            ev = self.objective.evaluate(x, self.noise_rng)
        if labels and ev.checkpoint is not None:
            self._checkpoints[launch.name] = ev.checkpoint
        try:
            value = float(ev.value)
            duration = float(ev.duration)
        except (TypeError, ValueError):
            name = self.objective.name or type(self.objective).__name__
            raise ContractError(f"objective {name} returned a non-numeric value or duration for {launch.name}") from None
        if not math.isfinite(duration) or duration < 0:
            name = self.objective.name or type(self.objective).__name__
            raise ContractError(f"objective {name} returned duration {ev.duration!r} for {launch.name}; expected seconds >= 0")
        curve = tuple((int(s), float(v)) for s, v in ev.curve) if ev.curve else ((1, value),)
        extra = {m: tuple((int(s), float(v)) for s, v in ev.curves[m]) if ev.curves.get(m) else None
                 for m in (ev.metrics or {})}
        return (value, duration, curve, {m: (float(v), extra[m]) for m, v in (ev.metrics or {}).items()},
                bool(getattr(ev, "extrapolated", False)))

    def _plan(self, launch: TrialLaunch, now: float) -> _Plan:
        value, duration, curve, extra, extrapolated = self._evaluate(launch)
        plan = self._decide(launch, now, value, duration, curve, extra)
        if extrapolated:  # the objective does not know this point: the run counts the trial
            plan.event = replace(plan.event, extrapolated=True)
        return plan

    def _decide(self, launch: TrialLaunch, now: float, value: float, duration: float, curve, extra) -> _Plan:
        opts = self.options
        u_fail, u_where, u_metrics = self._uniforms()
        started = now + opts.startup_delay
        n = len(curve)
        end = started + duration
        # One report (the usual case): its time is started + duration * 1 / 1, which is end.
        report_times = (end,) if n == 1 else tuple(started + duration * (k + 1) / n for k in range(n))

        failing = u_fail < opts.failure_probability
        why = f"failure_probability={opts.failure_probability:g}" if failing else ""
        if not failing and opts.failure_region:
            if all(b.matches(launch.assignment.get(b.parameter)) for b in opts.failure_region):
                failing = True
                why = "failure region " + " and ".join(b.describe() for b in opts.failure_region)
        crash_at = None  # number of reports made before the crash
        crash_time = end
        if failing:
            if opts.crash_after_steps is not None:
                crash_at = min(opts.crash_after_steps, n)
                crash_time = started if crash_at == 0 else report_times[crash_at - 1]
            else:
                crash_time = started + u_where * duration
                crash_at = sum(1 for t in report_times if t <= crash_time)
        lost_metrics = (not failing) and u_metrics < opts.metrics_unavailable_probability

        # The collector sees the objective's reports in order (none when the metric is lost).
        stop_after = None
        if launch.rules and not lost_metrics:
            visible = curve if crash_at is None else curve[:crash_at]
            stop_after = collector_stop_index(
                launch.rules, [(self.metric, v) for _, v in visible],
                objective_metric=self.metric, maximize=self.context.maximize,
            )

        extras = {m: v for m, v in extra.items() if m != self.metric} if extra else {}
        last_step = curve[-1][0]

        if stop_after is not None:
            reports = {self.metric: curve[:stop_after]}
            return _Plan(TrialEvent(name=launch.name, time=report_times[stop_after - 1], outcome=Outcome.EARLY_STOPPED,
                                reports=reports, started=started, stopped_at=stop_after), report_times)
        if failing:
            reports = {self.metric: curve[:crash_at]} if crash_at else {}
            msg = f"simulated crash after {crash_at} of {n} reports ({why})"
            return _Plan(TrialEvent(name=launch.name, time=crash_time, outcome=Outcome.FAILED, reports=reports,
                                started=started, message=msg), report_times)
        # Another metric the objective reports: its own curve when it has one, else one final report.
        reports = {m: (c or ((last_step, v),)) for m, (v, c) in extras.items()}
        if lost_metrics:
            reports[self.metric] = ((last_step, UNAVAILABLE),)
            return _Plan(TrialEvent(name=launch.name, time=end, outcome=Outcome.METRICS_UNAVAILABLE, reports=reports, started=started,
                                    message=f"simulated: objective metric {self.metric} was not reported "
                                            f"(metrics_unavailable_probability={opts.metrics_unavailable_probability:g})"),
                         report_times)
        reports[self.metric] = curve
        return _Plan(TrialEvent(name=launch.name, time=end, outcome=Outcome.SUCCEEDED, reports=reports, started=started),
                     report_times)


__all__ = ["SimBackend"]
