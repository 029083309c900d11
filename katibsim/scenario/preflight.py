"""The scenario pre-flight: everything the plugins and Katib's rules can say before anything runs.

:func:`problems` builds every variant's Experiment (Katib's validation), its algorithm (which
validates the settings), the objective and the parameter mapping, and puts each problem at the
scenario field that caused it (``variants[2].settings.kappa``), with a did-you-mean for a
misspelt algorithm or objective. It runs on what the reader could make of a document even when
the reader found problems, so that a file's mistakes are all reported in one run.

This is the backend-aware part of the scenario package: it hands the reader the backends' parser
for a variant's ``backend:`` field (:func:`read`, :func:`load_scenarios`), so that the model and
the reader never import a backend. :func:`build_run` gives a runner (or the report) what one run
of a variant needs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterable, Mapping

from katibsim.errors import FieldError, InputError, SpecError
from katibsim.scenario.reader import read_scenarios
from katibsim.scenario.reader import scenario_from_dict as _read_one
from katibsim.scenario.fields import did_you_mean
from katibsim.scenario.model import OVERRIDE_FIELDS, Scenario, Target, Variant

__all__ = ["build_run", "check_scenario", "load_scenarios", "objective_remarks", "problems", "read", "scenario_from_dict"]


def _parse_backend(value: Any, path: str, *, base: str | Path | None = None) -> tuple[Any, list[FieldError]]:
    from katibsim.backends.scenario_backend import parse_backend  # real backends (docs/local.md)

    return parse_backend(value, path, base=base)


def read(path: str | Path) -> tuple[list[Scenario], list[FieldError]]:
    """The scenarios of ``path`` and every structural problem (a variant's ``backend:`` understood)."""
    return read_scenarios(path, parse_backend=_parse_backend)


def load_scenarios(path: str | Path) -> list[Scenario]:
    """Every scenario in the YAML file ``path`` (one per document), structurally valid.

    Raises :class:`InputError` for an unreadable file or bad YAML, :class:`SpecError` listing
    every invalid field (with its path) otherwise. The plugin checks are :func:`check_scenario`'s.
    """
    scenarios, errors = read(path)
    if errors:
        raise SpecError(errors)
    return scenarios


def scenario_from_dict(doc: Any, *, file: str | None = None, document_index: int = 0) -> Scenario:
    """One scenario document, structurally valid (SpecError with every problem otherwise)."""
    return _read_one(doc, file=file, document_index=document_index, parse_backend=_parse_backend)


def build_run(scenario: Scenario, variant: Variant):
    """(experiment, objective, mapping, simulation options) for one run of ``variant``."""
    from katibsim import plugins
    from katibsim.engine.options import SimulationOptions
    from katibsim.spec.loader import experiment_from_dict

    from katibsim.objective_view import for_metric

    exp = experiment_from_dict(scenario.experiment_for(variant), file=scenario.experiment_file or scenario.file)
    objective = plugins.get_objective(scenario.objective.name, **dict(scenario.objective.options))
    # The metric the experiment collects: one the objective reports besides its main one is a view.
    objective = for_metric(objective, exp.spec.objective.objective_metric_name if exp.spec.objective else None)
    options = SimulationOptions.from_dict(scenario.simulation)
    return exp, objective, scenario.mapping_for(exp.search_space(), objective), options


_SETTING_PATH = re.compile(r"^spec\.algorithm\.algorithmSettings\[(\d+)\](\.(name|value))?$")
_PARAM_PATH = re.compile(r"^spec\.parameters\[(\d+)\]\.feasibleSpace\.(\w+)$")


def _remap(fe: FieldError, scenario: Scenario, variant: Variant, doc: Mapping[str, Any]) -> FieldError:
    """Move an experiment-level error to the scenario field that caused it (a variant's setting,
    override or sweep value, the budget), else to ``experiment.<path>``."""
    path = fe.path
    where: str | None = None
    m = _SETTING_PATH.match(path)
    if m:
        algo = doc.get("spec", {}).get("algorithm")
        items = algo.get("algorithmSettings") if isinstance(algo, Mapping) else None
        items = items if isinstance(items, list) else []
        i = int(m.group(1))
        name = items[i].get("name") if i < len(items) and isinstance(items[i], Mapping) else None
        if variant.swept and not _swept_on_experiment(scenario, variant) and variant.swept[1] == name:
            where = _sweep_path(scenario, variant)
        elif name in variant.settings:
            where = f"{variant.path}.settings.{name}"
    elif path == "spec.algorithm.algorithmName":
        if fe.kind == "not-supported" and isinstance(fe.value, str):
            from katibsim import plugins

            fe = FieldError(fe.path, fe.message + did_you_mean(fe.value, plugins.algorithms()), fe.file, fe.value, fe.kind, fe.severity)
        if variant.algorithm is not None:
            where = f"{variant.path}.algorithm"
    else:
        for key, parts in OVERRIDE_FIELDS.items():
            if path == ".".join(parts):
                if variant.swept and _swept_on_experiment(scenario, variant) and variant.swept[1] == key:
                    where = _sweep_path(scenario, variant)
                elif key in variant.overrides:
                    where = f"{variant.path}.overrides.{key}"
                elif key in scenario.budget:
                    where = f"budget.{key}"
    m = _PARAM_PATH.match(path)
    if m and where is None:
        params = doc.get("spec", {}).get("parameters")
        params = params if isinstance(params, list) else []
        i = int(m.group(1))
        name = params[i].get("name") if i < len(params) and isinstance(params[i], Mapping) else None
        over = (variant.overrides.get("parameters") or {}).get(name) or {}
        if m.group(2) in over:
            where = f"{variant.path}.overrides.parameters.{name}.{m.group(2)}"
    if where is not None:
        return FieldError(where, f"variant {variant.name}: {fe.message}", scenario.file, fe.value, fe.kind, fe.severity)
    file = scenario.experiment_file or scenario.file
    prefix = "" if scenario.experiment_file else "experiment."
    return FieldError(f"{prefix}{path}" if path else "experiment", fe.message, file, fe.value, fe.kind, fe.severity)


def _swept_on_experiment(scenario: Scenario, variant: Variant) -> bool:
    return any(variant.name in sw.variants and sw.on_experiment for sw in scenario.sweeps)


def _sweep_path(scenario: Scenario, variant: Variant) -> str:
    for sw in scenario.sweeps:
        if variant.name in sw.variants:
            return f"{variant.path}.sweep.{sw.key}[{sw.variants.index(variant.name)}]"
    return variant.path


def check_scenario(scenario: Scenario) -> None:
    """Raise SpecError with every pre-flight problem of ``scenario`` (see :func:`problems`; its
    warnings are not raised)."""
    errors = [fe for fe in problems(scenario) if fe.severity != "warning"]
    if errors:
        raise SpecError(errors)


def _covered(path: str, known: Iterable[str]) -> bool:
    """Whether ``path`` is (inside) a field the reader already reported."""
    for k in known:
        if not k:
            continue
        if path == k or path.startswith((k + ".", k + "[")):
            return True
    return False


def problems(scenario: Scenario, reader_errors: Iterable[FieldError] = ()) -> list[FieldError]:
    """Everything that can be known before running: the objective and its options exist, every
    variant's Experiment is valid (Katib's webhook rules), its algorithm exists and accepts its
    settings, the parameters map onto the objective, the simulation options are known, and
    assertions that need the objective's optimum have one. Each problem is at the scenario field
    that caused it (``variants[2].settings.kappa``).

    ``reader_errors`` are what the reader found in the same document: a part the reader could
    not read is not checked again, and no problem is reported twice.
    """
    from katibsim import plugins
    from katibsim.engine.options import SimulationOptions

    known = [fe.path for fe in reader_errors]
    broken = {k.split(".")[0].split("[")[0] for k in known}
    errors: list[FieldError] = []
    f = scenario.file
    if "simulation" not in broken:
        try:
            SimulationOptions.from_dict(scenario.simulation)
        except (InputError, TypeError, ValueError) as err:
            errors.append(FieldError("simulation", str(err), f))
    objective = None
    if "objective" not in broken:
        name = scenario.objective.name
        try:
            objective = plugins.get_objective(name, **dict(scenario.objective.options))
        except SpecError as err:
            for fe in err.errors:
                if fe.path == "objective.options":
                    errors.append(FieldError("objective.options", fe.message, f, fe.value, fe.kind))
                else:
                    hint = did_you_mean(name, plugins.objectives()) if name not in plugins.objectives() else ""
                    errors.append(FieldError("objective.name", fe.message + hint, f, fe.value, fe.kind))
        except (InputError, TypeError, ValueError) as err:
            # An objective factory refusing an option value of the wrong type is bad input too.
            errors.append(FieldError("objective.options", f"objective {name}: {err}", f))
    if "experiment" not in broken and scenario.spec:
        errors += _variant_problems(scenario, objective, known)
    if objective is not None:
        from katibsim.engine.mismatch import goal_beyond_optimum
        from katibsim.objective_view import for_metric

        objective = for_metric(objective, scenario.metric_name)
        targets = [("target.value", scenario.target)] + [
            (f"{a.path}.target.value", a.target) for a in scenario.assertions
            if isinstance(getattr(a, "target", None), Target) and a.target is not scenario.target]
        for path, t in targets:
            why = goal_beyond_optimum(t.value if t is not None else None, scenario.maximize, objective)
            if why:
                errors.append(FieldError(path, f"target {why}", f, severity="warning"))
        known_optimum = objective.optimum is not None and objective.direction == ("maximize" if scenario.maximize else "minimize")
        if not known_optimum:
            why = (
                f"objective {scenario.objective.name} has no known optimum"
                if objective.optimum is None
                else f"objective {scenario.objective.name} is meant to be {objective.direction}d, the experiment does the opposite"
            )
            if scenario.target is not None and scenario.target.regret is not None:
                errors.append(FieldError("target.regret", f"{why}; give target.value instead", f))
            for a in scenario.assertions:
                if getattr(a, "metric", None) == "final-regret":
                    errors.append(FieldError(f"{a.path}.metric", f"final-regret needs the optimum, but {why}", f, "final-regret"))
                t = getattr(a, "target", None)
                if isinstance(t, Target) and t.regret is not None and t is not scenario.target:
                    errors.append(FieldError(f"{a.path}.target.regret", f"{why}; give target.value instead", f))
    return [fe for fe in errors if not _covered(fe.path, known)]


def _variant_problems(scenario: Scenario, objective: Any, known: list[str]) -> list[FieldError]:
    """Every variant's Experiment, algorithm and settings; the mapping once (it is shared)."""
    from katibsim import algorithm_factory, plugins
    from katibsim.engine.mapping import resolve_mapping
    from katibsim.objective_view import for_metric
    from katibsim.spec.loader import experiment_from_dict
    from katibsim.spec.validation import errors_of, validate

    f = scenario.file
    errors: list[FieldError] = []
    mapped = False
    seen: set[tuple[str, str]] = set()
    shared: dict[tuple[str, str], tuple[FieldError, list[str]]] = {}
    for variant in scenario.variants:
        doc = scenario.experiment_for(variant)
        params = scenario.spec.get("parameters")
        names = [p.get("name") for p in (params if isinstance(params, list) else []) if isinstance(p, Mapping)]
        for pname in (variant.overrides.get("parameters") or {}):
            if pname not in names:
                errors.append(
                    FieldError(f"{variant.path}.overrides.parameters.{pname}",
                               f"the experiment has no parameter {pname}{did_you_mean(pname, [str(n) for n in names])}; "
                               f"it has {', '.join(map(str, names))}", f, pname)
                )
        found: list[FieldError] = []
        exp = None
        try:
            exp = experiment_from_dict(doc, file=scenario.experiment_file or f)
            found = errors_of(validate(exp))
            if not found:
                algorithm_factory.build_algorithm(exp, seed=0)
        except SpecError as err:
            found = list(err.errors)
        more: list[FieldError] = []  # what the objective says about this variant's valid Experiment
        if exp is not None and objective is not None and not found:
            view = for_metric(objective, exp.spec.objective.objective_metric_name if exp.spec.objective else None)
            try:
                space = exp.search_space()
                more = _mismatch_problems(scenario, exp, view, resolve_mapping(space, view, scenario.mapping_for(space, view)))
            except (InputError, SpecError) as err:
                if not mapped:
                    errors.append(FieldError("objective.mapping", str(err), f))
            mapped = True
        for fe in [*found, *more]:
            new = _remap(fe, scenario, variant, doc)
            if new.message.startswith(f"variant {variant.name}: "):
                if (new.path, new.message) not in seen:
                    seen.add((new.path, new.message))
                    errors.append(new)
            else:
                shared.setdefault((new.path, new.message), (new, []))[1].append(variant.name)
    for fe, who in shared.values():
        if len(who) < len(scenario.variants):
            # Only some variants trip over it (a grid needs steps): say which.
            fe = FieldError(fe.path, f"variant(s) {', '.join(who)}: {fe.message}", fe.file, fe.value, fe.kind, fe.severity)
        errors.append(fe)
    return errors


def _mismatch_problems(scenario: Scenario, exp: Any, objective: Any, link: Any) -> list[FieldError]:
    """The objective/experiment mismatches the scenario does not declare intended (at the
    experiment's field; :func:`_remap` moves them to the scenario's), and a goal only noise can
    reach as a warning."""
    from katibsim.engine.mismatch import OPT_OUT, find, goal_beyond_optimum

    out: list[FieldError] = []
    allowed = set(scenario.objective.mismatch)
    for m in find(exp, objective, link, scenario.objective.name, allowed):
        if m.message and m.kind not in allowed:
            msg = m.message.replace(OPT_OUT, f"objective.mismatch: intended (or [{m.kind}])")
            out.append(FieldError(m.path, msg, scenario.file))
    spec = exp.spec.objective
    if spec is not None and spec.goal is not None:
        why = goal_beyond_optimum(float(spec.goal), spec.type == "maximize", objective)
        if why:
            out.append(FieldError("spec.objective.goal", f"goal {why}", scenario.file, severity="warning"))
    return out


def objective_remarks(scenario: Scenario) -> tuple[str, ...]:
    """What the report says first about the objective (its banner): a goal or target only noise
    can reach, and every mismatch the scenario declares intended, for every variant (a remark that
    holds for some variants only names them). Empty for a variant that cannot be built (the
    pre-flight reported that)."""
    by_remark: dict[str, list[str]] = {}
    for variant in scenario.variants:
        for remark in _variant_remarks(scenario, variant):
            by_remark.setdefault(remark, []).append(variant.name)
    out: list[str] = []
    for remark, names in by_remark.items():
        if len(names) == len(scenario.variants):
            out.append(remark)
        else:
            out.append(f"variant{'s' if len(names) > 1 else ''} {', '.join(names)}: {remark}")
    return tuple(out)


def _variant_remarks(scenario: Scenario, variant: Variant) -> list[str]:
    from katibsim.engine.mapping import resolve_mapping
    from katibsim.engine.mismatch import find, goal_beyond_optimum
    from katibsim.errors import KatibsimError

    try:
        exp, objective, mapping, _ = build_run(scenario, variant)
        link = resolve_mapping(exp.search_space(), objective, mapping)
    except (KatibsimError, TypeError, ValueError):
        return []
    out: list[str] = []
    spec = exp.spec.objective
    if spec is not None and spec.goal is not None:
        why = goal_beyond_optimum(float(spec.goal), spec.type == "maximize", objective)
        if why:
            out.append(f"the experiment's goal {why}")
    if scenario.target is not None:
        why = goal_beyond_optimum(scenario.target.value, scenario.maximize, objective)
        if why:
            out.append(f"the scenario's target {why}")
    allowed = set(scenario.objective.mismatch)
    for m in find(exp, objective, link, scenario.objective.name, allowed):
        if m.message and m.kind in allowed:
            out.append(f"declared intended (objective.mismatch: {m.kind}): {m.note.message}")
    return out
