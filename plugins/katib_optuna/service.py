"""A model of Katib's ``BaseOptunaService`` (``pkg/suggestion/v1beta1/optuna/base_service.py``).

One object is one live suggestion pod. It is built on the first ``GetSuggestions`` call and keeps
its in-memory Optuna study, the names of the trials it told, and a map from each asked
assignment's key (``"name:value,..."``, sorted by name) to the Optuna trial numbers asked with it.
A restarted pod (a new object) has none of it. Katib's calls, in Katib's order:

- tell: every Succeeded / EarlyStopped trial not told before is matched to an asked Optuna trial
  by its key and told its objective value (``study.tell``); a trial whose key was never asked
  (any completed trial after a restart) raises ``ValueError("An unknown trial has been passed in
  the GetSuggestion request.")`` — after recording the name, so each such trial costs one failed
  call. Failed and killed trials are never told: they stay RUNNING in the study for good;
- ask: ``count`` times ``study.ask(fixed_distributions=...)`` with Katib's distributions; a
  normal / logNormal parameter raises "Unsupported distribution ..." before any ask.

Optuna's ``GridSampler.after_trial`` calls ``study.stop()`` when the last grid point is told,
which raises ``RuntimeError`` outside ``optimize()``: that ``GetSuggestions`` call fails.

``corrected`` runs the fixed service: unknown trials are added to the study as completed trials
(a restarted pod re-learns them), failed trials the service asked are told as failed, the grid
sampler's ``study.stop()`` is ignored, and a grid with no point left unasked raises
:class:`GridExhausted` instead of re-offering running or finished points.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import warnings
from collections import defaultdict
from types import ModuleType
from typing import TYPE_CHECKING, Any, Iterator, Mapping, Sequence

import numpy as np

from katibsim.spec.space import Distribution, ParameterType, SearchSpace
from katibsim_plugins.katib_common import KatibTrial

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution
    from optuna.trial import TrialState


@functools.cache
def _optuna() -> ModuleType:
    """Optuna, imported when the first pod is built or a distribution converted, not when the plugin
    registers: it loads SQLAlchemy and more, which every ``katibsim`` command would pay at start."""
    import optuna
    import optuna.distributions
    import optuna.trial

    return optuna

GRID, TPE, MULTIVARIATE_TPE = "grid", "tpe", "multivariate-tpe"
UNKNOWN_TRIAL = "An unknown trial has been passed in the GetSuggestion request."
# Katib names distributions by the proto enum (api_pb2.Distribution.Name).
PROTO_NAMES = {Distribution.NORMAL: "NORMAL", Distribution.LOG_NORMAL: "LOG_NORMAL"}


class GridExhausted(Exception):
    """Corrected grid only: every grid point has been asked; ``assignments`` holds this call's."""

    def __init__(self, message: str, assignments: list):
        super().__init__(message)
        self.assignments = assignments


def unsupported_distribution(space: SearchSpace) -> str | None:
    """Katib's message for the first normal / logNormal int or double parameter, else None."""
    for p in space:
        if p.type in (ParameterType.INT, ParameterType.DOUBLE) and p.distribution in PROTO_NAMES:
            kind = "int" if p.type == ParameterType.INT else "double"
            return (f"Unsupported distribution {PROTO_NAMES[p.distribution]} for parameter {p.name}. The Optuna "
                    f"suggestion service supports only UNIFORM and LOG_UNIFORM for {kind} parameters.")
    return None


def _span(p, bound: float, other: float, top: bool = False) -> float:
    """``bound`` widened to cover ``p``'s grid values (corrected grid only)."""
    values = [float(v) for v in grid_combinations(SearchSpace((p,)))[p.name]]
    return max(bound, max(values)) if top else min(bound, min(values))


def optuna_distributions(space: SearchSpace, corrected: bool = False, grid: bool = False) -> dict[str, BaseDistribution]:
    """Katib's ``_get_optuna_search_space`` (raises ValueError with Katib's text for normal / logNormal;
    ``corrected``: normal is searched as uniform and logNormal as logUniform over [min, max])."""
    message = unsupported_distribution(space)
    if message and not corrected:
        raise ValueError(message)
    dist = _optuna().distributions
    CategoricalDistribution, FloatDistribution, IntDistribution = (  # noqa: N806 - Optuna's class names
        dist.CategoricalDistribution, dist.FloatDistribution, dist.IntDistribution)
    out: dict[str, BaseDistribution] = {}
    for p in space:
        if p.type == ParameterType.INT:
            step = int(p.step) if p.step else 1  # Katib's shared conversion: int step 1 by default
            if p.distribution in (Distribution.UNIFORM, Distribution.NORMAL):
                out[p.name] = IntDistribution(low=int(p.min), high=int(p.max), log=False, step=step)
            else:  # logUniform: low clipped to >= 1, the step ignored
                out[p.name] = IntDistribution(low=max(1, int(p.min)), high=int(p.max), log=True, step=1)
        elif p.type == ParameterType.DOUBLE:
            if p.distribution in (Distribution.UNIFORM, Distribution.NORMAL):
                lo, hi = float(p.min), float(p.max)
                step = float(p.step) if p.step else None
                if corrected and grid and step:
                    # numpy.arange's artefacts put grid values just off Optuna's range or step
                    # (Katib's pod then refuses them): the fix spans the values themselves.
                    lo, hi, step = _span(p, lo, hi), _span(p, hi, lo, top=True), None
                out[p.name] = FloatDistribution(low=lo, high=hi, log=False, step=step)
            else:  # logUniform: low clipped to >= 1e-10, the step ignored
                lo, hi = max(1e-10, float(p.min)), float(p.max)
                if corrected and grid and p.step:
                    lo, hi = _span(p, lo, hi), _span(p, hi, lo, top=True)
                out[p.name] = FloatDistribution(low=lo, high=hi, log=True, step=None)
        else:
            out[p.name] = CategoricalDistribution(list(p.values))
    return out


def grid_combinations(space: SearchSpace) -> dict[str, list]:
    """Katib's ``convert_to_combinations`` (numpy.arange for doubles, float artefacts included)."""
    out: dict[str, list] = {}
    for p in space:
        if p.type == ParameterType.INT:
            out[p.name] = list(range(int(p.min), int(p.max) + 1, int(p.step) if p.step else 1))
        elif p.type == ParameterType.DOUBLE:
            if p.step is None:
                raise ValueError(f"Param {p.name} step is nil; For discrete search space, all parameters "
                                 "must include step")
            arr = np.arange(float(p.min), float(p.max) + float(p.step), float(p.step))
            if arr[-1] > float(p.max):
                arr = arr[:-1]
            out[p.name] = list(arr)
        else:
            out[p.name] = list(p.values)
    return out


def assignments_key(assignment: Mapping[str, object]) -> str:
    """Katib's ``_get_assignments_key``: ``name:value`` sorted by name, joined by commas (``str()`` values)."""
    return ",".join(f"{k}:{assignment[k]}" for k in sorted(assignment))


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Optuna's log lines and warnings (Katib's pod logs them) kept out of katibsim's output."""
    logger = logging.getLogger("optuna")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


class OptunaService:
    """Katib's Optuna base service for one pod: ``get_suggestions(trials, count)``."""

    def __init__(self, algorithm: str, space: SearchSpace, *, maximize: bool, config: dict[str, Any],
                 corrected: bool = False) -> None:
        self.algorithm = algorithm
        self.space = space
        self.config = dict(config)
        self.corrected = corrected
        self.assignments_to_number: dict[str, list[int]] = defaultdict(list)
        self.recorded: set[str] = set()
        optuna = _optuna()  # imported before quiet(), which restores the logger level Optuna set at import
        with quiet():
            if algorithm == GRID:
                sampler: optuna.samplers.BaseSampler = optuna.samplers.GridSampler(grid_combinations(space), **config)
            elif algorithm in (TPE, MULTIVARIATE_TPE):
                sampler = optuna.samplers.TPESampler(**config)
            else:
                raise ValueError(f"unknown algorithm name {algorithm}")
            self.study = optuna.create_study(sampler=sampler, direction="maximize" if maximize else "minimize")
        self._grid_ids: dict[tuple, int] | None = None

    # -- telling -----------------------------------------------------------------------------------
    def tell(self, trials: Sequence[KatibTrial]) -> None:
        for t in trials:
            if t.name in self.recorded:
                continue
            self.recorded.add(t.name)
            numbers = self.assignments_to_number[assignments_key(t.assignment)]
            if numbers:
                number = numbers.pop(0)
                if self.corrected:
                    self._tell_ignoring_stop(number, t.value)
                else:
                    self.study.tell(number, t.value)
            elif self.corrected:
                self._add_known(t)
            else:
                raise ValueError(UNKNOWN_TRIAL)

    def _tell_ignoring_stop(self, number: int, value: float | None, state: TrialState | None = None) -> None:
        try:
            self.study.tell(number, value, state=state) if state else self.study.tell(number, value)
        except RuntimeError as exc:  # GridSampler's study.stop() outside optimize(): the tell is stored
            if "Study.stop" not in str(exc):
                raise

    def _add_known(self, t: KatibTrial) -> None:
        """Corrected: a trial this pod did not ask (a restart) is added to the study as completed."""
        dists = optuna_distributions(self.space, self.corrected, self.algorithm == GRID)
        params = {p.name: self._inside(dists[p.name], self._typed(p, t)) for p in self.space}
        system_attrs: dict[str, Any] = {}
        if self.algorithm == GRID:
            gid = self._grid_id(params)
            if gid is not None:
                sampler = self.study.sampler
                system_attrs = {"grid_id": gid, "search_space": sampler._search_space}  # type: ignore[attr-defined]
        ok = not math.isnan(t.value)
        optuna = _optuna()
        TrialState = optuna.trial.TrialState  # noqa: N806 - Optuna's class name
        frozen = optuna.trial.create_trial(state=TrialState.COMPLETE if ok else TrialState.FAIL,
                                           value=t.value if ok else None, params=params, distributions=dists,
                                           system_attrs=system_attrs)
        self.study.add_trial(frozen)

    @staticmethod
    def _inside(dist: BaseDistribution, value: Any) -> Any:
        """``value`` as Optuna holds it, clipped into ``dist`` (a float artefact just past max)."""
        internal = dist.to_internal_repr(value)
        d = _optuna().distributions
        if not dist._contains(internal) and isinstance(dist, (d.FloatDistribution, d.IntDistribution)):
            internal = min(max(internal, dist.low), dist.high)
        return dist.to_external_repr(internal)

    @staticmethod
    def _typed(p, t: KatibTrial) -> Any:
        s = t.assignment[p.name]
        if p.type == ParameterType.INT:
            return int(s)
        if p.type == ParameterType.DOUBLE:
            return float(s)
        return s

    def _grid_id(self, params: Mapping[str, Any]) -> int | None:
        sampler = self.study.sampler
        if self._grid_ids is None:
            self._grid_ids = {tuple(str(v) for v in g): i for i, g in enumerate(sampler._all_grids)}  # type: ignore[attr-defined]
        names = sampler._param_names  # type: ignore[attr-defined]
        return self._grid_ids.get(tuple(str(params[n]) for n in names))

    def tell_failed(self, names_and_keys: Sequence[tuple[str, Mapping[str, str]]]) -> None:
        """Corrected: trials that ended without a value are told failed (Katib leaves them RUNNING)."""
        for name, assignment in names_and_keys:
            if name in self.recorded:
                continue
            numbers = self.assignments_to_number[assignments_key(assignment)]
            if numbers:
                self.recorded.add(name)
                self._tell_ignoring_stop(numbers.pop(0), None, state=_optuna().trial.TrialState.FAIL)

    # -- asking ------------------------------------------------------------------------------------
    def _unasked_grid_points(self) -> int:
        sampler = self.study.sampler
        asked = {t.system_attrs.get("grid_id") for t in self.study.get_trials(deepcopy=False)}
        return len(sampler._all_grids) - len(asked - {None})  # type: ignore[attr-defined]

    def ask(self, count: int) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        if count <= 0:
            return out
        dists = optuna_distributions(self.space, self.corrected, self.algorithm == GRID)  # Katib builds them on every ask
        for _ in range(count):
            if self.corrected and self.algorithm == GRID and self._unasked_grid_points() == 0:
                raise GridExhausted(
                    f"grid exhausted: all {len(self.study.sampler._all_grids)} search combinations have been "  # type: ignore[attr-defined]
                    f"suggested ({len(out)} left of the {count} requested)", out)
            trial = self.study.ask(fixed_distributions=dists)
            params = dict(trial.params)
            out.append(params)
            self.assignments_to_number[assignments_key(params)].append(trial.number)
        return out

    def get_suggestions(self, trials: Sequence[KatibTrial], count: int) -> list[dict[str, Any]]:
        """Katib's ``get_suggestions``: tell (when trials were sent), then ask ``count`` times."""
        with quiet():
            if trials:
                self.tell(trials)
            return self.ask(count)
