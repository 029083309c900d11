"""Does the objective fit the experiment? Mismatches that would make a simulation silent nonsense.

Three kinds (``docs/objectives.md#when-the-objective-does-not-fit``), each naming both sides, the
experiment field at fault and the fix:

* ``direction`` — the experiment optimises its metric the other way than the objective's metric
  means (minimising an accuracy);
* ``metric`` — an objective that models a real job (``Objective.generic`` False) does not report
  the experiment's ``objectiveMetricName`` (neither its main metric nor one of ``reports``);
* ``range`` — for such an objective, a parameter's feasible range, once mapped, lies beyond the
  objective's input bounds (or takes categorical values the input does not know): the model knows
  nothing there.

A generic objective (a test function) stands for any metric, so only its direction is checked.
:func:`check` raises an :class:`~katibsim.errors.InputError` (exit 2) listing the mismatches not
declared intended, and returns the intended ones as the run's notes, worded as before this check
existed (so a result does not change when the mismatch is declared).

:func:`goal_beyond_optimum` flags a goal only noise can reach: beyond the objective's noise-free
optimum in the experiment's direction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from katibsim.engine.mapping import ParameterMapping, domain_problems
from katibsim.engine.result import Note
from katibsim.errors import InputError
from katibsim.objective import MISMATCH_KINDS, Objective
from katibsim.spec.model import Experiment

__all__ = ["KINDS", "Mismatch", "allowed_kinds", "check", "find", "goal_beyond_optimum", "OPT_OUT"]

KINDS: tuple[str, ...] = MISMATCH_KINDS
#: How to declare a mismatch intended, for the messages.
OPT_OUT = "--allow-objective-mismatch (in a scenario: objective.mismatch: intended)"


@dataclass(frozen=True)
class Mismatch:
    """One mismatch: its kind, the experiment field at fault (``spec.objective.type``), the
    message with the fix, and the note a run carries when it is declared intended."""

    kind: str
    path: str
    message: str
    note: Note


def allowed_kinds(value: Any) -> frozenset[str]:
    """The mismatch kinds declared intended: True / "intended" = all, a list of kinds, or none."""
    if value is True or value == "intended":
        return frozenset(KINDS)
    if not value:
        return frozenset()
    if isinstance(value, str):
        return frozenset({value})
    return frozenset(str(v) for v in value)


def _ed(direction: str) -> str:
    return direction[:-1] + "ed" if direction.endswith("e") else direction + "ed"


def _others(direction: str, metric: str | None, exclude: str, generic: bool) -> str:
    """Registered objectives of ``direction`` (and reporting ``metric`` when given), for a fix, of
    the same kind as the objective at fault: test functions for a test function (``generic``),
    objectives of real jobs for a real job (a test function is no fix for a real job's metric, and
    a real job's objective rarely fits an experiment written for a test function)."""
    try:
        from katibsim import plugins

        names = []
        for name in sorted(plugins.objectives()):
            if name == exclude:
                continue
            try:
                obj = plugins.get_objective(name)
            except Exception:  # noqa: BLE001 - a suggestion must not fail on one objective
                continue
            if obj.generic != generic:
                continue
            r = obj.reported(metric) if metric else None
            if metric and r is None and not obj.generic:
                continue
            if (r.direction if r is not None and r.direction else obj.direction) == direction:
                names.append(name)
        return ", ".join(names[:4])
    except Exception:  # noqa: BLE001
        return ""


def find(experiment: Experiment, objective: Objective, mapping: ParameterMapping,
         objective_name: str | None = None, allowed: Iterable[str] = ()) -> list[Mismatch]:
    """Every mismatch between ``experiment`` and ``objective`` (the one the run evaluates: a
    :func:`~katibsim.objective_view.for_metric` view when the metric is one of its reports).
    The fixes of the ``allowed`` kinds name no other objectives (nobody reads them, and finding
    them builds every registered objective)."""
    allowed = frozenset(allowed)
    spec = experiment.spec.objective
    if spec is None:
        return []
    name = objective_name or objective.name or type(objective).__name__
    what = f"objective {name}" + (" (a test function)" if objective.generic else "")
    metric = spec.objective_metric_name
    out: list[Mismatch] = []
    reported = bool(metric) and objective.reported(metric) is not None
    if metric and objective.metric_name and not reported:
        note = Note("objective-metric-name", f"objective {name} reports {objective.metric_name}; it is collected as "
                                             f"the experiment's objective metric {metric}")
        if not objective.generic:
            others = ", ".join(m.name for m in objective.reports)
            alt = "" if "metric" in allowed else _others(spec.type or objective.direction, metric, name, objective.generic)
            out.append(Mismatch(
                "metric", "spec.objective.objectiveMetricName",
                f"the experiment's objective metric is {metric} but {what} reports {objective.metric_name}"
                + (f" (and {others})" if others else "")
                + f", not {metric}: set spec.objective.objectiveMetricName: {objective.metric_name}"
                + (f", or choose an objective that reports {metric} ({alt})" if alt else
                   f", or choose an objective that reports {metric}")
                + f", or declare it intended with {OPT_OUT}", note))
        else:
            out.append(Mismatch("metric", "", "", note))  # generic: a note, never an error
    if objective.direction in ("minimize", "maximize") and spec.type in ("minimize", "maximize") \
            and spec.type != objective.direction:
        measured = objective.metric_name
        alt = "" if "direction" in allowed else _others(spec.type, metric if not objective.generic else None, name,
                                                         objective.generic)
        # A real job's objective often reports a metric that goes the experiment's way (accuracy / loss).
        same_way = [] if objective.generic else [m.name for m in objective.reports if m.direction == spec.type]
        other_metric = (f", or set spec.objective.objectiveMetricName: {same_way[0]} ({name} also reports "
                        f"{same_way[0]}, which is {_ed(spec.type)})") if same_way else ""
        note = Note("objective-direction",
                    f"the experiment's objective is to {spec.type} {metric} but objective "
                    f"{name} is meant to be {_ed(objective.direction)}; its values are reported as they are")
        out.append(Mismatch(
            "direction", "spec.objective.type",
            f"the experiment {spec.type}s {metric} but {what} measures {measured}, which is "
            f"{_ed(objective.direction)}: set spec.objective.type: {objective.direction}"
            + other_metric
            + (f", or choose a {_ed(spec.type)} objective ({alt})" if alt else f", or choose a {_ed(spec.type)} objective")
            + f", or declare it intended with {OPT_OUT}", note))
    if not objective.generic:
        index = {p.name: i for i, p in enumerate(experiment.spec.parameters)}
        for d in domain_problems(experiment.search_space(), objective, mapping):
            if d.kind not in ("range", "values"):
                continue
            field = "list" if d.kind == "values" else d.bound
            path = f"spec.parameters[{index.get(d.parameter, 0)}].feasibleSpace" + (f".{field}" if field else "")
            out.append(Mismatch(
                "range", path,
                f"{d.message}, and {what} models a real job that knows nothing outside its inputs' domain: narrow "
                f"the parameter's feasibleSpace into it, map the parameter onto another input (--map / "
                f"objective.mapping), choose another objective, or declare it intended with {OPT_OUT}",
                Note("objective-domain", d.message)))
    return out


def check(experiment: Experiment, objective: Objective, mapping: ParameterMapping,
          objective_name: str | None = None, allow: Iterable[str] | bool | str | None = None) -> list[Note]:
    """Raise InputError (exit 2) naming every mismatch not declared intended in ``allow``; return
    the notes of the intended ones (and of a generic objective's metric name)."""
    allowed = allowed_kinds(allow)
    found = find(experiment, objective, mapping, objective_name, allowed)
    bad = [m for m in found if m.message and m.kind not in allowed]
    if bad:
        where = f"{experiment.source_file}: " if experiment.source_file else ""
        if len(bad) == 1:
            raise InputError(f"{where}{bad[0].path}: {bad[0].message}")
        raise InputError(f"{where}the objective does not fit the experiment ({len(bad)} problems):\n"
                         + "\n".join(f"  {m.path}: {m.message}" for m in bad))
    order = {"direction": 0, "metric": 1, "range": -1}  # the notes' order before this check existed
    return [m.note for m in sorted(found, key=lambda m: order[m.kind])]


def goal_beyond_optimum(value: float | None, maximize: bool, objective: Objective) -> str | None:
    """Why ``value`` (a goal or target) can only be reached through noise, or None: beyond the
    objective's noise-free optimum in the experiment's direction."""
    if value is None or objective.optimum is None:
        return None
    if objective.direction != ("maximize" if maximize else "minimize"):
        return None
    opt = float(objective.optimum)
    beyond = value > opt if maximize else value < opt
    if not beyond:
        return None
    word = "above" if maximize else "below"
    return (f"{value:g} is {word} the noise-free optimum {opt:.6g} of objective {objective.name} "
            f"({objective.metric_name}): only noise can reach it, and a run that does says nothing about the algorithm")
