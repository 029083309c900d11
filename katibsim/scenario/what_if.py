"""The ``what_if:`` block of a scenario: a finished experiment's trials stand in for ``experiment:``, ``objective:`` and ``variants:``.

``what_if: {trials: PATH, experiment: PATH, metric: NAME, algorithms: [...]}`` (``docs/scenarios.md``)
reads the trials (:func:`katibsim.workload.readers.read_trials`, any format it reads) and gives the
reader what the scenario leaves out: the Experiment the trials came from, the objective
``from-trials`` fitted to them, and the variants of :func:`katibsim.workload.whatif.plan_variants`.
A field the scenario does give wins (an edited generated scenario keeps its own variants).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from katibsim.errors import KatibsimError
from katibsim.scenario.fields import Errors, did_you_mean, mapping
from katibsim.scenario.model import WhatIf

__all__ = ["FROM_TRIALS", "WHAT_IF_KEYS", "WhatIfSource", "generated_variants", "read_table", "read_what_if"]

FROM_TRIALS = "from-trials"  # the objective fitted to a table of trials (plugin katibsim_plugins.from_trials)
WHAT_IF_KEYS = frozenset({"trials", "experiment", "metric", "direction", "algorithms"})


@dataclass(frozen=True)
class WhatIfSource:
    """A readable ``what_if:`` block: its fields (paths resolved) and the table it read."""

    what_if: WhatIf
    table: Any  # katibsim.workload.table.TrialTable

    @property
    def objective(self) -> dict[str, Any]:
        """The ``objective:`` it stands for: from-trials on the same files."""
        options: dict[str, Any] = {"file": self.what_if.trials}
        if self.what_if.experiment:
            options["experiment"] = self.what_if.experiment
        if self.what_if.metric:
            options["metric"] = self.what_if.metric
        if self.what_if.direction:
            options["direction"] = self.what_if.direction
        return {"name": FROM_TRIALS, "options": options}

    def target_value(self, maximize: bool) -> float | None:
        """The default ``target``: the level of the real run's best tenth of trials (the value that
        10% of its trials with a value reached or beat; nearest rank). Not its single best value:
        that is one observation with its noise on top, which the surrogate's mean lies below, so
        a simulated run would rarely reach it."""
        values = sorted((float(t.value) for t in self.table.usable), reverse=maximize)
        if not values:
            return None
        return values[max(0, math.ceil(0.1 * len(values)) - 1)]

    def simulation(self) -> dict[str, float]:
        """The ``simulation:`` delays it stands for: the real run's (the scenario's own keys win)."""
        from katibsim.workload.whatif import real_delays

        return real_delays(self.table)

    def experiment(self) -> dict[str, Any]:
        """The ``experiment:`` it stands for (InputError when the trials do not say enough)."""
        from katibsim.workload.whatif import experiment_document

        return experiment_document(self.table)


def _path(e: Errors, field: str, v: Any, base: Path) -> str | None:
    if not isinstance(v, str) or not v:
        e.add(f"what_if.{field}", "must be a path (relative to the scenario file)", v)
        return None
    p = Path(v)
    return str(p if p.is_absolute() else (base / p).resolve())


def read_what_if(e: Errors, v: Any, base: Path) -> WhatIfSource | None:
    """The ``what_if:`` block, read: its files must exist and hold trials (every problem goes to ``e``)."""
    m = mapping(e, "what_if", v, allowed=WHAT_IF_KEYS)
    if m is None:
        return None
    if m.get("trials") is None:
        e.required("what_if.trials", "the finished trials: kubectl get trials -o yaml output, a katibsim result.json, a CSV or JSON table")
        return None
    trials = _path(e, "trials", m["trials"], base)
    experiment = _path(e, "experiment", m["experiment"], base) if m.get("experiment") is not None else None
    metric = m.get("metric")
    if metric is not None and (not isinstance(metric, str) or not metric):
        e.add("what_if.metric", "must be a metric name", metric)
        metric = None
    direction = m.get("direction")
    if direction is not None and direction not in ("maximize", "minimize"):
        e.add("what_if.direction", "must be maximize or minimize (the metric's direction, for trials that do not say it)",
              direction)
        direction = None
    algorithms = None
    if m.get("algorithms") is not None:
        raw = m["algorithms"]
        if not isinstance(raw, list) or not raw or not all(isinstance(a, str) and a for a in raw):
            e.add("what_if.algorithms", "must be a non-empty list of algorithm names", raw)
        else:
            from katibsim import plugins

            known = plugins.algorithms()
            unknown = [a for a in raw if a not in known]
            for i, a in enumerate(raw):
                if a in unknown:
                    e.add(f"what_if.algorithms[{i}]", f"no plugin provides algorithm {a}"
                          f"{did_you_mean(a, known)}; known: {', '.join(sorted(known))}", a)
            algorithms = tuple(raw) if not unknown else None
    if trials is None or (m.get("experiment") is not None and experiment is None):
        return None
    try:
        table = read_table(trials, experiment, metric, direction)
    except KatibsimError as err:
        e.add("what_if.trials", str(err), m["trials"])
        return None
    return WhatIfSource(WhatIf(trials=trials, experiment=experiment, metric=metric, algorithms=algorithms,
                               direction=direction), table)


def _stamp(path: str | None) -> tuple[str, int, int] | None:
    if path is None:
        return None
    try:
        st = Path(path).stat()
    except OSError:
        return (path, -1, -1)
    return (path, st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=8)
def _read_once(trials: tuple[str, int, int], experiment: tuple[str, int, int] | None, metric: str | None,
               direction: str | None) -> Any:
    from katibsim.workload.readers import read_trials

    kw = {"direction": direction} if direction else {}
    return read_trials(trials[0], experiment=experiment[0] if experiment else None, metric=metric, **kw)


def read_table(trials: str, experiment: str | None = None, metric: str | None = None, direction: str | None = None) -> Any:
    """``read_trials(trials, experiment=, metric=, direction=)``, read once per process while the files stay
    as they are (a comparison reads a what-if scenario's trials several times: the reader, the
    written scenario, the report); the table is frozen, so sharing it is safe."""
    stamp = _stamp(trials)
    assert stamp is not None
    return _read_once(stamp, _stamp(experiment), metric, direction)


def generated_variants(
    src: WhatIfSource, experiment: Mapping[str, Any], budget: Mapping[str, Any], file: str | None
) -> tuple[list[dict[str, Any]], tuple[tuple[str, str], ...]]:
    """The ``variants:`` entries a what-if scenario without its own runs, and what was left out."""
    from katibsim.workload.whatif import plan_variants

    plan = plan_variants(experiment, budget=budget, algorithms=src.what_if.algorithms, file=file)
    return [v.to_scenario() for v in plan.variants], plan.skipped
