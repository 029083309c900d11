"""The scenario reader's second half: ``target``, ``report`` and ``assertions`` (with their k-of-m counts).

Same conventions as :mod:`katibsim.scenario.reader`: every problem is recorded at its field
path, never raised; a misspelt name (variant, metric, check, kind) gets a did-you-mean.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

from katibsim.report.metrics import METRICS
from katibsim.scenario.fields import Errors, did_you_mean, known, mapping, number, one_of
from katibsim.scenario.model import (
    AGGREGATES,
    INVARIANT_CHECKS,
    PAIRED_TESTS,
    Assertion,
    BaselineAssertion,
    Count,
    InvariantAssertion,
    PairedAssertion,
    ReportOptions,
    SeedSpec,
    Target,
    TargetAssertion,
    ThresholdAssertion,
    Variant,
)

__all__ = ["read_assertions", "read_report", "read_target"]


def read_target(e: Errors, path: str, v: Any) -> Target | None:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return Target(value=float(v))
    m = mapping(e, path, v, allowed={"value", "regret"})
    if m is None:
        return None
    if ("value" in m) == ("regret" in m):
        e.add(path, "give exactly one of value (an objective value to reach) or regret (a distance below the known optimum)", None)
        return None
    if "value" in m:
        val = number(e, f"{path}.value", m["value"])
        return Target(value=val) if val is not None else None
    reg = number(e, f"{path}.regret", m["regret"], nonneg=True)
    return Target(regret=reg) if reg is not None else None


def _count(e: Errors, path: str, v: Any, seeds: SeedSpec) -> Count | None:
    m = mapping(e, path, v, allowed={"atLeast", "atMost"})
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
    k = number(e, f"{path}.{key}", raw, integer=True, nonneg=True)
    if k is None:
        return None
    if k > seeds.count:
        e.add(f"{path}.{key}", f"is more than the {seeds.count} seeds the scenario runs", raw)
        return None
    return Count(at_least=key == "atLeast", k=k)


def read_report(e: Errors, v: Any, names: Mapping[str, None], variants: list[Variant],
                experiment_algorithm: str | None = None) -> ReportOptions:
    """``report:``; without ``baseline`` the first variant that runs random search is the baseline
    (a variant without ``algorithm`` runs the Experiment's own, ``experiment_algorithm``)."""
    m = mapping(e, "report", v, allowed={"baseline", "introspect"})
    if m is None:
        return ReportOptions()
    baseline = m.get("baseline")
    if baseline is not None and not (isinstance(baseline, str) and baseline in names):
        e.add("report.baseline", f"unknown variant{did_you_mean(baseline, names)}; known: {known(names)}", baseline)
        baseline = None
    if baseline is None:
        baseline = next((var.name for var in variants
                         if (var.algorithm or experiment_algorithm) == "random"), None)
    iv, iseed, isteps = None, 0, 6
    if m.get("introspect") is not None:
        im = mapping(e, "report.introspect", m["introspect"], allowed={"variant", "seed", "steps"})
        if im is not None:
            iv = im.get("variant")
            if iv is not None and not (isinstance(iv, str) and iv in names):
                e.add("report.introspect.variant", f"unknown variant{did_you_mean(iv, names)}; known: {known(names)}", iv)
                iv = None
            if "seed" in im:
                iseed = number(e, "report.introspect.seed", im["seed"], integer=True, nonneg=True) or 0
            if "steps" in im:
                isteps = number(e, "report.introspect.steps", im["steps"], integer=True, positive=True) or 6
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


def _variant_ref(e: Errors, path: str, v: Any, names: Mapping[str, None]) -> str | None:
    if not isinstance(v, str) or not v:
        e.required(path, f"a variant name; known: {known(names)}")
        return None
    if v not in names:
        e.add(path, f"unknown variant{did_you_mean(v, names)}; known: {known(names)}", v)
        return None
    return v


def _metric_ref(e: Errors, path: str, v: Any, target: Target | None, has_baseline: bool) -> str | None:
    if not isinstance(v, str) or v not in METRICS:
        e.add(path, f"unknown metric{did_you_mean(v, METRICS)}; known: {', '.join(METRICS)}", v)
        return None
    needs = METRICS[v].needs
    if "target" in needs and target is None:
        e.add(path, f"metric {v} needs a target: set `target:` on the assertion or the scenario", v)
        return None
    if "baseline" in needs and not has_baseline:
        e.add(path, f"metric {v} needs a random-search variant (algorithm: random, or report.baseline)", v)
        return None
    return v


def read_assertions(
    e: Errors,
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
        if one_of(e, f"{p}.kind", kind, _ASSERTION_FIELDS) is None:
            continue
        mapping(e, p, item, allowed=_ASSERTION_FIELDS[kind])
        aname = item.get("name")
        if aname is not None and (not isinstance(aname, str) or not aname):
            e.add(f"{p}.name", "must be a non-empty string", aname)
            aname = None
        desc = item.get("description") or ""
        if not isinstance(desc, str):
            e.add(f"{p}.description", "must be a string", desc)
            desc = ""
        n_before = len(e.items)
        target = scenario_target
        if item.get("target") is not None:
            target = read_target(e, f"{p}.target", item["target"])
        tolerance = None
        if item.get("tolerance") is not None and kind in ("paired", "threshold"):
            tolerance = number(e, f"{p}.tolerance", item["tolerance"], nonneg=True)
        a: Assertion | None = None
        if kind == "invariant":
            check = item.get("check")
            if one_of(e, f"{p}.check", check, INVARIANT_CHECKS) is None:
                check = None
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
                equals = number(e, f"{p}.equals", item["equals"], integer=True, nonneg=True)
            a = InvariantAssertion(aname or f"invariant {check}", p, desc, check=check, variants=vlist, equals=equals)
        elif kind == "target":
            variant = _variant_ref(e, f"{p}.variant", item.get("variant"), names)
            if target is None:
                e.required(f"{p}.target", "the level to reach: {value: v} or {regret: r} (or a scenario-level target)")
            within = item.get("within", {}) or {}
            wt = wtime = None
            wm = mapping(e, f"{p}.within", within, allowed={"trials", "time"})
            if wm is not None:
                if "trials" in wm:
                    wt = number(e, f"{p}.within.trials", wm["trials"], integer=True, positive=True)
                if "time" in wm:
                    wtime = number(e, f"{p}.within.time", wm["time"], positive=True)
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
            if one_of(e, f"{p}.test", test, PAIRED_TESTS) is None:
                test = "wilcoxon"
            level = number(e, f"{p}.level", item.get("level", 0.05), positive=True)
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
            lo = number(e, f"{p}.min", item["min"]) if item.get("min") is not None else None
            hi = number(e, f"{p}.max", item["max"]) if item.get("max") is not None else None
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
                tm = mapping(e, f"{p}.tolerance", item["tolerance"], allowed={"absolute", "relative"})
                if tm is not None:
                    absolute = number(e, f"{p}.tolerance.absolute", tm.get("absolute", 0.0), nonneg=True) or 0.0
                    relative = number(e, f"{p}.tolerance.relative", tm.get("relative", 0.0), nonneg=True) or 0.0
            mode = item.get("mode", "no-worse")
            if one_of(e, f"{p}.mode", mode, ("no-worse", "equal")) is None:
                mode = "no-worse"
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


def _agg_or_seeds(e: Errors, p: str, item: Mapping[str, Any], seeds: SeedSpec) -> tuple[str | None, Count | None]:
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
        if one_of(e, f"{p}.aggregate", agg, AGGREGATES) is None:
            return None, None
        return agg, None
    return None, _count(e, f"{p}.seeds", item["seeds"], seeds)


def _check_baseline_file(e: Errors, p: str, path: str, variant: str | None, metric: str | None) -> None:
    """A baseline must exist and hold the variant and metric it is compared on."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:  # also not UTF-8
        e.add(f"{p}.file", f"cannot read baseline {path}: {getattr(err, 'strerror', None) or err}", path)
        return
    except RecursionError:
        e.add(f"{p}.file", f"baseline {path}: nesting too deep to read", path)
        return
    table = data.get("metrics") if isinstance(data, Mapping) else None
    if not isinstance(table, Mapping):
        e.add(f"{p}.file", "not a comparison summary (no `metrics` table); use the summary.json that `katibsim compare` writes", path)
        return
    if variant is not None and not isinstance(variant, str):
        e.add(f"{p}.baselineVariant", "must be a variant name", variant)
        return
    if variant is not None and variant not in table:
        e.add(f"{p}.baselineVariant" if variant else f"{p}.variant", f"the baseline has no variant {variant!r}; it has {known(table)}", variant)
        return
    if variant is not None and metric is not None and not (isinstance(table[variant], Mapping) and metric in table[variant]):
        e.add(f"{p}.metric", f"the baseline has no metric {metric!r} for {variant}", metric)
