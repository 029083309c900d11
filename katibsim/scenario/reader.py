"""The scenario reader: YAML documents -> :class:`~katibsim.scenario.model.Scenario`, every problem at its field path.

:func:`read_scenarios` reads a file (one or more YAML documents, each a scenario) through the
experiment loader's YAML reader (:func:`katibsim.spec.loader.read_documents`: duplicate keys are
refused, too deep a nesting is an error, not a crash) and checks its structure. It never raises
for a value of the wrong shape: :func:`read_scenario` returns the scenario it could make of the
document *and* every problem found, so that the pre-flight (:mod:`katibsim.scenario.preflight`)
can add what the plugins say and the user sees every mistake in one run. Assertions and report
options are read by :mod:`katibsim.scenario.read_assertions`.

The reader does not know any backend: a variant's ``backend:`` field is handed to the
``parse_backend`` callable the caller passes in (the pre-flight passes the backends' own parser).
"""

from __future__ import annotations

import copy
import re
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from katibsim.objective import MISMATCH_KINDS
from katibsim.errors import FieldError, InputError, SpecError
from katibsim.scenario.fields import Errors, did_you_mean, mapping, number, setting_str
from katibsim.scenario.model import (
    INT_OVERRIDES,
    OVERRIDE_FIELDS,
    ObjectiveRef,
    Scenario,
    SeedSpec,
    Sweep,
    Target,
    Variant,
)
from katibsim.scenario.read_assertions import read_assertions, read_report, read_target

__all__ = ["BackendParser", "placeholder_template", "read_documents", "read_scenario", "read_scenarios", "scenario_from_dict"]

#: Makes a variant's ``backend:`` field into a reference: ``(value, path, base=folder)`` ->
#: ``(reference or None, [FieldError])``; katibsim.backends.scenario_backend.parse_backend is one.
BackendParser = Callable[..., tuple[Any, list[FieldError]]]

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_VARIANT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._=+-]*$")
_TOP_KEYS = {
    "apiVersion",
    "kind",
    "name",
    "description",
    "experiment",
    "objective",
    "variants",
    "seeds",
    "budget",
    "simulation",
    "target",
    "convergence",
    "report",
    "assertions",
    "what_if",
}
_VARIANT_KEYS = {"name", "algorithm", "settings", "overrides", "sweep", "backend", "service"}
_SERVICE_RE = re.compile(r"^\[?[\w.:-]+\]?:\d{1,5}$")


def read_documents(path: str | Path, *, what: str = "scenario") -> list[Any]:
    """The non-empty YAML documents of ``path``; InputError (naming the file) when it cannot be
    read, is not UTF-8, is not YAML, repeats a key or nests too deep."""
    from katibsim.spec.loader import read_documents as parse

    p = Path(path)
    try:
        data = p.read_bytes()
    except IsADirectoryError:
        raise InputError(f"{path}: cannot read {what}: is a directory, expected a YAML file") from None
    except (OSError, ValueError) as err:
        raise InputError(f"{path}: cannot read {what}: {getattr(err, 'strerror', None) or err}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(f"{path}: not UTF-8 text (byte {err.start}); save the file as UTF-8") from None
    try:
        docs = parse(text, file=str(path))
    except InputError as err:
        where = _duplicate_key(text) if "already defined" in str(err) else None
        if where is None:
            raise
        field, line, first = where
        raise InputError(f"{path}: {field}: duplicate key (line {line}; first given on line {first}); "
                         "give each field once") from None
    return [d for d in docs if d is not None]


def _duplicate_key(text: str) -> tuple[str, int, int] | None:
    """(field path, line, line of the first one) of the first repeated mapping key in ``text``.

    The loader refused the file already; this only walks PyYAML's node tree to say where."""
    import yaml

    def walk(node: Any, path: str) -> tuple[str, int, int] | None:
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for key, value in node.value:
                name = key.value if isinstance(key, yaml.ScalarNode) else None
                here = f"{path}.{name}" if path else str(name)
                if name is not None:
                    if name in seen:
                        return here, key.start_mark.line + 1, seen[name]
                    seen[name] = key.start_mark.line + 1
                found = walk(value, here)
                if found:
                    return found
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                found = walk(item, f"{path}[{i}]")
                if found:
                    return found
        return None

    try:
        for root in yaml.compose_all(text, Loader=yaml.SafeLoader):
            found = walk(root, "")
            if found:
                return found
    except (yaml.YAMLError, RecursionError):
        return None
    return None


def read_scenarios(path: str | Path, *, parse_backend: BackendParser | None = None) -> tuple[list[Scenario], list[FieldError]]:
    """Every scenario in the file ``path`` (one per document) and every structural problem.

    Raises :class:`InputError` only when the file cannot be read as YAML at all.
    """
    docs = read_documents(path)
    if not docs:
        raise InputError(f"{path}: no scenario in the file")
    scenarios: list[Scenario] = []
    errors: list[FieldError] = []
    for i, doc in enumerate(docs):
        sc, found = read_scenario(doc, file=str(path), document_index=i, parse_backend=parse_backend)
        errors.extend(found)
        if sc is not None:
            scenarios.append(sc)
    names = [s.name for s in scenarios]
    for n in sorted({n for n in names if names.count(n) > 1}):
        errors.append(FieldError("name", f"scenario name {n!r} is used by more than one document", file=str(path), value=n))
    return scenarios, errors


def scenario_from_dict(
    doc: Any, *, file: str | None = None, document_index: int = 0, parse_backend: BackendParser | None = None
) -> Scenario:
    """One scenario document, structurally valid; SpecError with every problem otherwise."""
    sc, errors = read_scenario(doc, file=file, document_index=document_index, parse_backend=parse_backend)
    if errors or sc is None:
        raise SpecError(errors or [FieldError("", "not a scenario", file=file)])
    return sc


def read_scenario(
    doc: Any, *, file: str | None = None, document_index: int = 0, parse_backend: BackendParser | None = None
) -> tuple[Scenario | None, list[FieldError]]:
    """(the scenario made of ``doc`` as far as it could be read, every problem found).

    A field that is wrong is reported and left at its default, so the rest can still be checked;
    the scenario is None only when the document is not a mapping.
    """
    e = Errors(file)
    if not isinstance(doc, Mapping):
        return None, [FieldError("", "a scenario document must be a mapping", file=file)]
    mapping(e, "", doc, allowed=_TOP_KEYS)
    if doc.get("kind") not in (None, "Scenario"):
        e.add("kind", "must be Scenario", doc.get("kind"))

    name = doc.get("name")
    if name is None:
        e.required("name", "a scenario name (letters, digits, '.', '_', '-')")
        name = "scenario"
    elif not isinstance(name, str) or not _NAME_RE.match(name):
        e.add("name", "must be letters, digits, '.', '_' or '-' (it names the report folder)", name)
        name = "scenario"
    description = doc.get("description") or ""
    if not isinstance(description, str):
        e.add("description", "must be a string", description)
        description = ""

    base = Path(file).parent if file else Path.cwd()
    what, skipped = None, ()
    given = {k: doc.get(k) for k in ("experiment", "objective", "variants")}
    if doc.get("what_if") is not None:
        from katibsim.scenario.what_if import read_what_if

        what = read_what_if(e, doc["what_if"], base)
        if what is None:
            return None, e.items  # the scenario stands on its trials: nothing else can be checked
        if given["experiment"] is None:
            try:
                given["experiment"] = what.experiment()
            except InputError as err:
                e.add("what_if", str(err))
                return None, e.items
        if given["objective"] is None:
            given["objective"] = what.objective
    experiment, experiment_file = _experiment(e, given["experiment"], base, name)
    objective = _objective(e, given["objective"])
    budget = _overrides(e, "budget", doc.get("budget", {}))
    if what is not None and given["variants"] is None and experiment.get("spec"):
        from katibsim.scenario.what_if import generated_variants

        given["variants"], skipped = generated_variants(what, experiment, budget, experiment_file or file)
        if skipped:
            note = "Not compared: " + "; ".join(f"{a}: {why}" for a, why in skipped) + "."
            description = f"{description.strip()}\n\n{note}" if isinstance(description, str) and description.strip() else note
    variants, sweeps = _variants(e, given["variants"], base, parse_backend)
    seeds = _seeds(e, doc.get("seeds", {}))
    simulation = doc.get("simulation", {}) or {}
    if not isinstance(simulation, Mapping):
        e.add("simulation", "must be a mapping of simulation options", simulation)
        simulation = {}
    if what is not None:
        simulation = {**what.simulation(), **simulation}  # the real run's delays, unless the scenario says
    target = read_target(e, "target", doc["target"]) if doc.get("target") is not None else None
    if target is None and what is not None:
        level = what.target_value(_maximize(experiment))
        target = Target(value=level) if level is not None else None  # as good as the real run's best tenth
    tolerance = 1e-3
    if doc.get("convergence") is not None:
        conv = mapping(e, "convergence", doc["convergence"], allowed={"tolerance"})
        if conv is not None and "tolerance" in conv:
            tol = number(e, "convergence.tolerance", conv["tolerance"], nonneg=True)
            tolerance = tol if tol is not None else tolerance
    names = {v.name: None for v in variants}  # ordered, for "all variants"
    report = read_report(e, doc.get("report", {}) or {}, names, variants, _experiment_algorithm(experiment))
    assertions = read_assertions(
        e, doc.get("assertions", []) or [], names, target, base, seeds, report.baseline is not None
    )
    sc = Scenario(
        name=name,
        description=description.strip(),
        file=file,
        experiment=experiment,
        experiment_file=experiment_file,
        objective=objective,
        variants=tuple(variants),
        sweeps=tuple(sweeps),
        seeds=seeds,
        budget=budget,
        simulation=dict(simulation),
        target=target,
        tolerance=tolerance,
        report=report,
        assertions=tuple(assertions),
        document_index=document_index,
        what_if=replace(what.what_if, skipped=tuple(skipped)) if what is not None else None,
    )
    return sc, e.items


def _maximize(experiment: Mapping[str, Any]) -> bool:
    spec = experiment.get("spec") if isinstance(experiment, Mapping) else None
    objective = spec.get("objective") if isinstance(spec, Mapping) else None
    return isinstance(objective, Mapping) and objective.get("type") == "maximize"


def _experiment(e: Errors, v: Any, base: Path, name: str) -> tuple[dict[str, Any], str | None]:
    if v is None:
        e.required("experiment", "a Katib Experiment: a path (relative to the scenario file) or an inline document")
        return {}, None
    if isinstance(v, str):
        try:
            path = (base / v).resolve() if not Path(v).is_absolute() else Path(v)
            docs = read_documents(path, what="experiment")
        except (InputError, ValueError, OSError) as err:
            e.add("experiment", str(err), v)
            return {}, None
        exps = [d for d in docs if isinstance(d, Mapping) and d.get("kind", "Experiment") == "Experiment"]
        if len(exps) != 1:
            e.add("experiment", f"{path} must hold exactly one Experiment document, found {len(exps)}", v)
            return {}, None
        return copy.deepcopy(dict(exps[0])), str(path)
    if isinstance(v, Mapping):
        doc = copy.deepcopy(dict(v))
        if "apiVersion" not in doc and "kind" not in doc:
            # A bare inline experiment: default the envelope so the spec loader sees a document.
            if "spec" not in doc:
                doc = {"spec": doc}
            doc = {"apiVersion": "kubeflow.org/v1beta1", "kind": "Experiment", "metadata": {"name": name}, **doc}
        if not isinstance(doc.get("spec"), Mapping):
            e.required("experiment.spec", "the Experiment's spec")
        elif "trialTemplate" not in doc["spec"] and isinstance(doc["spec"].get("parameters"), list):
            doc["spec"]["trialTemplate"] = placeholder_template(doc["spec"]["parameters"])
        return doc, None
    e.add("experiment", "must be a path or a mapping (an Experiment document)", v)
    return {}, None


def placeholder_template(parameters: Sequence[Any]) -> dict[str, Any]:
    """A trial template for an inline experiment that has none: a batch/v1 Job passing every
    parameter on its command line. Katib requires a template; a simulated trial never runs it."""
    tps, args = [], []
    for i, p in enumerate(parameters):
        name = p.get("name") if isinstance(p, Mapping) else None
        if not isinstance(name, str):
            continue
        tps.append({"name": f"p{i}", "reference": name})
        args.append(f"{name}=${{trialParameters.p{i}}}")
    return {
        "primaryContainerName": "objective",
        "trialParameters": tps,
        "trialSpec": {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "spec": {
                "template": {
                    "spec": {
                        "containers": [{"name": "objective", "image": "katibsim/simulated:none", "command": ["simulated", *args]}],
                        "restartPolicy": "Never",
                    }
                }
            },
        },
    }


def _objective(e: Errors, v: Any) -> ObjectiveRef:
    if v is None:
        e.required("objective", "the simulated objective: {name: ..., options: {...}, mapping: ...}")
        return ObjectiveRef(name="")
    if isinstance(v, str):
        return ObjectiveRef(name=v)
    m = mapping(e, "objective", v, allowed={"name", "options", "mapping", "mismatch"})
    if m is None:
        return ObjectiveRef(name="")
    name = m.get("name")
    if not isinstance(name, str) or not name:
        e.required("objective.name", "a registered objective name (see `katibsim plugins`)")
        name = ""
    options = m.get("options", {}) or {}
    if not isinstance(options, Mapping):
        e.add("objective.options", "must be a mapping", options)
        options = {}
    for k in list(options):
        if not isinstance(k, str) or not k.isidentifier() or k == "name":
            e.add(f"objective.options.{k}", "is not an objective option (options are names such as noise or steps; "
                  "the objective's own name goes in objective.name)", kind="not-supported")
            options = {key: val for key, val in options.items() if key != k}
    how = m.get("mapping", "by-name")
    if isinstance(how, str):
        if how not in ("by-name", "by-order"):
            e.add("objective.mapping", "must be by-name, by-order or a mapping {experiment parameter: \"input[:transform]\"}"
                  + did_you_mean(how, ("by-name", "by-order")), how)
            how = "by-name"
    elif isinstance(how, Mapping):
        for k, val in how.items():
            if not isinstance(val, str) or not val:
                e.add(f"objective.mapping.{k}", "must be an objective input name, optionally with transforms (input:log10)", val)
        how = {str(k): str(val) for k, val in how.items()}
    else:
        e.add("objective.mapping", "must be by-name, by-order or a mapping", None)
        how = "by-name"
    return ObjectiveRef(name=name, options=dict(options), mapping=how, mismatch=_mismatch(e, m.get("mismatch")))


_MISMATCH_KINDS = MISMATCH_KINDS  # the kinds of objective/experiment mismatch (katibsim.objective)


def _mismatch(e: Errors, v: Any) -> tuple[str, ...]:
    """``objective.mismatch``: ``intended`` (every kind), one kind, or a list of the kinds declared
    intended (the forms ``--allow-objective-mismatch`` takes)."""
    if v is None:
        return ()
    if v == "intended":
        return _MISMATCH_KINDS
    items = [v] if isinstance(v, str) else v if isinstance(v, list) else None
    if items is None or not items or any(k not in _MISMATCH_KINDS for k in items):
        bad = [k for k in (items or []) if k not in _MISMATCH_KINDS]
        hint = did_you_mean(str(bad[0]), _MISMATCH_KINDS) if bad else ""
        e.add("objective.mismatch", f"must be intended or a list of the mismatches intended "
                                    f"({', '.join(_MISMATCH_KINDS)}){hint}", v)
        return ()
    return tuple(k for k in _MISMATCH_KINDS if k in items)


_FEASIBLE_KEYS = {"min", "max", "step", "list", "distribution"}


def _parameter_overrides(e: Errors, path: str, v: Any) -> dict[str, dict[str, Any]]:
    """``{parameter name: {min, max, step, list, distribution}}``, values as Katib's strings."""
    m = mapping(e, path, v)
    out: dict[str, dict[str, Any]] = {}
    for name, fs in (m or {}).items():
        fm = mapping(e, f"{path}.{name}", fs, allowed=_FEASIBLE_KEYS)
        if fm is None:
            continue
        entry: dict[str, Any] = {}
        for k, val in fm.items():
            if k not in _FEASIBLE_KEYS:
                continue
            if k == "list":
                if not isinstance(val, list) or not val:
                    e.add(f"{path}.{name}.list", "must be a non-empty list", None)
                    continue
                entry[k] = [setting_str(x) for x in val]
            elif isinstance(val, (list, dict)) or val is None:
                e.add(f"{path}.{name}.{k}", "must be a single value", None)
            else:
                entry[k] = setting_str(val)
        out[str(name)] = entry
    return out


def _overrides(e: Errors, path: str, v: Any, *, parameters: bool = False) -> dict[str, Any]:
    allowed = set(OVERRIDE_FIELDS) | ({"parameters"} if parameters else set())
    m = mapping(e, path, v if v is not None else {}, allowed=allowed)
    out: dict[str, Any] = {}
    if m is None:
        return out
    for k, val in m.items():
        if k == "parameters" and parameters:
            out[k] = _parameter_overrides(e, f"{path}.parameters", val)
            continue
        if k not in OVERRIDE_FIELDS:
            continue
        if k in INT_OVERRIDES:
            n = number(e, f"{path}.{k}", val, integer=True, nonneg=(k == "maxFailedTrialCount"), positive=(k != "maxFailedTrialCount"))
        else:
            n = number(e, f"{path}.{k}", val)
        if n is not None:
            out[k] = n
    return out


def _variants(
    e: Errors, v: Any, base: Path | None, parse_backend: BackendParser | None
) -> tuple[list[Variant], list[Sweep]]:
    if v is None:
        e.required("variants", "a list of variants: {name, algorithm, settings, overrides} or a sweep")
        return [], []
    if not isinstance(v, list) or not v:
        e.add("variants", "must be a non-empty list", None)
        return [], []
    out: list[Variant] = []
    sweeps: list[Sweep] = []
    for i, item in enumerate(v):
        p = f"variants[{i}]"
        m = mapping(e, p, item, allowed=_VARIANT_KEYS)
        if m is None:
            continue
        name = m.get("name")
        if not isinstance(name, str) or not name:
            e.required(f"{p}.name", "a variant name (assertions refer to it)")
            continue
        algorithm = m.get("algorithm")
        if algorithm is not None and (not isinstance(algorithm, str) or not algorithm):
            e.add(f"{p}.algorithm", "must be an algorithm name", algorithm)
            algorithm = None
        settings: dict[str, str] = {}
        sm = mapping(e, f"{p}.settings", m.get("settings", {}) or {})
        for k, val in (sm or {}).items():
            if isinstance(val, (list, dict)) or val is None:
                e.add(f"{p}.settings.{k}", "must be a single value (use `sweep` to try several)", None)
            else:
                settings[str(k)] = setting_str(val)
        overrides = _overrides(e, f"{p}.overrides", m.get("overrides", {}), parameters=True)
        backend = None
        if m.get("backend") is not None:
            if parse_backend is None:
                e.add(f"{p}.backend", "a real backend needs the backend-aware loader (katibsim.scenario.load_scenarios)")
            else:
                backend, backend_errors = parse_backend(m.get("backend"), f"{p}.backend", base=base)
                for fe in backend_errors:
                    e.add(fe.path, fe.message, fe.value, kind=fe.kind)
        service = m.get("service")
        if service is not None and (not isinstance(service, str) or not _SERVICE_RE.match(service)):
            e.add(f"{p}.service", "must be the HOST:PORT of a Katib suggestion service (e.g. 127.0.0.1:6789)", service)
            service = None
        sweep = m.get("sweep")
        if sweep is None:
            if "{value}" in name:
                e.add(f"{p}.name", "'{value}' in a name only makes sense with a sweep", name)
            elif not _VARIANT_RE.match(name):
                e.add(f"{p}.name", "must be letters, digits and . _ = + - (it names result files)", name)
            out.append(Variant(name, algorithm, settings, overrides, p, backend=backend, service=service))
            continue
        sw = mapping(e, f"{p}.sweep", sweep)
        if sw is None:
            continue
        if len(sw) != 1:
            e.add(f"{p}.sweep", "must have exactly one key: the setting or experiment field to sweep, with a list of values", None)
            continue
        (key, values), = sw.items()
        key = str(key)
        if not isinstance(values, list) or not values:
            e.add(f"{p}.sweep.{key}", "must be a non-empty list of values", None)
            continue
        on_exp = key in OVERRIDE_FIELDS
        members: list[str] = []
        for j, val in enumerate(values):
            vp = f"{p}.sweep.{key}[{j}]"
            if isinstance(val, (list, dict)) or val is None:
                e.add(vp, "must be a single value", None)
                continue
            label = setting_str(val)
            vname = name.replace("{value}", label) if "{value}" in name else f"{name}-{key}-{label}"
            if not _VARIANT_RE.match(vname):
                e.add(f"{p}.name", f"expands to {vname!r}, which is not a usable variant name", name)
                continue
            if on_exp:
                num = number(e, vp, val, integer=key in INT_OVERRIDES, positive=key in ("parallelTrialCount", "maxTrialCount"))
                if num is None:
                    continue
                out.append(Variant(vname, algorithm, dict(settings), {**overrides, key: num}, p, (name, key, val),
                                   backend=backend, service=service))
            else:
                if key in settings:
                    e.add(f"{p}.settings.{key}", "is also swept; remove it from settings", settings[key])
                out.append(Variant(vname, algorithm, {**settings, key: label}, dict(overrides), p, (name, key, val),
                                   backend=backend, service=service))
            members.append(vname)
        sweeps.append(Sweep(name, key, tuple(values), tuple(members), on_exp))
    seen: dict[str, str] = {}
    for var in out:
        if var.name in seen:
            e.add(f"{var.path}.name", f"variant name {var.name!r} is already used by {seen[var.name]}", var.name)
        else:
            seen[var.name] = var.path
    return out, sweeps


def _seeds(e: Errors, v: Any) -> SeedSpec:
    m = mapping(e, "seeds", v if v is not None else {}, allowed={"count", "master"})
    if m is None:
        return SeedSpec()
    count = number(e, "seeds.count", m.get("count", 5), integer=True, positive=True) if "count" in m else 5
    master = number(e, "seeds.master", m.get("master", 0), integer=True, nonneg=True) if "master" in m else 0
    return SeedSpec(count=count or 5, master=master or 0)


def _experiment_algorithm(experiment: Any) -> str | None:
    """``spec.algorithm.algorithmName`` of the scenario's Experiment document, None when absent."""
    spec = experiment.get("spec") if isinstance(experiment, Mapping) else None
    algorithm = spec.get("algorithm") if isinstance(spec, Mapping) else None
    name = algorithm.get("algorithmName") if isinstance(algorithm, Mapping) else None
    return name if isinstance(name, str) else None
