"""The simulated-objective contract: what a simulated trial evaluates.

An objective plugin registers a factory (``katibsim_register_objectives``) that builds an
:class:`Objective` from options (noise, steps, ...). An objective declares its inputs (name,
bounds), its metric name and direction, its known optimum, and evaluates one point into an
:class:`Evaluation`: the final metric value, intermediate values per step (learning curves for
early stopping) and a simulated duration from its cost model. Randomness comes only from the
``numpy.random.Generator`` passed in.

Multi-fidelity and checkpoints: an objective may end a trial with a :class:`Checkpoint` (how far
training got: the epoch and the model's noise-free value there) in :attr:`Evaluation.checkpoint`.
A trial whose labels name a parent (:data:`PARENT_LABEL`, the label Katib's PBT service puts on a
child trial, whose checkpoint directory it copies from the parent's) is evaluated with
:meth:`Objective.resume` from the parent's checkpoint: it continues training, with its own
hyperparameters, from where the parent stopped. Objectives without checkpoints ignore both.

What an objective measures (``docs/objectives.md#what-an-objective-measures``): ``metric_name`` and
``direction`` are its main metric; :attr:`Objective.reports` lists the other metrics it reports
(:attr:`Evaluation.metrics` keys, with their own direction and optimum); :attr:`Objective.generic`
says whether these names mean anything. A test function (branin, ackley, ...) is *generic*: it
stands for any metric of any job, so an experiment's ``objectiveMetricName`` and parameter ranges
are not compared with it (only its direction is). An objective that models a real job
(``mnist-tfjob``, one fitted to real trials) is not generic: an experiment asking it for a metric it
does not report, or for parameter values beyond its inputs' bounds, is a mismatch
(:mod:`katibsim.engine.mismatch`). An experiment whose objective metric is one of ``reports``
collects that metric: the engine evaluates :func:`katibsim.objective_view.for_metric`'s view.

An objective fitted to data declares the same facts from the data: ``metric_name`` and
``direction`` the experiment's that produced it, ``generic = False``, and ``inputs`` whose bounds
are the region where it accepts suggestions (the checked range: the Experiment's feasible space
when it is known, else the region its trials cover). Points inside those bounds but outside the
data are its own business (an objective that counts extrapolation flags them in its evaluations).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping


@dataclass(frozen=True)
class ObjectiveInput:
    name: str
    low: float
    high: float
    type: str = "double"  # "double" | "int" | "categorical"
    values: tuple[str, ...] = ()  # categorical choices
    log: bool = False  # a natural log scale (learning rates)


#: The trial label naming the trial whose checkpoint a trial starts from (Katib's PBT label).
PARENT_LABEL = "pbt.suggestion.katib.kubeflow.org/parent"


#: The ways an experiment can fail to fit an objective (``katibsim.engine.mismatch``), each of which
#: a scenario may declare intended (``objective.mismatch``) or the CLI allow
#: (``--allow-objective-mismatch``).
MISMATCH_KINDS: tuple[str, ...] = ("direction", "metric", "range")


@dataclass(frozen=True)
class ReportedMetric:
    """A metric an objective reports besides its main one (a key of :attr:`Evaluation.metrics`).

    ``direction``: "minimize" or "maximize" when the metric has a meaning (a loss is minimised),
    "" when it has none; ``optimum``: its best noise-free value, None when unknown.
    """

    name: str
    direction: str = ""
    optimum: float | None = None


@dataclass(frozen=True)
class Checkpoint:
    """Where one trial's training ended, for a child trial to continue from.

    ``epoch``: epochs trained so far (the parent's own and its ancestors'); ``value``: the model's
    noise-free objective there; ``state``: anything else the objective needs (e.g. a run-level
    noise deviation that carries over to the child).
    """

    epoch: int
    value: float
    state: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Evaluation:
    """One evaluated trial of a simulated objective.

    ``value`` is the final reported objective metric (noise included); ``curve`` the reports per
    step, ``(step, value)``, whose last entry equals ``value`` when present; ``duration`` the
    simulated seconds of training (start-up delay excluded: the backend adds it);
    ``metrics`` additional metrics by name (their final values); ``curves`` the per-step reports
    of some of them, ``{name: ((step, value), ...)}`` (optional: a metric without a curve is
    reported once, at the last step); ``checkpoint`` where training ended (None: the
    objective keeps none, and a child trial of this one starts from scratch); ``extrapolated``
    the point lies outside what the objective knows (an objective fitted to data: outside the
    region its data covers), so the value is a guess; the run counts such trials.
    """

    value: float
    curve: tuple[tuple[int, float], ...] = ()
    duration: float = 60.0
    metrics: Mapping[str, float] = field(default_factory=dict)
    checkpoint: Checkpoint | None = None
    curves: Mapping[str, tuple[tuple[int, float], ...]] = field(default_factory=dict)
    extrapolated: bool = False


class Objective(ABC):
    name: ClassVar[str] = ""
    description: ClassVar[str] = ""

    metric_name: str = "objective"
    direction: str = "minimize"  # "minimize" | "maximize"
    inputs: tuple[ObjectiveInput, ...] = ()
    optimum: float | None = None  # best achievable value of the noise-free function
    optimum_at: tuple[Mapping[str, float], ...] = ()
    #: The options that name a file the objective reads (a table, a trials file): a scenario's run
    #: key holds a digest of each such file's content, so a run on an edited file is run again
    #: instead of being taken from the stored results.
    file_options: ClassVar[tuple[str, ...]] = ()
    #: The other metrics ``evaluate`` reports in ``Evaluation.metrics`` (name, direction, optimum).
    reports: tuple[ReportedMetric, ...] = ()
    #: True: a test function standing for any metric (its metric name and input bounds are
    #: conventions, not facts); False: it models a real job, whose metric names, direction and
    #: input ranges mean something and are checked against the experiment.
    generic: bool = True

    @abstractmethod
    def evaluate(self, x: Mapping[str, Any], rng) -> Evaluation:
        """Evaluate the point ``x`` (keys = ``inputs`` names)."""

    def resume(self, x: Mapping[str, Any], rng, checkpoint: Checkpoint) -> Evaluation:
        """Evaluate ``x`` continuing from ``checkpoint`` (a PBT child). Default: train from scratch."""
        return self.evaluate(x, rng)

    def noise_free(self, x: Mapping[str, Any]) -> float:
        """The noise-free value at ``x`` (for regret); default: evaluate with a fixed generator."""
        import numpy as np

        return self.evaluate(x, np.random.default_rng(0)).value

    def noise_free_metric(self, metric: str, x: Mapping[str, Any]) -> float:
        """The noise-free value of the reported metric ``metric`` at ``x``; default: its value in an
        evaluation with a fixed generator (override where the objective knows the mean)."""
        import numpy as np

        if metric == self.metric_name:
            return self.noise_free(x)
        return float(self.evaluate(x, np.random.default_rng(0)).metrics[metric])

    def reported(self, metric: str) -> ReportedMetric | None:
        """What the objective says about ``metric``: its main metric or one of ``reports``; None
        when it does not report it."""
        if metric == self.metric_name:
            return ReportedMetric(self.metric_name, self.direction, self.optimum)
        return next((m for m in self.reports if m.name == metric), None)

    def regret(self, value: float) -> float | None:
        """Simple regret of ``value`` against the optimum (>= 0), None when the optimum is unknown."""
        if self.optimum is None:
            return None
        return (self.optimum - value) if self.direction == "maximize" else (value - self.optimum)
