"""The seed tutorial's pictures for one run: replay its history through a fresh algorithm, step by step.

For a one-parameter experiment whose algorithm offers :meth:`Algorithm.introspect` (the
``katibsim-bo`` plugin does), the chosen run's first n trials are handed to a newly
built algorithm (same settings, same seed as the run), which reports its posterior mean, standard
deviation, acquisition and next point over the whole range; the objective's noise-free values
are drawn beside it. Because suggestion algorithms must answer the same when rebuilt from the
same history (Katib restarts its services), the replayed next point should be the run's actual
next trial; the note says whether it was.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from katibsim.report.model import Introspection, IntrospectionStep
from katibsim.scenario import Scenario

__all__ = ["choose_run", "introspect_run", "supports_introspection"]


def supports_introspection(cls: type) -> bool:
    from katibsim.algorithm import Algorithm

    return getattr(cls, "introspect", None) is not Algorithm.introspect


def choose_run(scenario: Scenario) -> tuple[str, int] | None:
    """(variant, seed index) to draw: the scenario's choice, else the first variant whose algorithm
    can introspect, on seed 0. None when the experiment is not one-dimensional."""
    from katibsim import plugins

    params = scenario.spec.get("parameters") or []
    if len(params) != 1 or (params[0] or {}).get("parameterType") not in ("double", "int"):
        return None
    seed = min(scenario.report.introspect_seed, scenario.seeds.count - 1)
    if scenario.report.introspect_variant:
        return scenario.report.introspect_variant, seed
    algos = plugins.algorithms()
    for v in scenario.variants:
        name = (scenario.experiment_for(v)["spec"].get("algorithm") or {}).get("algorithmName")
        cls = algos.get(name)
        if cls is not None and supports_introspection(cls):
            return v.name, seed
    return None


def _trials(result: Mapping[str, Any], space) -> list:
    from katibsim.algorithm import Trial, TrialCondition

    out = []
    for t in sorted(result["trials"], key=lambda t: t["index"]):
        strings = {a["name"]: a["value"] for a in t["assignment"]}
        out.append(
            Trial(
                name=t["name"],
                assignment=space.parse(strings),
                condition=TrialCondition(t["condition"]),
                value=t.get("value"),
                start_time=t.get("created"),
                completion_time=t.get("ended"),
            )
        )
    return out


def _step_counts(first: int, last: int, steps: int) -> list[int]:
    if last < first:
        return []
    if last - first + 1 <= steps:
        return list(range(first, last + 1))
    return sorted({int(round(x)) for x in np.linspace(first, last, steps)})


def introspect_run(scenario: Scenario, envelope: Mapping[str, Any], *, steps: int | None = None, points: int = 200) -> Introspection | None:
    """The step-by-step pictures of the run in ``envelope`` (None when its algorithm cannot show them)."""
    from katibsim.algorithm_factory import build_algorithm
    from katibsim.engine.mapping import resolve_mapping
    from katibsim.engine.run import Streams
    from katibsim.scenario import build_run

    variant = scenario.variant(envelope["variant"])
    exp, objective, mapping, _ = build_run(scenario, variant)
    space = exp.search_space()
    if len(space) != 1:
        return None
    param = space.names[0]
    seed = Streams.from_seed(int(envelope["seed"])).algorithm_seed
    probe = build_algorithm(exp, seed=seed)
    if not supports_introspection(type(probe)):
        return None
    link = resolve_mapping(space, objective, mapping)
    result = envelope["result"]
    trials = _trials(result, space)
    n_steps = steps or scenario.report.introspect_steps
    parallel = int(result.get("parallel_trial_count") or 1)
    out: list[IntrospectionStep] = []
    mismatches = []
    counts = _step_counts(2, len(trials) - 1, max(1, n_steps))
    for n in counts:
        if len(out) >= n_steps:
            break
        # A fresh algorithm per step, as a restarted suggestion service would be.
        algo = build_algorithm(exp, seed=seed)
        info = algo.introspect(trials[:n], points=points)
        if not info:
            continue
        grid = [float(x) for x in info["x"]]
        truth = [float(objective.noise_free(link.apply({param: space[param].coerce(x)}))) for x in info["x"]]
        nxt = info.get("next") or {}
        next_x = float(nxt[param]) if param in nxt else None
        actual = trials[n].assignment.get(param) if n < len(trials) else None
        if next_x is not None and actual is not None and not math.isclose(next_x, float(actual), rel_tol=1e-9, abs_tol=1e-12):
            mismatches.append(n)
        obs = info.get("observed") or []
        kappa = info.get("kappa")
        acq_name = str(info.get("acq_func") or "acquisition") + (f" (kappa {kappa:g})" if isinstance(kappa, (int, float)) else "")
        out.append(
            IntrospectionStep(
                observed=n,
                xs=tuple(float(x) for x, _ in obs),
                ys=tuple(float(y) for _, y in obs),
                grid=tuple(grid),
                truth=tuple(truth),
                mean=tuple(float(x) for x in info["mean"]),
                std=tuple(float(x) for x in info["std"]),
                acquisition=tuple(float(x) for x in info["acquisition"]),
                next_x=next_x,
                acquisition_name=acq_name,
            )
        )
    if not out:
        return None
    note = ""
    if parallel > 1:
        note = f"The run had parallelTrialCount {parallel}; the replay feeds the first n trials as if they had run one after another."
    elif mismatches:
        note = f"After {', '.join(map(str, mismatches))} trials the replayed algorithm chose a different next point than the run did."
    else:
        note = "At every step shown, the replayed next point is exactly the run's next trial."
    return Introspection(variant.name, int(envelope["seed_index"]), param, tuple(out), note)
