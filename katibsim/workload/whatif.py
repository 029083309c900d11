"""What a what-if comparison compares: the Experiment to re-run and its variants, from a finished run's trials.

:func:`experiment_document` gives the Experiment the trials came from (the one given, or one made
from the table: its space, metric and direction, algorithm and counts, the parallelism measured
from the trials' times when the source does not say). :func:`plan_variants` gives the variants:

- ``as-run``: the algorithm and settings the experiment used, with its own counts;
- Katib's other algorithms that apply to its space (:data:`KATIB_ALGORITHMS`; ``grid`` only when
  the space is finite), each checked as a variant's Experiment would be (Katib's validation and
  the algorithm's plugin); one that does not apply is skipped with the reason;
- the algorithm as run with half and double the ``parallelTrialCount`` and the ``maxTrialCount``.

Algorithms that cannot stand in for another here (:data:`NOT_COMPARED`: hyperband, pbt, the
architecture searches) are skipped with a one-line reason. ``docs/your-workload.md`` shows it end
to end.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from katibsim.errors import FieldError, InputError, SpecError
from katibsim.spec.space import Parameter, ParameterType, format_value
from katibsim.workload.table import TrialTable

__all__ = [
    "KATIB_ALGORITHMS",
    "NOT_COMPARED",
    "PlannedVariant",
    "UNNAMED",
    "WhatIfPlan",
    "experiment_document",
    "kubernetes_name",
    "measured_parallelism",
    "plan_variants",
    "real_delays",
    "variant_entry",
]

#: Katib's algorithms a what-if comparison tries on the experiment's space (stock katib-config).
KATIB_ALGORITHMS: tuple[str, ...] = ("random", "tpe", "multivariate-tpe", "bayesianoptimization", "cmaes", "sobol", "grid")

#: Katib's algorithms that are not drop-in replacements, and why (the report says so).
NOT_COMPARED: Mapping[str, str] = {
    "hyperband": "it sets the trial budget itself: it needs a resource parameter (resource_name, r_l) such as the "
                 "number of epochs, which it re-runs trials with more of; this experiment's trials have a fixed budget",
    "pbt": "its trials continue from their parent's checkpoint; a surrogate of finished trials has no checkpoints",
    "enas": "neural architecture search (validated, not simulated)",
    "darts": "neural architecture search (validated, not simulated)",
}

DEFAULT_PARALLEL = 3  # Katib's default parallelTrialCount
UNNAMED = "real-run"  # the name of an Experiment made from trials that do not name theirs


@dataclass(frozen=True)
class PlannedVariant:
    """One generated variant: ``algorithm`` None means the experiment's own (with its settings)."""

    name: str
    algorithm: str | None
    overrides: Mapping[str, int] = field(default_factory=dict)
    why: str = ""

    def to_scenario(self) -> dict[str, Any]:
        """The variant as a scenario's ``variants`` entry."""
        return variant_entry(self.name, self.algorithm, {}, self.overrides)


def variant_entry(name: str, algorithm: str | None, settings: Mapping[str, str], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """A scenario's ``variants`` entry, with only the fields that say something."""
    out: dict[str, Any] = {"name": name}
    if algorithm is not None:
        out["algorithm"] = algorithm
    if settings:
        out["settings"] = dict(settings)
    if overrides:
        out["overrides"] = dict(overrides)
    return out


@dataclass(frozen=True)
class WhatIfPlan:
    """The variants to run and the algorithms left out (name, one-line reason)."""

    algorithm: str
    parallel_trial_count: int
    max_trial_count: int | None
    variants: tuple[PlannedVariant, ...]
    skipped: tuple[tuple[str, str], ...]

    def skipped_text(self) -> str:
        return "; ".join(f"{a}: {why}" for a, why in self.skipped)


def measured_parallelism(table: TrialTable) -> int | None:
    """The most trials running at one instant, from the trials' creation (or start) and end times."""
    events: list[tuple[float, int]] = []
    for t in table.trials:
        begin = t.created if t.created is not None else t.started
        if begin is None or t.ended is None:
            continue
        events += [(float(begin), 1), (float(t.ended), -1)]
    if not events:
        return None
    running = peak = 0
    for _, step in sorted(events, key=lambda e: (e[0], e[1])):
        running += step
        peak = max(peak, running)
    return peak or None


def real_delays(table: TrialTable) -> dict[str, float]:
    """The simulation's delays as the real run had them (``simulation:`` of a what-if scenario).

    ``startup_delay``: the median time from a trial's creation to its start (0 when the source
    has no start times: its durations then run from creation, startup included);
    ``suggestion_startup_delay``: 0, since the real run's times start at its first trial's
    creation, where the simulated clock then starts too."""
    waits = sorted(t.started - t.created for t in table.trials if t.started is not None and t.created is not None)
    startup = 0.0
    if waits:
        mid = len(waits) // 2
        startup = waits[mid] if len(waits) % 2 else (waits[mid - 1] + waits[mid]) / 2
    return {"startup_delay": round(max(0.0, float(startup)), 3), "suggestion_startup_delay": 0.0}


def _parameter(p: Parameter) -> dict[str, Any]:
    fs: dict[str, Any] = {}
    if p.type in (ParameterType.CATEGORICAL, ParameterType.DISCRETE):
        fs["list"] = list(p.values)
    else:
        fs["min"] = p.format(p.min) if p.min is not None else None
        fs["max"] = p.format(p.max) if p.max is not None else None
        if p.step is not None:
            fs["step"] = format_value(p.step)
        if p.distribution.value != "uniform":
            fs["distribution"] = p.distribution.value
    return {"name": p.name, "parameterType": p.type.value, "feasibleSpace": fs}


def kubernetes_name(text: str) -> str:
    """``text`` as a lowercase RFC 1123 name (what Kubernetes accepts as an Experiment's name)."""
    name = re.sub(r"[^a-z0-9.-]+", "-", text.lower()).strip("-.")[:253].strip("-.")
    return name or UNNAMED


def experiment_document(table: TrialTable) -> dict[str, Any]:
    """The Experiment the trials of ``table`` came from, as a document to re-run.

    The Experiment given with the trials, without its status; else one made from the table (the
    inferred space, the metric and direction, the algorithm when known, else random, the
    parallelism measured from the trials' times, maxTrialCount the number of trials). InputError
    when the direction is unknown: the trials alone do not say whether the metric is maximised.
    """
    if table.experiment:
        doc = copy.deepcopy(dict(table.experiment))
        doc.pop("status", None)
        return doc
    if table.direction not in ("maximize", "minimize"):
        raise InputError(f"{table.source}: the trials do not say whether {table.metric_name} is maximized or minimized; "
                         "give the Experiment too (kubectl get experiment NAME -o yaml)")
    objective: dict[str, Any] = {"type": table.direction, "objectiveMetricName": table.metric_name}
    if table.goal is not None:
        objective["goal"] = table.goal
    algorithm: dict[str, Any] = {"algorithmName": table.algorithm_name or "random"}
    if table.algorithm_settings:
        algorithm["algorithmSettings"] = [{"name": k, "value": str(v)} for k, v in table.algorithm_settings.items()]
    spec = {
        "objective": objective,
        "algorithm": algorithm,
        "parallelTrialCount": table.parallel_trial_count or measured_parallelism(table) or DEFAULT_PARALLEL,
        "maxTrialCount": table.max_trial_count or len(table.trials),
        "parameters": [_parameter(p) for p in table.space.parameters],
    }
    return {
        "apiVersion": "kubeflow.org/v1beta1",
        "kind": "Experiment",
        "metadata": {"name": kubernetes_name(table.experiment_name or UNNAMED)},
        "spec": spec,
    }


def _count(spec: Mapping[str, Any], budget: Mapping[str, Any], key: str) -> int | None:
    for source in (budget, spec):
        v = source.get(key)
        if isinstance(v, int) and not isinstance(v, bool) and v > 0:
            return v
    return None


def _variant_doc(doc: Mapping[str, Any], budget: Mapping[str, Any], variant: PlannedVariant) -> dict[str, Any]:
    out = copy.deepcopy(dict(doc))
    spec = out.setdefault("spec", {})
    for key, value in {**budget, **variant.overrides}.items():
        if key in ("parallelTrialCount", "maxTrialCount", "maxFailedTrialCount"):
            spec[key] = value
    if variant.algorithm is not None:
        spec["algorithm"] = {"algorithmName": variant.algorithm}
    return out


def _why_not(doc: Mapping[str, Any], file: str | None) -> str | None:
    """The first error Katib's validation or the algorithm's plugin gives for ``doc`` (None: it applies)."""
    from katibsim import algorithm_factory
    from katibsim.spec.loader import experiment_from_dict
    from katibsim.spec.validation import errors_of, validate

    try:
        exp = experiment_from_dict(doc, file=file)
        found: list[FieldError] = list(errors_of(validate(exp)))
        if not found:
            found = [fe for fe in algorithm_factory.validate_algorithm(exp) if fe.severity != "warning"]
    except SpecError as err:
        found = list(err.errors)
    if not found:
        return None
    fe = found[0]
    return f"{fe.path}: {fe.message}" if fe.path else fe.message


def _not_finite(doc: Mapping[str, Any], file: str | None) -> str | None:
    from katibsim.spec.loader import experiment_from_dict

    try:
        space = experiment_from_dict(doc, file=file).search_space()
    except SpecError:
        return None  # the validation says what is wrong
    open_ = [p.name for p in space.parameters if not p.is_finite]
    if open_:
        return f"the space is not finite: {', '.join(open_)} {'is a double' if len(open_) == 1 else 'are doubles'} without a step"
    return None


def _halve_double(n: int) -> list[int]:
    return sorted({m for m in (max(1, n // 2), 2 * n) if m != n})


def plan_variants(
    doc: Mapping[str, Any],
    *,
    budget: Mapping[str, Any] | None = None,
    algorithms: Sequence[str] | None = None,
    file: str | None = None,
) -> WhatIfPlan:
    """The variants of a what-if comparison of the Experiment ``doc``.

    ``budget``: the scenario's ``budget`` (it wins over the Experiment's counts, as in every
    variant); ``algorithms``: the algorithms to try besides the one as run (default
    :data:`KATIB_ALGORITHMS`); ``file``: where ``doc`` came from, for messages.
    """
    from katibsim import plugins

    budget = dict(budget or {})
    spec = doc.get("spec") if isinstance(doc.get("spec"), Mapping) else {}
    algo = spec.get("algorithm") if isinstance(spec.get("algorithm"), Mapping) else {}
    as_run = str(algo.get("algorithmName") or "random")
    parallel = _count(spec, budget, "parallelTrialCount") or DEFAULT_PARALLEL
    max_trials = _count(spec, budget, "maxTrialCount")
    variants = [PlannedVariant("as-run", None, {}, f"{as_run} as the experiment ran it")]
    skipped: list[tuple[str, str]] = []
    known = plugins.algorithms()
    # When the experiment itself does not validate, every variant would be skipped for it: plan
    # them all and let the scenario's pre-flight report the experiment's error where it is.
    check = _why_not(_variant_doc(doc, budget, variants[0]), file) is None
    for name in dict.fromkeys(algorithms if algorithms is not None else (*KATIB_ALGORITHMS, *NOT_COMPARED)):
        if name == as_run:
            continue
        if name in NOT_COMPARED:
            skipped.append((name, NOT_COMPARED[name]))
            continue
        if name not in known:
            skipped.append((name, "no plugin provides this algorithm (see katibsim plugins)"))
            continue
        planned = PlannedVariant(name, name, {}, f"Katib's {name} instead of {as_run}")
        vdoc = _variant_doc(doc, budget, planned)
        reason = (_not_finite(vdoc, file) if known[name].capabilities.double_needs_step else None) or (
            _why_not(vdoc, file) if check else None)
        if reason is not None:
            skipped.append((name, reason))
            continue
        variants.append(planned)
    counts = [("parallelTrialCount", "parallel", n, parallel) for n in _halve_double(parallel)]
    if max_trials is not None:
        counts += [("maxTrialCount", "max", n, max_trials) for n in _halve_double(max_trials)]
    else:
        skipped.append(("maxTrialCount", "the experiment sets no maxTrialCount to halve or double"))
    max_failed = _count(spec, budget, "maxFailedTrialCount")
    for key, short, n, was in counts:
        overrides = {key: n}
        if key == "maxTrialCount" and max_failed is not None and max_failed > n:
            overrides["maxFailedTrialCount"] = n  # Katib: maxFailedTrialCount <= maxTrialCount
        planned = PlannedVariant(f"as-run-{short}-{n}", None, overrides, f"{as_run} with {key} {n} instead of {was}")
        reason = _why_not(_variant_doc(doc, budget, planned), file) if check else None
        if reason is not None:
            skipped.append((planned.name, reason))
            continue
        variants.append(planned)
    return WhatIfPlan(as_run, parallel, max_trials, tuple(variants), tuple(skipped))
