"""Hand-made trial tables for the what-if tests (no reader needed).

Imported as ``whatif_helpers`` (``tests/`` folders are on sys.path, as for ``rundata_helpers``).
"""

from __future__ import annotations

import sys
import types
from typing import Any, Sequence

from katibsim.spec.space import Distribution, Parameter, ParameterType, SearchSpace
from katibsim.workload.table import ObservedTrial, TrialTable

SPACE = SearchSpace((
    Parameter("lr", ParameterType.DOUBLE, 0.001, 0.5, distribution=Distribution.LOG_UNIFORM),
    Parameter("batch", ParameterType.INT, 8, 512, distribution=Distribution.LOG_UNIFORM),
))
FINITE = SearchSpace((
    Parameter("layers", ParameterType.INT, 1, 4),
    Parameter("opt", ParameterType.CATEGORICAL, values=("sgd", "adam")),
))


def trial(i: int, value: float | None, *, created: float | None = None, ended: float | None = None,
          status: str = "Succeeded", **params: str) -> ObservedTrial:
    return ObservedTrial(f"t{i}", params or {"lr": "0.01", "batch": "32"}, status, value, (), created, created, ended)


def table(trials: Sequence[ObservedTrial], *, space: SearchSpace = SPACE, direction: str | None = "maximize",
          experiment: Any = None, **kw: Any) -> TrialTable:
    return TrialTable("trials.yaml", "acc", direction, space, tuple(trials), experiment=experiment, **kw)


def timed_table(values: Sequence[float | None], *, duration: float = 10.0, parallel: int = 2, **kw: Any) -> TrialTable:
    """Trials ``parallel`` at a time, created in order: batch k is created at k * ``duration`` (+ 0.5 s
    after the first) and its trials end 0.1 s apart from (k + 1) * ``duration`` on."""
    ts = [trial(i, v, created=(i // parallel) * duration + (0.5 if i >= parallel else 0.0),
                ended=(i // parallel + 1) * duration + 0.1 * (i % parallel),
                status="Succeeded" if v is not None else "Failed")
          for i, v in enumerate(values)]
    return table(ts, **kw)


def install_reader(monkeypatch, result: Any) -> list[dict[str, Any]]:
    """Stand in for ``katibsim.workload.readers.read_trials``: returns ``result`` (or raises it)
    and records each call's arguments."""
    calls: list[dict[str, Any]] = []

    def read_trials(path, *, experiment=None, metric=None, **kw):
        calls.append({"path": str(path), "experiment": experiment, "metric": metric, **kw})
        if isinstance(result, BaseException):
            raise result
        return result

    from katibsim.scenario.what_if import _read_once

    _read_once.cache_clear()  # a table read by an earlier test must not answer for this one
    mod = types.ModuleType("katibsim.workload.readers")
    mod.read_trials = read_trials  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "katibsim.workload.readers", mod)
    import katibsim.workload as pkg

    monkeypatch.setattr(pkg, "readers", mod, raising=False)
    return calls
