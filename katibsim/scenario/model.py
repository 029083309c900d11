"""The scenario model: frozen dataclasses for a scenario and its parts, and what follows from them.

A :class:`Scenario` is what :mod:`katibsim.scenario.reader` makes of one YAML document (the schema
is ``docs/scenarios.md``): an Experiment document, an objective reference, variants, paired
seeds, assertions. The methods here are pure: a variant's Experiment document, the run key that
``--resume`` checks, the parameter mapping. Nothing here reads files or asks the plugin host;
that is the reader's and the pre-flight's job.

Design choices (see ``docs/reports.md#assertion-families``):
- Paired seeds: every variant runs on the same derived seeds (Syne Tune, kurobako).
- Whether a bound applies per seed (``seeds: {atLeast: k}``) or to an aggregate
  (``aggregate: median``) is always explicit; an assertion naming an unknown variant or metric
  is a validation error, never a silent pass (k6 #1526, agentv #882).
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import math
import os
from dataclasses import dataclass, field, replace
from typing import Any, Mapping

import numpy as np

from katibsim import __version__
from katibsim.errors import FieldError, SpecError

__all__ = [
    "AGGREGATES",
    "Assertion",
    "BaselineAssertion",
    "Count",
    "INT_OVERRIDES",
    "INVARIANT_CHECKS",
    "InvariantAssertion",
    "ObjectiveRef",
    "OVERRIDE_FIELDS",
    "PAIRED_TESTS",
    "PairedAssertion",
    "ReportOptions",
    "Scenario",
    "SeedSpec",
    "Sweep",
    "Target",
    "TargetAssertion",
    "ThresholdAssertion",
    "Variant",
    "WhatIf",
]

#: Experiment fields a variant (``overrides``), the ``budget`` or a ``sweep`` may change, with the
#: place in the Experiment document they land on.
OVERRIDE_FIELDS: Mapping[str, tuple[str, ...]] = {
    "parallelTrialCount": ("spec", "parallelTrialCount"),
    "maxTrialCount": ("spec", "maxTrialCount"),
    "maxFailedTrialCount": ("spec", "maxFailedTrialCount"),
    "goal": ("spec", "objective", "goal"),
}
INT_OVERRIDES = frozenset({"parallelTrialCount", "maxTrialCount", "maxFailedTrialCount"})

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

# Model
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ObjectiveRef:
    """The simulated objective: a registered name, its options, and how experiment parameters map
    onto its inputs: ``by-name`` (the default; falls back to order when names do not match),
    ``by-order``, or explicit ``{experiment parameter: "input[:transform...]"}`` entries
    (:mod:`katibsim.engine.mapping`). ``mismatch``: the kinds of objective/experiment mismatch
    the scenario declares intended (``mismatch: intended`` = all of direction, metric, range;
    :mod:`katibsim.engine.mismatch`): they are notes of the runs instead of errors."""

    name: str
    options: Mapping[str, Any] = field(default_factory=dict)
    mapping: str | Mapping[str, str] = "by-name"
    mismatch: tuple[str, ...] = ()


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
    #: Where the trials run: None (simulated) or the reference the backend-field parser made of
    #: the ``backend:`` field (it has ``simulated`` and ``to_dict()``); the model never imports a backend.
    backend: Any = None
    #: HOST:PORT of a Katib suggestion service that answers instead of the in-process algorithm
    #: (``service:``; docs/serve.md). None: the registered plugin, in process.
    service: str | None = None


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
class WhatIf:
    """``what_if:`` of a scenario: the finished run it re-simulates (paths resolved).

    ``algorithms``: the algorithms tried besides the one as run (None: Katib's that apply);
    ``skipped``: what the generated variants left out, (name, reason) each; ``direction``: the
    metric's, for trials that do not say it."""

    trials: str
    experiment: str | None = None
    metric: str | None = None
    algorithms: tuple[str, ...] | None = None
    skipped: tuple[tuple[str, str], ...] = ()
    direction: str | None = None  # maximize | minimize, for trials that do not say (a table alone)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"trials": self.trials}
        for key in ("experiment", "metric", "direction"):
            if getattr(self, key):
                out[key] = getattr(self, key)
        if self.algorithms is not None:
            out["algorithms"] = list(self.algorithms)
        return out


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
    what_if: WhatIf | None = None  # a what-if scenario: the real run drawn beside the variants

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
        algorithm and settings (merged over the experiment's own settings).

        A part of the shared document of the wrong shape is left as it is, for Katib's
        validation to report at its path."""
        doc = copy.deepcopy(dict(self.experiment))
        spec = doc.setdefault("spec", {})
        if not isinstance(spec, dict):
            return doc
        for key, value in {**self.budget, **variant.overrides}.items():
            if key == "parameters":
                params = spec.get("parameters")
                for p in params if isinstance(params, list) else []:
                    if isinstance(p, dict) and isinstance(p.get("name"), str) and p.get("name") in value:
                        fs = p.setdefault("feasibleSpace", {})
                        if isinstance(fs, dict):
                            fs.update(copy.deepcopy(value[p["name"]]))
                continue
            where = OVERRIDE_FIELDS[key]
            node = doc
            for part in where[:-1]:
                node = node.setdefault(part, {})
                if not isinstance(node, dict):
                    break
            else:
                node[where[-1]] = value
        raw = spec.get("algorithm")
        if raw is not None and not isinstance(raw, Mapping):
            return doc
        algo = dict(raw or {})
        items = algo.get("algorithmSettings")
        own = {s.get("name"): s.get("value") for s in (items if isinstance(items, list) else []) if isinstance(s, Mapping)}
        if variant.algorithm is not None and variant.algorithm != algo.get("algorithmName"):
            own = {}  # another algorithm's settings would be rejected as unknown
            algo["algorithmName"] = variant.algorithm
        elif items is not None and not isinstance(items, list):
            return doc
        # The scenario's seeds replace a random_state inherited from the experiment file, which
        # would otherwise give every seed the same run; a variant may still pin it on purpose.
        own.pop("random_state", None)
        merged = {**own, **variant.settings}
        algo["algorithmSettings"] = [{"name": k, "value": v} for k, v in merged.items()] or None
        if algo["algorithmSettings"] is None:
            algo.pop("algorithmSettings")
        spec["algorithm"] = algo
        return doc

    @property
    def spec(self) -> Mapping[str, Any]:
        """The shared Experiment's ``spec`` (an empty mapping when the document has none)."""
        spec = self.experiment.get("spec") if isinstance(self.experiment, Mapping) else None
        return spec if isinstance(spec, Mapping) else {}

    @property
    def maximize(self) -> bool:
        objective = self.spec.get("objective")
        return isinstance(objective, Mapping) and objective.get("type") == "maximize"

    @property
    def metric_name(self) -> str:
        objective = self.spec.get("objective")
        name = objective.get("objectiveMetricName") if isinstance(objective, Mapping) else None
        return name if isinstance(name, str) and name else "objective"

    def max_trial_count(self, variant: Variant) -> tuple[int | None, str]:
        """``maxTrialCount`` of ``variant``'s Experiment and the scenario field that set it (for
        messages), without building the document: the variant's override or sweep value wins
        over ``budget``, which wins over the experiment's own."""
        if "maxTrialCount" in variant.overrides:
            if variant.swept and variant.swept[1] == "maxTrialCount":
                return variant.overrides["maxTrialCount"], f"{variant.path}.sweep.maxTrialCount"
            return variant.overrides["maxTrialCount"], f"{variant.path}.overrides.maxTrialCount"
        if "maxTrialCount" in self.budget:
            return self.budget["maxTrialCount"], "budget.maxTrialCount"
        value = self.spec.get("maxTrialCount")
        where = "spec.maxTrialCount" if self.experiment_file else "experiment.maxTrialCount"
        if isinstance(value, int) and not isinstance(value, bool):
            return value, where
        return None, where

    def mapping_for(self, space: Any, objective: Any) -> Any:
        """The ``mapping`` argument of the engine for this scenario's objective reference:
        explicit entries, ``by-order`` pairs, or None (by name, else by order: the engine's rule)."""
        m = self.objective.mapping
        if isinstance(m, Mapping):
            return dict(m)
        if m == "by-order":
            return [f"{p.name}={i.name}" for p, i in zip(space.parameters, objective.inputs)]
        return None

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
        if variant.service is not None:
            # Another implementation may answer at that address: a served run is its own result.
            # Only when set, so the keys of stored in-process runs stay valid.
            payload["service"] = variant.service
        files = objective_file_digests(self.objective)
        if files:  # only when the objective reads files, so other stored keys stay valid
            payload["objective_files"] = files
        return _hash(payload)

    def content_hash(self) -> str:
        """Hash of the whole resolved scenario (provenance)."""
        payload = {
            "name": self.name,
            "experiment": self.experiment,
            "objective": {"name": self.objective.name, "options": dict(self.objective.options), "mapping": self.objective.mapping,
                          **({"mismatch": list(self.objective.mismatch)} if self.objective.mismatch else {})},
            "variants": [_variant_payload(v) for v in self.variants],
            "seeds": [self.seeds.count, self.seeds.master],
            "budget": dict(self.budget),
            "simulation": dict(self.simulation),
            "assertions": [repr(a) for a in self.assertions],
        }
        if self.what_if is not None:
            payload["what_if"] = self.what_if.to_dict()
        files = objective_file_digests(self.objective)
        if files:
            payload["objective_files"] = files
        return _hash(payload)


def _variant_payload(v: Variant) -> dict[str, Any]:
    out: dict[str, Any] = {"name": v.name, "algorithm": v.algorithm, "settings": dict(v.settings),
                           "overrides": dict(v.overrides)}
    if v.service is not None:  # only when set: scenarios without one keep their hash
        out["service"] = v.service
    return out


def objective_file_digests(ref: ObjectiveRef) -> dict[str, str]:
    """A digest of the content of every file the objective's options name (its class's
    ``file_options``), by option; empty when the objective reads none. A file that cannot be read
    is ``"unreadable"`` (the objective itself reports why when it is built)."""
    from katibsim import plugins

    entry = plugins.objectives().get(ref.name)
    names = getattr(getattr(entry, "factory", None), "file_options", ()) or ()
    out: dict[str, str] = {}
    for key in names:
        value = ref.options.get(key)
        if value is not None:
            out[key] = _file_digest(str(value))
    return out


def _file_digest(path: str) -> str:
    try:
        st = os.stat(path)
    except OSError:
        return "unreadable"
    return _cached_digest(os.path.abspath(path), st.st_mtime_ns, st.st_size)


@functools.lru_cache(maxsize=64)
def _cached_digest(path: str, mtime_ns: int, size: int) -> str:
    try:
        with open(path, "rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()[:16]
    except OSError:
        return "unreadable"


def _hash(payload: Any) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
