"""Scenario files: an experiment, an objective, variants, seeds and assertions in one YAML document.

The schema is documented in ``docs/scenarios.md``. :func:`load_scenarios` reads a file (one or
more YAML documents, each a scenario), checks its structure and reports *every* problem with its
field path (``variants[2].settings.kappa``), the way experiments are validated. Checking against
plugins (does the algorithm exist, do the settings validate, is the experiment valid) is done by
:func:`check_scenario`, which the runner calls before anything runs.

Design choices (see ``docs/reports.md#assertion-families``):
- Paired seeds: every variant runs on the same derived seeds (Syne Tune, kurobako).
- Whether a bound applies per seed (``seeds: {atLeast: k}``) or to an aggregate
  (``aggregate: median``) is always explicit; an assertion naming an unknown variant or metric
  is a validation error, never a silent pass (k6 #1526, agentv #882).
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import yaml

from katibsim import __version__
from katibsim.errors import FieldError, InputError, SpecError
from katibsim.report.metrics import METRICS

__all__ = [
    "AGGREGATES",
    "BaselineAssertion",
    "Count",
    "INVARIANT_CHECKS",
    "InvariantAssertion",
    "ObjectiveRef",
    "OVERRIDE_FIELDS",
    "PairedAssertion",
    "Scenario",
    "SeedSpec",
    "Sweep",
    "Target",
    "TargetAssertion",
    "ThresholdAssertion",
    "Variant",
    "load_scenarios",
    "scenario_from_dict",
]

#: Experiment fields a variant (``overrides``), the ``budget`` or a ``sweep`` may change, with the
#: place in the Experiment document they land on.
OVERRIDE_FIELDS: Mapping[str, tuple[str, ...]] = {
    "parallelTrialCount": ("spec", "parallelTrialCount"),
    "maxTrialCount": ("spec", "maxTrialCount"),
    "maxFailedTrialCount": ("spec", "maxFailedTrialCount"),
    "goal": ("spec", "objective", "goal"),
}
_INT_OVERRIDES = {"parallelTrialCount", "maxTrialCount", "maxFailedTrialCount"}

INVARIANT_CHECKS: Mapping[str, str] = {
    "no-duplicates": "no trial repeats an earlier trial's assignment",
    "max-parallel": "never more than parallelTrialCount trials running at one simulated instant",
    "trial-count": "never more than maxTrialCount trials; exactly maxTrialCount completed when the reason is ExperimentMaxTrialsReached",
    "in-space": "every suggested assignment lies in the feasible space",
    "goal-consistent": "an experiment that reports ExperimentGoalReached really has a best value beyond the goal",
    "succeeded": "the experiment ends Succeeded (not Failed)",
}
AGGREGATES = ("median", "mean", "min", "max", "q25", "q75")
PAIRED_TESTS = ("wilcoxon", "sign")
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
}


# --------------------------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ObjectiveRef:
    """The simulated objective: a registered name, its options, and how experiment parameters map
    onto its inputs: ``by-name`` (the default; falls back to order when names do not match),
    ``by-order``, or explicit ``{experiment parameter: "input[:transform...]"}`` entries
    (:mod:`katibsim.engine.mapping`)."""

    name: str
    options: Mapping[str, Any] = field(default_factory=dict)
    mapping: str | Mapping[str, str] = "by-name"


@dataclass(frozen=True)
class Sweep:
    """One sweep: ``key`` (an algorithm setting or an experiment field) over ``values``."""

    group: str
    key: str
    values: tuple[Any, ...]
    variants: tuple[str, ...]
    on_experiment: bool  # True: key is an experiment field (OVERRIDE_FIELDS)


@dataclass(frozen=True)
class Variant:
    """One algorithm with one set of settings and experiment overrides.

    ``settings`` are strings, as Katib's ``algorithmSettings`` values are; ``algorithm`` None
    means the experiment's own ``algorithmName``. ``path`` is where it came from in the file
    (``variants[2]``), for error messages; ``swept`` is (group, key, value) for sweep members.
    """

    name: str
    algorithm: str | None
    settings: Mapping[str, str]
    overrides: Mapping[str, Any]
    path: str
    swept: tuple[str, str, Any] | None = None
    backend: Any = None  # a katibsim.backends.scenario_backend.BackendRef; None: simulated
    service: str | None = None  # HOST:PORT of a Katib suggestion service answering instead (docs/serve.md)


@dataclass(frozen=True)
class SeedSpec:
    """``count`` paired seeds derived from ``master`` (every variant sees the same ones)."""

    count: int = 5
    master: int = 0

    def seed(self, index: int) -> int:
        """The seed of repeat ``index``: independent streams from one master (numpy SeedSequence)."""
        ss = np.random.SeedSequence(entropy=self.master, spawn_key=(index,))
        return int(ss.generate_state(1, dtype=np.uint32)[0])

    def seeds(self) -> list[int]:
        return [self.seed(i) for i in range(self.count)]


@dataclass(frozen=True)
class Target:
    """A level to reach: an objective ``value``, or a ``regret`` below the known optimum."""

    value: float | None = None
    regret: float | None = None

    def resolve(self, *, optimum: float | None, maximize: bool) -> float | None:
        """The objective value this target stands for (None if it needs an unknown optimum)."""
        if self.value is not None:
            return self.value
        if self.regret is None or optimum is None:
            return None
        return optimum - self.regret if maximize else optimum + self.regret

    def describe(self, maximize: bool) -> str:
        op = ">=" if maximize else "<="
        if self.value is not None:
            return f"value {op} {self.value:g}"
        return f"regret <= {self.regret:g}"


@dataclass(frozen=True)
class Count:
    """"In at least (or at most) k of the m seeds"; ``k`` given as a number or a percentage."""

    at_least: bool
    k: int | None = None
    percent: float | None = None

    def needed(self, m: int) -> int:
        if self.k is not None:
            return self.k
        assert self.percent is not None
        frac = self.percent / 100.0 * m
        # Round toward the strict side: "at least 90%" of 5 seeds is 5, "at most 10%" of 5 is 0.
        return math.ceil(frac - 1e-9) if self.at_least else math.floor(frac + 1e-9)

    def holds(self, hits: int, m: int) -> bool:
        return hits >= self.needed(m) if self.at_least else hits <= self.needed(m)

    def describe(self, m: int) -> str:
        word = "at least" if self.at_least else "at most"
        pct = f" ({self.percent:g}%)" if self.percent is not None else ""
        return f"{word} {self.needed(m)} of {m} seeds{pct}"


@dataclass(frozen=True)
class _AssertionBase:
    """What every assertion has: its name, where it is in the file, and the author's note."""

    name: str
    path: str  # assertions[i]
    description: str


@dataclass(frozen=True)
class InvariantAssertion(_AssertionBase):
    check: str
    variants: tuple[str, ...]
    equals: int | None = None  # trial-count: an exact number of trials instead of maxTrialCount
    kind: str = "invariant"


@dataclass(frozen=True)
class TargetAssertion(_AssertionBase):
    variant: str
    target: Target
    seeds: Count
    within_trials: int | None = None
    within_time: float | None = None
    kind: str = "target"


@dataclass(frozen=True)
class PairedAssertion(_AssertionBase):
    better: str
    than: str
    metric: str
    test: str = "wilcoxon"
    level: float = 0.05
    target: Target | None = None
    tolerance: float | None = None
    kind: str = "paired"


@dataclass(frozen=True)
class ThresholdAssertion(_AssertionBase):
    variant: str
    metric: str
    aggregate: str | None
    seeds: Count | None
    min: float | None = None
    max: float | None = None
    target: Target | None = None
    tolerance: float | None = None
    kind: str = "threshold"


@dataclass(frozen=True)
class BaselineAssertion(_AssertionBase):
    file: str  # resolved path of the baseline summary.json
    variant: str
    metric: str
    aggregate: str | None
    seeds: Count | None
    absolute: float = 0.0
    relative: float = 0.0
    mode: str = "no-worse"  # or "equal"
    baseline_variant: str | None = None
    kind: str = "baseline"


Assertion = InvariantAssertion | TargetAssertion | PairedAssertion | ThresholdAssertion | BaselineAssertion


@dataclass(frozen=True)
class ReportOptions:
    """``report:`` of a scenario: the random-search baseline and the run drawn step by step."""

    baseline: str | None = None  # the random-search variant for the normalised score
    introspect_variant: str | None = None
    introspect_seed: int = 0
    introspect_steps: int = 6


@dataclass(frozen=True)
class Scenario:
    """One scenario, structurally valid. ``experiment`` is the Experiment document (a dict) before
    variant overrides; ``experiment_file`` the file it came from (None when inline)."""

    name: str
    description: str
    file: str | None
    experiment: Mapping[str, Any]
    experiment_file: str | None
    objective: ObjectiveRef
    variants: tuple[Variant, ...]
    sweeps: tuple[Sweep, ...]
    seeds: SeedSpec
    budget: Mapping[str, Any]
    simulation: Mapping[str, Any]
    target: Target | None
    tolerance: float
    report: ReportOptions
    assertions: tuple[Assertion, ...]
    document_index: int = 0

    def variant(self, name: str) -> Variant:
        for v in self.variants:
            if v.name == name:
                return v
        raise KeyError(name)

    @property
    def variant_names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.variants)

    def with_seed_count(self, count: int) -> "Scenario":
        """The same scenario with ``count`` seeds (``--seeds``); integer k-of-m thresholds above
        ``count`` become errors with their path, since they could never hold."""
        from dataclasses import replace

        sc = replace(self, seeds=SeedSpec(count=count, master=self.seeds.master))
        errors = []
        for a in sc.assertions:
            cnt = getattr(a, "seeds", None)
            if isinstance(cnt, Count) and cnt.k is not None and cnt.at_least and cnt.k > count:
                errors.append(
                    FieldError(
                        f"{a.path}.seeds.atLeast",
                        f"needs {cnt.k} seeds but only {count} run (--seeds); use a percentage such as \"90%\"",
                        file=self.file,
                        value=cnt.k,
                    )
                )
        if errors:
            raise SpecError(errors)
        return sc

    def experiment_for(self, variant: Variant) -> dict[str, Any]:
        """The Experiment document of ``variant``: budget, then the variant's overrides, then its
        algorithm and settings (merged over the experiment's own settings)."""
        doc = copy.deepcopy(dict(self.experiment))
        spec = doc.setdefault("spec", {})
        for key, value in {**self.budget, **variant.overrides}.items():
            if key == "parameters":
                for p in spec.get("parameters") or []:
                    if isinstance(p, dict) and p.get("name") in value:
                        fs = p.setdefault("feasibleSpace", {})
                        fs.update(copy.deepcopy(value[p["name"]]))
                continue
            where = OVERRIDE_FIELDS[key]
            node = doc
            for part in where[:-1]:
                node = node.setdefault(part, {})
            node[where[-1]] = value
        algo = dict(spec.get("algorithm") or {})
        own = {s.get("name"): s.get("value") for s in (algo.get("algorithmSettings") or []) if isinstance(s, Mapping)}
        if variant.algorithm is not None and variant.algorithm != algo.get("algorithmName"):
            own = {}  # another algorithm's settings would be rejected as unknown
            algo["algorithmName"] = variant.algorithm
        # The scenario's seeds replace a random_state inherited from the experiment file, which
        # would otherwise give every seed the same run; a variant may still pin it on purpose.
        own.pop("random_state", None)
        merged = {**own, **variant.settings}
        algo["algorithmSettings"] = [{"name": k, "value": v} for k, v in merged.items()] or None
        if algo["algorithmSettings"] is None:
            algo.pop("algorithmSettings")
        spec["algorithm"] = algo
        return doc

    def run_key(self, variant: Variant, seed: int) -> str:
        """A content hash of everything that determines one run's result (resume checks it)."""
        payload = {
            "katibsim": __version__,
            "experiment": self.experiment_for(variant),
            "objective": {"name": self.objective.name, "options": dict(self.objective.options), "mapping": self.objective.mapping},
            "simulation": dict(self.simulation),
            "seed": seed,
        }
        if variant.backend is not None and not variant.backend.simulated:
            payload["backend"] = variant.backend.to_dict()
        return _hash(payload)

    def content_hash(self) -> str:
        """Hash of the whole resolved scenario (provenance)."""
        payload = {
            "name": self.name,
            "experiment": self.experiment,
            "objective": {"name": self.objective.name, "options": dict(self.objective.options), "mapping": self.objective.mapping},
            "variants": [
                {"name": v.name, "algorithm": v.algorithm, "settings": dict(v.settings), "overrides": dict(v.overrides)}
                for v in self.variants
            ],
            "seeds": [self.seeds.count, self.seeds.master],
            "budget": dict(self.budget),
            "simulation": dict(self.simulation),
            "assertions": [repr(a) for a in self.assertions],
        }
        return _hash(payload)


def _hash(payload: Any) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# --------------------------------------------------------------------------------------------
# Loading and structural validation
# --------------------------------------------------------------------------------------------
class _Errors:
    """Collects FieldErrors for one document."""

    def __init__(self, file: str | None):
        self.file = file
        self.items: list[FieldError] = []

    def add(self, path: str, message: str, value: Any = None, kind: str = "invalid") -> None:
        self.items.append(FieldError(path=path, message=message, file=self.file, value=value, kind=kind))

    def required(self, path: str, message: str) -> None:
        self.add(path, message, kind="required")


def load_scenarios(path: str | Path) -> list[Scenario]:
    """Read every scenario in the YAML file ``path`` (one per document).

    Raises :class:`InputError` for an unreadable file or bad YAML, :class:`SpecError` listing
    every invalid field (with its path) otherwise.
    """
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as err:
        raise InputError(f"{path}: cannot read scenario: {err.strerror or err}") from None
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as err:
        raise InputError(f"{path}: not valid YAML: {err}") from None
    if not docs:
        raise InputError(f"{path}: no scenario in the file")
    scenarios: list[Scenario] = []
    errors: list[FieldError] = []
    for i, doc in enumerate(docs):
        try:
            scenarios.append(scenario_from_dict(doc, file=str(p), document_index=i))
        except SpecError as err:
            errors.extend(err.errors)
    names = [s.name for s in scenarios]
    for n in sorted({n for n in names if names.count(n) > 1}):
        errors.append(FieldError("name", f"scenario name {n!r} is used by more than one document", file=str(p), value=n))
    if errors:
        raise SpecError(errors)
    return scenarios


def _setting_str(v: Any) -> str:
    """Katib settings are strings; YAML numbers and booleans become their usual spelling."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def _num(e: _Errors, path: str, v: Any, *, integer: bool = False, positive: bool = False, nonneg: bool = False) -> Any:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        e.add(path, "must be a number" if not integer else "must be an integer", v)
        return None
    if integer and (isinstance(v, float) and not v.is_integer()):
        e.add(path, "must be an integer", v)
        return None
    if isinstance(v, float) and not math.isfinite(v):
        e.add(path, "must be finite", v)
        return None
    if positive and v <= 0:
        e.add(path, "must be > 0", v)
        return None
    if nonneg and v < 0:
        e.add(path, "must be >= 0", v)
        return None
    return int(v) if integer else float(v)


def _mapping(e: _Errors, path: str, v: Any, *, allowed: set[str] | None = None) -> Mapping[str, Any] | None:
    if not isinstance(v, Mapping):
        e.add(path, "must be a mapping", v if not isinstance(v, (list, dict)) else None)
        return None
    if allowed is not None:
        for k in v:
            if k not in allowed:
                e.add(f"{path}.{k}" if path else str(k), f"unknown field; expected one of {', '.join(sorted(allowed))}", kind="not-supported")
    return v


def scenario_from_dict(doc: Any, *, file: str | None = None, document_index: int = 0) -> Scenario:
    """Build and structurally validate one scenario document; every problem is reported at once."""
    e = _Errors(file)
    if not isinstance(doc, Mapping):
        raise SpecError([FieldError("", "a scenario document must be a mapping", file=file)])
    _mapping(e, "", doc, allowed=_TOP_KEYS)
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
    experiment, experiment_file = _experiment(e, doc.get("experiment"), base, name)
    objective = _objective(e, doc.get("objective"))
    budget = _overrides(e, "budget", doc.get("budget", {}))
    variants, sweeps = _variants(e, doc.get("variants"), base)
    seeds = _seeds(e, doc.get("seeds", {}))
    simulation = doc.get("simulation", {}) or {}
    if not isinstance(simulation, Mapping):
        e.add("simulation", "must be a mapping of simulation options", simulation)
        simulation = {}
    target = _target(e, "target", doc["target"]) if doc.get("target") is not None else None
    tolerance = 1e-3
    if doc.get("convergence") is not None:
        conv = _mapping(e, "convergence", doc["convergence"], allowed={"tolerance"})
        if conv is not None and "tolerance" in conv:
            tol = _num(e, "convergence.tolerance", conv["tolerance"], nonneg=True)
            tolerance = tol if tol is not None else tolerance
    names = {v.name: None for v in variants}  # ordered, for "all variants"
    report = _report(e, doc.get("report", {}) or {}, names, variants)
    assertions = _assertions(
        e, doc.get("assertions", []) or [], names, target, base, seeds, report.baseline is not None
    )

    if e.items:
        raise SpecError(e.items)
    return Scenario(
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
    )


def _experiment(e: _Errors, v: Any, base: Path, name: str) -> tuple[dict[str, Any], str | None]:
    if v is None:
        e.required("experiment", "a Katib Experiment: a path (relative to the scenario file) or an inline document")
        return {}, None
    if isinstance(v, str):
        path = (base / v).resolve() if not Path(v).is_absolute() else Path(v)
        try:
            docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
        except OSError as err:
            e.add("experiment", f"cannot read {path}: {err.strerror or err}", v)
            return {}, None
        except yaml.YAMLError as err:
            e.add("experiment", f"{path} is not valid YAML: {err}", v)
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


def _objective(e: _Errors, v: Any) -> ObjectiveRef:
    if v is None:
        e.required("objective", "the simulated objective: {name: ..., options: {...}, mapping: ...}")
        return ObjectiveRef(name="")
    if isinstance(v, str):
        return ObjectiveRef(name=v)
    m = _mapping(e, "objective", v, allowed={"name", "options", "mapping"})
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
    mapping = m.get("mapping", "by-name")
    if isinstance(mapping, str):
        if mapping not in ("by-name", "by-order"):
            e.add("objective.mapping", "must be by-name, by-order or a mapping {experiment parameter: \"input[:transform]\"}", mapping)
            mapping = "by-name"
    elif isinstance(mapping, Mapping):
        for k, val in mapping.items():
            if not isinstance(val, str) or not val:
                e.add(f"objective.mapping.{k}", "must be an objective input name, optionally with transforms (input:log10)", val)
        mapping = {str(k): str(val) for k, val in mapping.items()}
    else:
        e.add("objective.mapping", "must be by-name, by-order or a mapping", None)
        mapping = "by-name"
    return ObjectiveRef(name=name, options=dict(options), mapping=mapping)


_FEASIBLE_KEYS = {"min", "max", "step", "list", "distribution"}


def _parameter_overrides(e: _Errors, path: str, v: Any) -> dict[str, dict[str, Any]]:
    """``{parameter name: {min, max, step, list, distribution}}``, values as Katib's strings."""
    m = _mapping(e, path, v)
    out: dict[str, dict[str, Any]] = {}
    for name, fs in (m or {}).items():
        fm = _mapping(e, f"{path}.{name}", fs, allowed=_FEASIBLE_KEYS)
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
                entry[k] = [_setting_str(x) for x in val]
            elif isinstance(val, (list, dict)) or val is None:
                e.add(f"{path}.{name}.{k}", "must be a single value", None)
            else:
                entry[k] = _setting_str(val)
        out[str(name)] = entry
    return out


def _overrides(e: _Errors, path: str, v: Any, *, parameters: bool = False) -> dict[str, Any]:
    allowed = set(OVERRIDE_FIELDS) | ({"parameters"} if parameters else set())
    m = _mapping(e, path, v if v is not None else {}, allowed=allowed)
    out: dict[str, Any] = {}
    if m is None:
        return out
    for k, val in m.items():
        if k == "parameters" and parameters:
            out[k] = _parameter_overrides(e, f"{path}.parameters", val)
            continue
        if k not in OVERRIDE_FIELDS:
            continue
        if k in _INT_OVERRIDES:
            n = _num(e, f"{path}.{k}", val, integer=True, nonneg=(k == "maxFailedTrialCount"), positive=(k != "maxFailedTrialCount"))
        else:
            n = _num(e, f"{path}.{k}", val)
        if n is not None:
            out[k] = n
    return out


_SERVICE_RE = re.compile(r"^\[?[\w.:-]+\]?:\d{1,5}$")


def _variants(e: _Errors, v: Any, base: Path | None = None) -> tuple[list[Variant], list[Sweep]]:
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
        m = _mapping(e, p, item, allowed={"name", "algorithm", "settings", "overrides", "sweep", "backend", "service"})
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
        sm = _mapping(e, f"{p}.settings", m.get("settings", {}) or {})
        for k, val in (sm or {}).items():
            if isinstance(val, (list, dict)) or val is None:
                e.add(f"{p}.settings.{k}", "must be a single value (use `sweep` to try several)", None if val is not None else val)
            else:
                settings[str(k)] = _setting_str(val)
        overrides = _overrides(e, f"{p}.overrides", m.get("overrides", {}), parameters=True)
        from katibsim.backends.scenario_backend import parse_backend  # real backends (docs/local.md)

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
        sw = _mapping(e, f"{p}.sweep", sweep)
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
            label = _setting_str(val)
            vname = name.replace("{value}", label) if "{value}" in name else f"{name}-{key}-{label}"
            if not _VARIANT_RE.match(vname):
                e.add(f"{p}.name", f"expands to {vname!r}, which is not a usable variant name", name)
                continue
            if on_exp:
                num = _num(e, vp, val, integer=key in _INT_OVERRIDES, positive=key in ("parallelTrialCount", "maxTrialCount"))
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


def _seeds(e: _Errors, v: Any) -> SeedSpec:
    m = _mapping(e, "seeds", v if v is not None else {}, allowed={"count", "master"})
    if m is None:
        return SeedSpec()
    count = _num(e, "seeds.count", m.get("count", 5), integer=True, positive=True) if "count" in m else 5
    master = _num(e, "seeds.master", m.get("master", 0), integer=True, nonneg=True) if "master" in m else 0
    return SeedSpec(count=count or 5, master=master or 0)


def _target(e: _Errors, path: str, v: Any) -> Target | None:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return Target(value=float(v))
    m = _mapping(e, path, v, allowed={"value", "regret"})
    if m is None:
        return None
    if ("value" in m) == ("regret" in m):
        e.add(path, "give exactly one of value (an objective value to reach) or regret (a distance below the known optimum)", None)
        return None
    if "value" in m:
        val = _num(e, f"{path}.value", m["value"])
        return Target(value=val) if val is not None else None
    reg = _num(e, f"{path}.regret", m["regret"], nonneg=True)
    return Target(regret=reg) if reg is not None else None


def _count(e: _Errors, path: str, v: Any, seeds: SeedSpec) -> Count | None:
    m = _mapping(e, path, v, allowed={"atLeast", "atMost"})
    if m is None:
        return None
    if ("atLeast" in m) == ("atMost" in m):
        e.add(path, "give exactly one of atLeast or atMost (a number of seeds, or a percentage like \"90%\")", None)
        return None
    key = "atLeast" if "atLeast" in m else "atMost"
    raw = m[key]
    if isinstance(raw, str) and raw.strip().endswith("%"):
        try:
            pct = float(raw.strip()[:-1])
        except ValueError:
            e.add(f"{path}.{key}", "must be a number of seeds or a percentage like \"90%\"", raw)
            return None
        if not 0 <= pct <= 100:
            e.add(f"{path}.{key}", "a percentage must be between 0% and 100%", raw)
            return None
        return Count(at_least=key == "atLeast", percent=pct)
    k = _num(e, f"{path}.{key}", raw, integer=True, nonneg=True)
    if k is None:
        return None
    if k > seeds.count:
        e.add(f"{path}.{key}", f"is more than the {seeds.count} seeds the scenario runs", raw)
        return None
    return Count(at_least=key == "atLeast", k=k)


def _report(e: _Errors, v: Any, names: Mapping[str, None], variants: list[Variant]) -> ReportOptions:
    m = _mapping(e, "report", v, allowed={"baseline", "introspect"})
    if m is None:
        return ReportOptions()
    baseline = m.get("baseline")
    if baseline is not None and baseline not in names:
        e.add("report.baseline", f"unknown variant; known: {', '.join(sorted(names))}", baseline)
        baseline = None
    if baseline is None:
        baseline = next((var.name for var in variants if var.algorithm == "random"), None)
    iv, iseed, isteps = None, 0, 6
    if m.get("introspect") is not None:
        im = _mapping(e, "report.introspect", m["introspect"], allowed={"variant", "seed", "steps"})
        if im is not None:
            iv = im.get("variant")
            if iv is not None and iv not in names:
                e.add("report.introspect.variant", f"unknown variant; known: {', '.join(sorted(names))}", iv)
                iv = None
            if "seed" in im:
                iseed = _num(e, "report.introspect.seed", im["seed"], integer=True, nonneg=True) or 0
            if "steps" in im:
                isteps = _num(e, "report.introspect.steps", im["steps"], integer=True, positive=True) or 6
    return ReportOptions(baseline=baseline, introspect_variant=iv, introspect_seed=iseed, introspect_steps=isteps)


_ASSERTION_FIELDS = {
    "invariant": {"kind", "name", "description", "check", "variants", "equals"},
    "target": {"kind", "name", "description", "variant", "target", "within", "seeds"},
    "paired": {"kind", "name", "description", "better", "than", "metric", "test", "level", "target", "tolerance"},
    "threshold": {"kind", "name", "description", "variant", "metric", "aggregate", "seeds", "min", "max", "target", "tolerance"},
    "baseline": {
        "kind", "name", "description", "file", "variant", "baselineVariant", "metric", "aggregate", "seeds",
        "tolerance", "mode",
    },
}


def _variant_ref(e: _Errors, path: str, v: Any, names: Mapping[str, None]) -> str | None:
    if not isinstance(v, str) or not v:
        e.required(path, f"a variant name; known: {', '.join(sorted(names))}")
        return None
    if v not in names:
        e.add(path, f"unknown variant; known: {', '.join(sorted(names))}", v)
        return None
    return v


def _metric_ref(e: _Errors, path: str, v: Any, target: Target | None, has_baseline: bool) -> str | None:
    if not isinstance(v, str) or v not in METRICS:
        e.add(path, f"unknown metric; known: {', '.join(METRICS)}", v)
        return None
    needs = METRICS[v].needs
    if "target" in needs and target is None:
        e.add(path, f"metric {v} needs a target: set `target:` on the assertion or the scenario", v)
        return None
    if "baseline" in needs and not has_baseline:
        e.add(path, f"metric {v} needs a random-search variant (algorithm: random, or report.baseline)", v)
        return None
    return v


def _assertions(
    e: _Errors,
    v: Any,
    names: Mapping[str, None],
    scenario_target: Target | None,
    base: Path,
    seeds: SeedSpec,
    has_baseline: bool,
) -> list[Assertion]:
    if not isinstance(v, list):
        e.add("assertions", "must be a list", None)
        return []
    out: list[Assertion] = []
    used: set[str] = set()
    for i, item in enumerate(v):
        p = f"assertions[{i}]"
        if not isinstance(item, Mapping):
            e.add(p, "must be a mapping with a kind", None)
            continue
        kind = item.get("kind")
        if kind not in _ASSERTION_FIELDS:
            e.add(f"{p}.kind", f"must be one of {', '.join(_ASSERTION_FIELDS)}", kind)
            continue
        _mapping(e, p, item, allowed=_ASSERTION_FIELDS[kind])
        aname = item.get("name")
        if aname is not None and (not isinstance(aname, str) or not aname):
            e.add(f"{p}.name", "must be a non-empty string", aname)
            aname = None
        desc = item.get("description") or ""
        n_before = len(e.items)
        target = scenario_target
        if item.get("target") is not None:
            target = _target(e, f"{p}.target", item["target"])
        tolerance = None
        if item.get("tolerance") is not None and kind in ("paired", "threshold"):
            tolerance = _num(e, f"{p}.tolerance", item["tolerance"], nonneg=True)
        a: Assertion | None = None
        if kind == "invariant":
            check = item.get("check")
            if check not in INVARIANT_CHECKS:
                e.add(f"{p}.check", f"must be one of {', '.join(INVARIANT_CHECKS)}", check)
            vs = item.get("variants", "all")
            if vs == "all" or vs is None:
                vlist = tuple(names)
            elif isinstance(vs, list):
                vlist = tuple(x for j, x in enumerate(vs) if _variant_ref(e, f"{p}.variants[{j}]", x, names))
            else:
                e.add(f"{p}.variants", "must be a list of variant names or all", vs)
                vlist = ()
            equals = None
            if item.get("equals") is not None:
                if check != "trial-count":
                    e.add(f"{p}.equals", "only applies to check: trial-count", item["equals"])
                equals = _num(e, f"{p}.equals", item["equals"], integer=True, nonneg=True)
            a = InvariantAssertion(aname or f"invariant {check}", p, desc, check=check, variants=vlist, equals=equals)
        elif kind == "target":
            variant = _variant_ref(e, f"{p}.variant", item.get("variant"), names)
            if target is None:
                e.required(f"{p}.target", "the level to reach: {value: v} or {regret: r} (or a scenario-level target)")
            within = item.get("within", {}) or {}
            wt = wtime = None
            wm = _mapping(e, f"{p}.within", within, allowed={"trials", "time"})
            if wm is not None:
                if "trials" in wm:
                    wt = _num(e, f"{p}.within.trials", wm["trials"], integer=True, positive=True)
                if "time" in wm:
                    wtime = _num(e, f"{p}.within.time", wm["time"], positive=True)
            cnt = None
            if item.get("seeds") is None:
                e.required(f"{p}.seeds", "in how many seeds the target must be reached: {atLeast: k} or {atMost: k} (per seed, k of m)")
            else:
                cnt = _count(e, f"{p}.seeds", item["seeds"], seeds)
            if len(e.items) == n_before:
                where = f" within {wt} trials" if wt else (f" within {wtime:g} s" if wtime else "")
                a = TargetAssertion(
                    aname or f"{variant} reaches the target{where}", p, desc, variant=variant, target=target,
                    seeds=cnt, within_trials=wt, within_time=wtime,
                )
        elif kind == "paired":
            better = _variant_ref(e, f"{p}.better", item.get("better"), names)
            than = _variant_ref(e, f"{p}.than", item.get("than"), names)
            if better and than and better == than:
                e.add(f"{p}.than", "must name a different variant than `better`", than)
            metric = _metric_ref(e, f"{p}.metric", item.get("metric"), target, has_baseline)
            test = item.get("test", "wilcoxon")
            if test not in PAIRED_TESTS:
                e.add(f"{p}.test", f"must be one of {', '.join(PAIRED_TESTS)}", test)
            level = _num(e, f"{p}.level", item.get("level", 0.05), positive=True)
            if level is not None and level >= 1:
                e.add(f"{p}.level", "must be a significance level below 1", level)
            if len(e.items) == n_before:
                a = PairedAssertion(
                    aname or f"{better} better than {than} on {metric}", p, desc, better=better, than=than, metric=metric,
                    test=test, level=level, target=target, tolerance=tolerance,
                )
        elif kind == "threshold":
            variant = _variant_ref(e, f"{p}.variant", item.get("variant"), names)
            metric = _metric_ref(e, f"{p}.metric", item.get("metric"), target, has_baseline)
            agg, cnt = _agg_or_seeds(e, p, item, seeds)
            lo = _num(e, f"{p}.min", item["min"]) if item.get("min") is not None else None
            hi = _num(e, f"{p}.max", item["max"]) if item.get("max") is not None else None
            if item.get("min") is None and item.get("max") is None:
                e.required(f"{p}.max", "a bound: min (value must be >= min) and/or max (value must be <= max)")
            if len(e.items) == n_before:
                a = ThresholdAssertion(
                    aname or f"{variant} {metric} bound", p, desc, variant=variant, metric=metric, aggregate=agg, seeds=cnt,
                    min=lo, max=hi, target=target, tolerance=tolerance,
                )
        elif kind == "baseline":
            variant = _variant_ref(e, f"{p}.variant", item.get("variant"), names)
            metric = _metric_ref(e, f"{p}.metric", item.get("metric"), target, has_baseline)
            agg, cnt = _agg_or_seeds(e, p, item, seeds)
            fpath = item.get("file")
            resolved = None
            if not isinstance(fpath, str) or not fpath:
                e.required(f"{p}.file", "a stored results file (summary.json of an earlier comparison), relative to the scenario")
            else:
                resolved = str((base / fpath).resolve()) if not Path(fpath).is_absolute() else fpath
                _check_baseline_file(e, f"{p}", resolved, item.get("baselineVariant") or variant, metric)
            absolute = relative = 0.0
            if item.get("tolerance") is not None:
                tm = _mapping(e, f"{p}.tolerance", item["tolerance"], allowed={"absolute", "relative"})
                if tm is not None:
                    absolute = _num(e, f"{p}.tolerance.absolute", tm.get("absolute", 0.0), nonneg=True) or 0.0
                    relative = _num(e, f"{p}.tolerance.relative", tm.get("relative", 0.0), nonneg=True) or 0.0
            mode = item.get("mode", "no-worse")
            if mode not in ("no-worse", "equal"):
                e.add(f"{p}.mode", "must be no-worse or equal", mode)
            if len(e.items) == n_before:
                a = BaselineAssertion(
                    aname or f"{variant} {metric} vs baseline", p, desc, file=resolved, variant=variant, metric=metric,
                    aggregate=agg, seeds=cnt, absolute=absolute, relative=relative, mode=mode,
                    baseline_variant=item.get("baselineVariant"),
                )
        if a is not None:
            if a.name in used:
                e.add(f"{p}.name", "another assertion has this name; give each a distinct name", a.name)
            used.add(a.name)
            out.append(a)
    return out


def _agg_or_seeds(e: _Errors, p: str, item: Mapping[str, Any], seeds: SeedSpec) -> tuple[str | None, Count | None]:
    agg = item.get("aggregate")
    has_seeds = item.get("seeds") is not None
    if (agg is None) == (not has_seeds):
        e.add(
            p,
            "say whether the bound applies per seed (seeds: {atLeast: k}) or to an aggregate over seeds "
            f"(aggregate: one of {', '.join(AGGREGATES)}); give exactly one",
            None,
        )
        return None, None
    if agg is not None:
        if agg not in AGGREGATES:
            e.add(f"{p}.aggregate", f"must be one of {', '.join(AGGREGATES)}", agg)
            return None, None
        return agg, None
    return None, _count(e, f"{p}.seeds", item["seeds"], seeds)


def _check_baseline_file(e: _Errors, p: str, path: str, variant: str | None, metric: str | None) -> None:
    """A baseline must exist and hold the variant and metric it is compared on."""
    try:
        data = json.loads(Path(path).read_text())
    except OSError as err:
        e.add(f"{p}.file", f"cannot read baseline {path}: {err.strerror or err}", path)
        return
    except json.JSONDecodeError as err:
        e.add(f"{p}.file", f"baseline {path} is not JSON: {err}", path)
        return
    table = data.get("metrics") if isinstance(data, Mapping) else None
    if not isinstance(table, Mapping):
        e.add(f"{p}.file", "not a comparison summary (no `metrics` table); use the summary.json that `katibsim compare` writes", path)
        return
    if variant is not None and variant not in table:
        e.add(f"{p}.baselineVariant" if variant else f"{p}.variant", f"the baseline has no variant {variant!r}; it has {', '.join(sorted(table))}", variant)
        return
    if variant is not None and metric is not None and metric not in table[variant]:
        e.add(f"{p}.metric", f"the baseline has no metric {metric!r} for {variant}", metric)



# --------------------------------------------------------------------------------------------
# Checks against plugins and the experiment validator (before anything runs)
# --------------------------------------------------------------------------------------------
_SETTING_PATH = re.compile(r"^spec\.algorithm\.algorithmSettings\[(\d+)\](\.(name|value))?$")
_PARAM_PATH = re.compile(r"^spec\.parameters\[(\d+)\]\.feasibleSpace\.(\w+)$")


def _remap(fe: FieldError, scenario: Scenario, variant: Variant, doc: Mapping[str, Any]) -> FieldError:
    """Move an experiment-level error to the scenario field that caused it (a variant's setting,
    override or sweep value, the budget), else to ``experiment.<path>``."""
    path = fe.path
    where: str | None = None
    m = _SETTING_PATH.match(path)
    if m:
        items = (doc.get("spec", {}).get("algorithm") or {}).get("algorithmSettings") or []
        i = int(m.group(1))
        name = items[i]["name"] if i < len(items) else None
        if variant.swept and not _swept_on_experiment(scenario, variant) and variant.swept[1] == name:
            where = _sweep_path(scenario, variant)
        elif name in variant.settings:
            where = f"{variant.path}.settings.{name}"
    elif path == "spec.algorithm.algorithmName" and variant.algorithm is not None:
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
        params = doc.get("spec", {}).get("parameters") or []
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
    """Everything that can be known before running: the objective and its options exist, every
    variant's Experiment is valid (Katib's webhook rules), its algorithm exists and accepts its
    settings, the parameters map onto the objective, the simulation options are known, and
    assertions that need the objective's optimum have one. Raises SpecError with every problem,
    each at the scenario field that caused it (``variants[2].settings.kappa``)."""
    from katibsim import plugins
    from katibsim.engine.mapping import resolve_mapping
    from katibsim.engine.options import SimulationOptions
    from katibsim.spec.loader import experiment_from_dict
    from katibsim.spec.validation import errors_of, validate

    errors: list[FieldError] = []
    f = scenario.file
    try:
        SimulationOptions.from_dict(scenario.simulation)
    except InputError as err:
        errors.append(FieldError("simulation", str(err), f))
    objective = None
    try:
        objective = plugins.get_objective(scenario.objective.name, **dict(scenario.objective.options))
    except SpecError as err:
        for fe in err.errors:
            where = "objective.options" if fe.path == "objective.options" else "objective.name"
            errors.append(FieldError(where, fe.message, f, fe.value, fe.kind))
    except InputError as err:
        errors.append(FieldError("objective.options", str(err), f))
    mapped = False
    seen: set[tuple[str, str]] = set()
    shared: dict[tuple[str, str], tuple[FieldError, list[str]]] = {}
    for variant in scenario.variants:
        doc = scenario.experiment_for(variant)
        names = [p.get("name") for p in doc.get("spec", {}).get("parameters") or [] if isinstance(p, Mapping)]
        for pname in (variant.overrides.get("parameters") or {}):
            if pname not in names:
                errors.append(
                    FieldError(f"{variant.path}.overrides.parameters.{pname}", f"the experiment has no parameter {pname}; it has {', '.join(map(str, names))}", f, pname)
                )
        found: list[FieldError] = []
        exp = None
        try:
            exp = experiment_from_dict(doc, file=scenario.experiment_file or f)
            found = errors_of(validate(exp))
            if not found:
                plugins.build_algorithm(exp, seed=0)
        except SpecError as err:
            found = list(err.errors)
        for fe in found:
            new = _remap(fe, scenario, variant, doc)
            if new.message.startswith(f"variant {variant.name}: "):
                if (new.path, new.message) not in seen:
                    seen.add((new.path, new.message))
                    errors.append(new)
            else:
                shared.setdefault((new.path, new.message), (new, []))[1].append(variant.name)
        if exp is not None and objective is not None and not found and not mapped:
            mapped = True
            try:
                from katibsim.runner import _mapping_for

                space = exp.search_space()
                resolve_mapping(space, objective, _mapping_for(scenario, space, objective))
            except (InputError, SpecError) as err:
                errors.append(FieldError("objective.mapping", str(err), f))
    for fe, who in shared.values():
        if len(who) < len(scenario.variants):
            # Only some variants trip over it (a grid needs steps): say which.
            fe = FieldError(fe.path, f"variant(s) {', '.join(who)}: {fe.message}", fe.file, fe.value, fe.kind, fe.severity)
        errors.append(fe)
    if objective is not None:
        maximize = (scenario.experiment.get("spec", {}).get("objective") or {}).get("type") == "maximize"
        known = objective.optimum is not None and objective.direction == ("maximize" if maximize else "minimize")
        if not known:
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
    if errors:
        raise SpecError(errors)
