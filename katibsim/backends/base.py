"""The Backend interface: where trials run, driven by the controller on simulated or real time.

The controller (``katibsim.engine.controller``) never runs a trial itself. It hands each new
trial to a backend as a :class:`TrialLaunch` and learns how trials ended from
:class:`TrialEvent` values returned by :meth:`Backend.wait`. One interface serves:

* ``sim`` — a simulated clock: ``wait()`` jumps to the next event instantly;
* ``local`` — real processes on this machine: ``wait()`` blocks until a process ends (or a
  deadline passes) and ``now()`` is real elapsed time;
* ``kind`` — Jobs on a cluster: the same, polling the API server.

A backend is also where Katib's metrics collector lives: it receives each trial's early-stopping
rules and applies them to the trial's reports as they arrive
(:func:`katibsim.early_stopping.collector_stop_index`), exactly as Katib's collector sidecar does
inside the trial's pod, and reports the trial as early-stopped. Times are seconds since
:meth:`Backend.open`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Mapping

from katibsim.early_stopping import Rule

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from katibsim.engine.mapping import ParameterMapping
    from katibsim.engine.options import SimulationOptions
    from katibsim.objective import Objective
    from katibsim.spec.model import Experiment


class Outcome(StrEnum):
    """How a trial's run ended, as the trial controller would conclude from job and collector."""

    SUCCEEDED = "Succeeded"  # job succeeded and the objective metric was reported
    FAILED = "Failed"  # job failed (no observation is collected)
    METRICS_UNAVAILABLE = "MetricsUnavailable"  # job succeeded, objective metric never reported
    EARLY_STOPPED = "EarlyStopped"  # the collector stopped it because every rule was satisfied
    KILLED = "Killed"  # stopped by the controller (Backend.stop)


@dataclass(frozen=True)
class TrialLaunch:
    """Everything a backend needs to run one trial.

    ``assignment`` holds typed values by parameter name (for simulated objectives);
    ``parameter_assignments`` the Katib strings in ``spec.parameters`` order (what a real trial's
    command line receives); ``run_spec`` the rendered trial template (None when not rendered, as for
    the simulated backend); ``rules`` the early-stopping rules the collector must apply;
    ``labels`` the labels the algorithm gave the trial (Katib's PBT: generation and parent).
    """

    name: str
    index: int
    assignment: Mapping[str, Any]
    parameter_assignments: tuple[tuple[str, str], ...]
    rules: tuple[Rule, ...] = ()
    run_spec: Mapping[str, Any] | None = None
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TrialEvent:
    """A trial ended. ``reports`` maps each metric to its logs ``(step, value)`` in time order — what
    the collector stored (a value is a float, or the string ``"unavailable"``).

    ``started`` is when the training itself began (after the start-up delay), ``stopped_at`` the
    number of reports read before an early stop, ``reason`` / ``message`` what the job said (Katib
    appends them as ``. Job reason: <r>`` / ``. Job message: <m>``).
    """

    name: str
    time: float
    outcome: Outcome
    reports: Mapping[str, tuple[tuple[int, float | str], ...]] = field(default_factory=dict)
    started: float | None = None
    stopped_at: int | None = None
    reason: str = ""
    message: str = ""
    # Real backends: the last lines the trial's process printed (stdout and stderr) and where its
    # whole output is kept, so a failed trial can be explained (Katib issue #848).
    output_tail: tuple[str, ...] = ()
    output_path: str | None = None
    # Simulated backends: the objective marked the point as outside what it knows.
    extrapolated: bool = False


@dataclass(frozen=True)
class RunContext:
    """What the controller tells a backend once, before the first trial.

    ``objective``, ``mapping`` and the generators are for simulated backends; real backends use
    the rendered ``run_spec`` of each launch and may ignore them. ``metric_names`` lists the
    objective metric first, then the additional metrics, as Katib's collector receives them.
    """

    experiment: "Experiment"
    options: "SimulationOptions"
    metric_names: tuple[str, ...]
    maximize: bool
    objective: "Objective | None" = None
    mapping: "ParameterMapping | None" = None
    noise_rng: "np.random.Generator | None" = None
    failure_rng: "np.random.Generator | None" = None
    output_dir: str | None = None

    @property
    def objective_metric(self) -> str:
        return self.metric_names[0]


class Backend(ABC):
    """Where trials run. Subclasses implement the five methods; see the module docstring.

    ``simulated`` tells the controller whether time is simulated (then the controller also
    simulates the cluster's own delays, such as the suggestion service's start-up, by waiting on
    the backend's clock) or real (then those delays are whatever they really are).
    """

    name: ClassVar[str] = ""
    simulated: ClassVar[bool] = False
    # Set by a real backend when a signal (Ctrl-C, kill) interrupted the run: what happened, in
    # words. Its ``wait()`` then returns ``[]`` and the controller ends the run as "Interrupted".
    interrupted: str | None = None

    def open(self, context: RunContext) -> None:
        """Called once before the first trial; the clock starts at 0 here."""
        self.context = context

    @abstractmethod
    def now(self) -> float:
        """Seconds since :meth:`open` (simulated or real)."""

    @abstractmethod
    def start(self, launch: TrialLaunch) -> None:
        """Start one trial now. It counts as active until an event for it is returned."""

    @abstractmethod
    def wait(self, deadline: float | None = None) -> list[TrialEvent]:
        """Block (real) or advance the clock (simulated) until trials end; return those events.

        Returns every event of the earliest instant at which something happened, in the order the
        events occurred. With a ``deadline``, returns ``[]`` once ``now() >= deadline`` and
        nothing ended before it. Without one and with no active trial, returns ``[]`` at once.
        """

    @abstractmethod
    def stop(self, name: str, reason: str = "") -> TrialEvent | None:
        """Stop an active trial now; returns its ``KILLED`` event, None when it was not active."""

    @property
    @abstractmethod
    def active(self) -> int:
        """Trials started and not yet reported ended."""

    def notes(self) -> tuple[tuple[str, str], ...]:
        """``(code, message)`` pairs the run's result should carry: what this backend could not
        reproduce or did differently from Katib. Read once, when the run ends."""
        return ()

    def close(self) -> None:
        """Release everything (processes, cluster objects). Called even after an error."""

    def __enter__(self) -> "Backend":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["Outcome", "TrialLaunch", "TrialEvent", "RunContext", "Backend"]
